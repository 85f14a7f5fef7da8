"""The RQ queue: JSON payloads only (never pickle), one job per agent turn."""

from __future__ import annotations

import re

import redis
from redis.client import Pipeline
from rq import Callback, Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer

from agents.errors import InvalidPayload
from agents.state import RunState
from config.settings import Settings
from workers.gate import ON_TURN_FAILURE, TAKE_TURN, GatedJob

_TURN_JOB_ID = re.compile(r"^turn-([A-Za-z0-9-]{1,64})-(\d{1,9})$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def check_queue_name(name: str) -> str:
    """`name` if it can name a turn queue (1-100 of letters, digits and `._:-`, starting with a
    letter or digit); raises InvalidPayload otherwise."""
    if not isinstance(name, str) or not _QUEUE_NAME.match(name):
        raise InvalidPayload(
            f"a queue name is 1-100 letters, digits, '.', '_', ':' or '-' (starting with a letter or "
            f"digit), got {name!r}"
        )
    return name


def make_queue(client: redis.Redis, settings: Settings, name: str | None = None) -> Queue:
    """The RQ turn queue `name` (default `settings.queue_name`), JSON payloads, gated jobs."""
    return Queue(
        name or settings.queue_name,
        connection=client,
        serializer=JSONSerializer,
        job_class=GatedJob,
        default_timeout=settings.job_timeout_s,
    )


def run_queue(client: redis.Redis, settings: Settings, state: RunState) -> Queue:
    """The queue every turn of `state`'s run goes on: the one it was submitted to (`state.queue`;
    the configured default for a run stored before runs had their own)."""
    return make_queue(client, settings, state.queue)


def turn_retry(settings: Settings) -> Retry | None:
    if settings.turn_retries <= 0:
        return None
    return Retry(max=settings.turn_retries, interval=list(settings.turn_retry_intervals_s) or 0)


def enqueue_turn(
    queue: Queue,
    settings: Settings,
    run_id: str,
    step: int,
    pipeline: Pipeline | None = None,
    *,
    at_front: bool = False,
) -> Job:
    """Enqueue `take_turn(run_id, step)`; inside `pipeline`, it lands only if the pipeline executes."""
    return queue.enqueue_call(
        TAKE_TURN,
        args=(run_id, step),
        job_id=turn_job_id(run_id, step),
        timeout=settings.job_timeout_s,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        retry=turn_retry(settings),
        on_failure=Callback(ON_TURN_FAILURE),
        description=f"turn {step} of run {run_id}",
        pipeline=pipeline,
        at_front=at_front,
    )


def turn_job_id(run_id: str, step: int) -> str:
    """RQ job ids allow only [A-Za-z0-9_-]; run ids are hex."""
    return f"turn-{run_id}-{step}"


def parse_turn_job_id(job_id: str) -> tuple[str, int] | None:
    """(run_id, step) from a turn job id, or None for any other job."""
    match = _TURN_JOB_ID.match(job_id)
    return (match.group(1), int(match.group(2))) if match else None
