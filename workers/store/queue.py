"""What RQ's own registries say about the turn queue, read through RQ's API (never its key names).

- `queue_report(client, settings)`: depths, workers and their current turn, failed turns (the
  dashboard's queues page and `GET /queues`).
- `StartedTurns`: the started-job registry as the recovery pass needs it (entries, which worker
  runs each, take an entry over, finish a stale job).
"""

from __future__ import annotations

from typing import Any

import redis
from rq import Worker
from rq.executions import Execution
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
from rq.utils import parse_composite_key

from config.settings import Settings
from workers.queue import make_queue
from workers.store import as_text

MAX_FAILED = 50


def _job_turn(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    try:  # a job the gate refused may hold anything (pickle, garbage): show it, never fail on it
        raw_args = job.args
    except Exception:
        raw_args = None
    args = list(raw_args) if isinstance(raw_args, list | tuple) else []
    return {
        "job_id": job.id,
        "run_id": args[0] if args and isinstance(args[0], str) else None,
        "step": args[1] if len(args) > 1 and isinstance(args[1], int) else None,
        "description": job.description,
    }


def _error(job: Job) -> str:
    """The last line of the job's latest failure (RQ's results), or "unknown error"."""
    result = job.latest_result()
    text = result.exc_string if result is not None and result.type == Result.Type.FAILED else None
    lines = [line for line in str(text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def queue_report(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """The turn queue now, as JSON-ready data:
    `{"queue": name, "depths": {queued, started, scheduled, deferred, failed, finished: int},
    "workers": [{name, state, hostname, pid, last_heartbeat (ISO 8601 | None), current_turn}],
    "failed": [{job_id, run_id, step, description, ended_at (ISO 8601 | None), error}]}`
    (the newest MAX_FAILED failed turns; a turn is `{job_id, run_id, step, description}`)."""
    queue = make_queue(client, settings)

    def fetch(ids: list[str]) -> list[Job | None]:  # the gated class: a malformed hash does not raise
        return queue.job_class.fetch_many(ids, connection=client, serializer=JSONSerializer)

    failed_registry = FailedJobRegistry(queue=queue, job_class=queue.job_class)
    depths = {
        "queued": queue.count,
        "started": StartedJobRegistry(queue=queue, job_class=queue.job_class).count,
        "scheduled": ScheduledJobRegistry(queue=queue, job_class=queue.job_class).count,  # type: ignore[no-untyped-call]
        "deferred": DeferredJobRegistry(queue=queue, job_class=queue.job_class).count,
        "failed": failed_registry.count,
        "finished": FinishedJobRegistry(queue=queue, job_class=queue.job_class).count,
    }
    workers = []
    for worker in Worker.all(connection=client, queue=queue, serializer=JSONSerializer):
        job_id = worker.get_current_job_id()
        job = fetch([job_id])[0] if job_id else None
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
    for job in fetch(failed_ids):
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


def queue_depth(client: redis.Redis, settings: Settings) -> tuple[str, int]:
    """(queue name, turns waiting on it)."""
    queue = make_queue(client, settings)
    return queue.name, queue.count


class StartedTurns:
    """The turn queue's started-job registry, for the abandoned-turn recovery pass."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.r = client
        queue = make_queue(client, settings)
        self.registry = StartedJobRegistry(queue=queue, serializer=JSONSerializer, job_class=queue.job_class)

    def entries(self) -> list[tuple[str, str]]:
        """The registry's entries as (entry, job id), oldest first; no cleanup."""
        raw: Any = self.r.zrange(self.registry.key, 0, -1)
        return [(entry, parse_composite_key(entry)[0]) for entry in map(as_text, raw)]

    def take(self, entry: str) -> bool:
        """Remove `entry` from the registry; True for the one caller that removed it."""
        return bool(self.r.zrem(self.registry.key, entry))

    def worker_of(self, entry: str) -> str:
        """The name of the worker running `entry` ("" if unknown)."""
        job_id, execution_id = parse_composite_key(entry)
        try:
            name = Execution.fetch(execution_id, job_id, self.r).worker_name
        except ValueError:  # the execution's hash expired
            name = ""
        return name or as_text(self.r.hget(Job.key_for(job_id), "worker_name"))

    def rq_worker_alive(self, name: str) -> bool:
        """An RQ worker not of ours: its worker hash lives and has no death date."""
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=self.r)
        return worker is not None and worker.death_date is None

    def finish_stale(self, job_id: str) -> None:
        """Delete a turn job whose turn was committed before its worker died (best effort)."""
        try:
            job = Job.fetch(job_id, connection=self.r, serializer=JSONSerializer)
        except Exception:
            return
        job.delete(remove_from_queue=False)
