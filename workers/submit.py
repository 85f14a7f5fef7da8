"""Submission: a brief becomes a stored run whose first turn is on the queue, in one transaction.

Every public door submits through `Submitter.submit`: the facade (`workers.api.Ideaforge.submit`,
used by the CLI and the HTTP API) and queue intake (`workers.intake.submit_brief`); the scheduler
through `Submitter.submit_scheduled`.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from agents.brief import Brief, parse_brief
from agents.ids import new_run_id
from agents.state import TranscriptEvent, new_run_state
from config.settings import Settings
from workers.admission import check_public_brief, check_scheduled_brief
from workers.queue import check_queue_name, enqueue_turn, run_queue
from workers.store.runs import RunStore


class Submitter:
    """Submits briefs to `store` with `settings` (queue name, retries, default ledger namespace)."""

    def __init__(self, settings: Settings, store: RunStore) -> None:
        self.settings = settings
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis | None = None) -> Submitter:
        """A submitter on `RunStore.from_settings(settings, client)`."""
        return cls(settings, RunStore.from_settings(settings, client))

    def submit(self, brief: Brief | dict[str, Any], *, queue: str | None = None) -> str:
        """A public door's brief (CLI, HTTP, Python API, queue intake): validate it, refuse what only
        the operator may choose (workers/admission.py), store the run and enqueue its first turn
        atomically; returns the new run id. Every turn of the run goes on `queue` (default
        `settings.queue_name`), so only workers on that queue serve it. Raises InvalidBrief (the
        message names the field), InvalidPayload for a malformed queue name."""
        if queue is not None:
            check_queue_name(queue)
        if not isinstance(brief, Brief):
            brief = parse_brief(brief)
        check_public_brief(brief, self.settings)
        return self._store_new_run(brief, queue=queue)

    def submit_scheduled(self, brief: Brief, run_id: str | None = None) -> str:
        """The scheduler's door: like `submit`, for a brief carrying its schedule and slot; `run_id`
        is the id the slot's claim already holds (a fresh one if None)."""
        check_scheduled_brief(brief)
        return self._store_new_run(brief, run_id)

    def _store_new_run(self, brief: Brief, run_id: str | None = None, *, queue: str | None = None) -> str:
        """Store the run of a checked brief with its first turn enqueued on `queue` (default the
        configured one), in one transaction. A brief without a namespace gets the configured one."""
        if "namespace" not in brief.model_fields_set:  # the brief names none: the configured default
            brief = brief.model_copy(update={"namespace": self.settings.ledger_namespace})
        now = time.time()
        state = new_run_state(
            brief, run_id or new_run_id(), now
        )
        state.queue = queue or self.settings.queue_name
        created = TranscriptEvent(
            run_id=state.run_id,
            step=0,
            round=1,
            phase=state.phase.value,
            role="system",
            kind="system",
            content=f"run created: strategy {brief.strategy.value}, {brief.rounds} rounds, "
            f"{brief.ideas_per_round} ideas per round",
            ts=now,
        )
        turns = run_queue(self.store.r, self.settings, state)
        self.store.create(
            state, [created], lambda pipe: enqueue_turn(turns, self.settings, state.run_id, 0, pipeline=pipe)
        )
        return state.run_id
