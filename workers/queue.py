"""The RQ queue: JSON payloads only (never pickle), one job per agent turn."""

from __future__ import annotations

import redis
from redis.client import Pipeline
from rq import Callback, Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer

from config.settings import Settings
from workers.gate import ON_TURN_FAILURE, TAKE_TURN, GatedJob
from workers.store.keys import turn_job_id


def make_queue(client: redis.Redis, settings: Settings) -> Queue:
    return Queue(
        settings.queue_name,
        connection=client,
        serializer=JSONSerializer,
        job_class=GatedJob,
        default_timeout=settings.job_timeout_s,
    )


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
