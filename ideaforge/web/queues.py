"""What the turn queue looks like right now, read from RQ's own registries."""

from __future__ import annotations

from typing import Any

import redis
from rq import Worker
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.results import Result
from rq.serializers import JSONSerializer

from config.settings import Settings
from workers.queue import make_queue

MAX_FAILED = 50


def _job_turn(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    args = list(job.args) if isinstance(job.args, list | tuple) else []
    return {
        "job_id": job.id,
        "run_id": args[0] if args and isinstance(args[0], str) else None,
        "step": args[1] if len(args) > 1 and isinstance(args[1], int) else None,
        "description": job.description,
    }


def _error(job: Job) -> str:
    result = job.latest_result()
    text = result.exc_string if result is not None and result.type == Result.Type.FAILED else None
    text = text or job._exc_info or ""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def queue_report(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """Depths, workers with the turn each is running, and failed turns with their error."""
    queue = make_queue(client, settings)
    failed_registry = FailedJobRegistry(queue=queue, job_class=queue.job_class)
    depths = {
        "queued": queue.count,
        "started": StartedJobRegistry(queue=queue, job_class=queue.job_class).count,
        "scheduled": ScheduledJobRegistry(queue=queue, job_class=queue.job_class).count,
        "deferred": DeferredJobRegistry(queue=queue, job_class=queue.job_class).count,
        "failed": failed_registry.count,
        "finished": FinishedJobRegistry(queue=queue, job_class=queue.job_class).count,
    }
    workers = []
    for worker in Worker.all(connection=client, queue=queue, serializer=JSONSerializer):
        job_id = worker.get_current_job_id()
        job = Job.fetch_many([job_id], connection=client, serializer=JSONSerializer)[0] if job_id else None
        workers.append(
            {
                "name": worker.name,
                "state": str(worker.get_state()),
                "hostname": worker.hostname,
                "pid": worker.pid,
                "last_heartbeat": worker.last_heartbeat.isoformat() if worker.last_heartbeat else None,
                "current_turn": _job_turn(job),
            }
        )
    failed_ids = failed_registry.get_job_ids(0, MAX_FAILED - 1)
    failed = []
    for job in Job.fetch_many(failed_ids, connection=client, serializer=JSONSerializer):
        if job is None:
            continue
        failed.append(
            {
                **(_job_turn(job) or {}),
                "ended_at": job.ended_at.isoformat() if job.ended_at else None,
                "error": _error(job),
            }
        )
    return {"queue": queue.name, "depths": depths, "workers": workers, "failed": failed}
