"""What RQ's own registries say about the turn queue, read through RQ's API (never its key names).

- `queue_report(client, settings)`: depths, workers and their current turn, failed turns (the
  dashboard's queues page and `GET /queues`).
- `StartedTurns`: the started-job registry as the recovery pass needs it (entries, which worker
  runs each, take an entry over, finish a stale job).
- `turn_queues`, `register_queue`: the set of queues ideaforge turns go on (`Keys.queues`).
- `turn_whereabouts`, `promote_due`, `requeue_stuck_dequeues`, `forget_turn_job`, `drop_idle_queue`:
  what the reconcile sweep asks and does.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from rq import Queue, Worker
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
from workers.store.keys import Keys

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


def register_queue(client: redis.Redis, settings: Settings, name: str) -> None:
    """Note that ideaforge turns go on queue `name` (a worker serving it, a run submitted to it)."""
    client.sadd(Keys(settings.key_prefix).queues, name)


def claim_sweep(client: redis.Redis, settings: Settings, ttl_s: float) -> bool:
    """True for the one caller that runs the reconcile sweep for the next `ttl_s` seconds."""
    return bool(client.set(Keys(settings.key_prefix).sweep_lock, "1", nx=True, px=max(1, int(ttl_s * 1000))))


def turn_queues(client: redis.Redis, settings: Settings) -> list[str]:
    """Every queue ideaforge turns go on: the configured one, then the registered ones, sorted."""
    raw: Any = client.smembers(Keys(settings.key_prefix).queues)
    return [settings.queue_name, *sorted({as_text(n) for n in raw} - {settings.queue_name})]


def turn_whereabouts(queue: Queue, job_id: str) -> str | None:
    """Where turn job `job_id` of `queue` is, read in one MULTI/EXEC snapshot: "queued" (on the
    queue, or being dequeued), "started", "scheduled" (a retry waiting in the scheduled registry),
    "deferred"; None when it is in none of them (its hash deleted, taken off the queue, or ended:
    finished, failed, stopped, cancelled)."""
    client = queue.connection
    scheduled = ScheduledJobRegistry(queue=queue, job_class=queue.job_class)  # type: ignore[no-untyped-call]
    with client.pipeline(transaction=True) as pipe:
        pipe.hget(Job.key_for(job_id), "status")
        pipe.lpos(queue.key, job_id)
        pipe.lpos(queue.intermediate_queue_key, job_id)
        pipe.zscore(scheduled.key, job_id)
        status_raw, on_queue, dequeuing, when = pipe.execute()
    status = as_text(status_raw) if status_raw is not None else None
    if status == "queued" and (on_queue is not None or dequeuing is not None):
        return "queued"
    if status == "scheduled" and when is not None:
        return "scheduled"
    if status in ("started", "deferred"):
        return status
    return None


def forget_turn_job(queue: Queue, job_id: str) -> None:
    """Take `job_id` out of the queue's scheduled, failed and finished registries (before it is
    enqueued again under the same id)."""
    kinds = (ScheduledJobRegistry, FailedJobRegistry, FinishedJobRegistry)
    with queue.connection.pipeline() as pipe:
        for kind in kinds:
            pipe.zrem(kind(queue=queue, job_class=queue.job_class).key, job_id)
        pipe.execute()


def drop_idle_queue(client: redis.Redis, settings: Settings, name: str) -> bool:
    """Take queue `name` out of the set of turn queues (never the configured one) when nothing waits,
    runs or is scheduled on it and no run that has not stopped uses it, so that the queues of
    finished `ideaforge run`s do not pile up. WATCHes the active-run index and the queue's keys: a
    submit to the queue meanwhile keeps it (the submit adds it again in any case). True if dropped."""
    if name == settings.queue_name:
        return False
    keys = Keys(settings.key_prefix)
    queue = make_queue(client, settings, name)
    registries = [
        StartedJobRegistry(queue=queue, job_class=queue.job_class).key,
        ScheduledJobRegistry(queue=queue, job_class=queue.job_class).key,  # type: ignore[no-untyped-call]
        DeferredJobRegistry(queue=queue, job_class=queue.job_class).key,
    ]
    with client.pipeline() as pipe:
        try:
            pipe.watch(keys.runs_active, queue.key, queue.intermediate_queue_key, *registries)  # type: ignore[no-untyped-call]
            busy = pipe.llen(queue.key) or pipe.llen(queue.intermediate_queue_key)
            busy = busy or any(pipe.zcard(key) for key in registries)
            users: Any = [] if busy else pipe.hvals(keys.runs_active)
            if busy or any(json.loads(raw).get("queue") == name for raw in users):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.srem(keys.queues, name)
            pipe.execute()
            return True
        except redis.WatchError:
            return False


def requeue_stuck_dequeues(queue: Queue, stuck_s: float) -> list[str]:
    """Put back onto `queue` the jobs left in its intermediate list (a worker moved them there to
    start them, then lost Redis before it could) for more than `stuck_s` seconds, as seen by
    earlier calls (RQ's own first-seen marks; RQ itself looks only every 10 minutes). Returns the
    job ids put back."""
    intermediate = queue.intermediate_queue
    moved = []
    for job_id in intermediate.get_job_ids():
        if job_id in queue.started_job_registry or intermediate.set_first_seen(job_id):
            continue
        first_seen = intermediate.get_first_seen(job_id)
        if first_seen is None or time.time() - first_seen.timestamp() < stuck_s:
            continue
        if not queue.connection.lrem(intermediate.key, 1, job_id):
            continue  # its worker or another sweep got there first
        queue.connection.delete(intermediate.get_first_seen_key(job_id))
        job = queue.fetch_job(job_id)
        if job is not None:
            queue.enqueue_job(job)
            moved.append(job_id)
    return moved


def promote_due(queue: Queue, overdue_s: float) -> list[str]:
    """Move the turn retries of `queue` that are due since more than `overdue_s` seconds from its
    scheduled registry onto the queue, as RQ's scheduler would (the one that takes an id off the
    registry moves it, so several workers never move one twice); returns the job ids moved."""
    registry = ScheduledJobRegistry(queue=queue, job_class=queue.job_class)  # type: ignore[no-untyped-call]
    client = queue.connection
    raw: Any = client.zrangebyscore(registry.key, 0, time.time() - overdue_s, start=0, num=1000)
    moved = []
    for job_id in map(as_text, raw):
        if not client.zrem(registry.key, job_id):
            continue  # RQ's scheduler or another worker moved it
        job = queue.fetch_job(job_id)
        if job is None:
            continue
        queue.enqueue_job(job)
        moved.append(job_id)
    return moved


class StartedTurns:
    """A turn queue's started-job registry, for the abandoned-turn recovery pass."""

    def __init__(self, client: redis.Redis, settings: Settings, queue_name: str | None = None) -> None:
        self.r = client
        queue = make_queue(client, settings, queue_name)
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
