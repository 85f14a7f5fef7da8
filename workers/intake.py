"""Briefs that arrive as queue jobs: `workers.intake.submit_brief(brief)` from any producer.

A producer in another language can enqueue this job (RQ's JSON serializer: the payload is
`["workers.intake.submit_brief", null, [<brief object>], {}]`) on the turn queue; the worker
validates the brief exactly like the CLI and the HTTP API do, stores the run and enqueues its
first turn. An invalid brief fails the job with the validation message and stores nothing.
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from agents.brief import parse_brief
from config.settings import get_settings
from workers.submit import Submitter


def submit_brief(brief: Any) -> str:
    """Validate and submit on the queue this job came from (its turns go there too); returns the new
    run id (the job's JSON result)."""
    job = get_current_job()
    queue = job.origin if job is not None else None
    return Submitter.from_settings(get_settings()).submit(parse_brief(brief), queue=queue)
