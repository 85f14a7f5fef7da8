"""Abandoned-turn recovery, run by the workers themselves (not RQ's 10-minute maintenance).

A turn job whose worker died (SIGKILL, OOM, power loss) stays in RQ's StartedJobRegistry until
its heartbeat lease runs out and RQ's maintenance gets round to it: minutes. Instead, every
ideaforge worker keeps a short-lived liveness key fresh (`{p}:worker:{name}:alive`), and a
maintenance thread scans the started registry every few seconds: a turn job whose worker's key
has expired is taken out of the registry (ZREM decides which worker recovers it) and enqueued
again for the run's current step. The compare-and-set commit makes the duplicate harmless when
the old work horse is still alive as an orphan (RQ's horse calls setpgrp, so it can survive its
parent) and commits first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import redis
import structlog
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import parse_composite_key

from agents.errors import TerminalError
from config.settings import Settings
from workers.queue import enqueue_turn, make_queue
from workers.store.keys import Keys, parse_turn_job_id
from workers.store.runs import RunStore

log = structlog.get_logger("ideaforge.recovery")
OURS = "ideaforge"


@dataclass
class RecoveryReport:
    requeued: list[str] = field(default_factory=list)  # job ids enqueued again
    dropped: list[str] = field(default_factory=list)  # abandoned entries whose turn was already done


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode() if isinstance(raw, bytes) else raw


def beat(client: redis.Redis, keys: Keys, worker_name: str, settings: Settings) -> None:
    """Mark this worker alive for `worker_dead_after_s` seconds."""
    client.set(keys.worker_alive(worker_name), "1", px=int(settings.worker_dead_after_s * 1000))


def worker_alive(client: redis.Redis, keys: Keys, worker_name: str) -> bool:
    """Ours: the liveness key exists. Another kind of RQ worker: RQ's worker hash lives, without `death`."""
    if not worker_name:
        return False
    if client.exists(keys.worker_alive(worker_name)):
        return True
    if client.sismember(keys.workers, worker_name):
        return False  # one of ours whose liveness key expired: dead
    rq_key = f"rq:worker:{worker_name}"
    return bool(client.exists(rq_key)) and not client.hexists(rq_key, "death")


def _worker_of(client: redis.Redis, job_id: str, execution_id: str) -> str:
    name = _text(client.hget(f"rq:execution:{job_id}:{execution_id}", "worker_name"))
    return name or _text(client.hget(f"rq:job:{job_id}", "worker_name"))


def recover_abandoned(client: redis.Redis, settings: Settings) -> RecoveryReport:
    """Re-enqueue the current step of every run whose turn job's worker is dead."""
    keys = Keys(settings.key_prefix)
    queue = make_queue(client, settings)
    registry = StartedJobRegistry(queue=queue, serializer=JSONSerializer)
    store = RunStore(client, keys, settings.elo_min_matches)
    report = RecoveryReport()
    entries: list[bytes] = client.zrange(registry.key, 0, -1)  # type: ignore[assignment]
    for entry in entries:
        composite = _text(entry)
        job_id, execution_id = parse_composite_key(composite)
        turn = parse_turn_job_id(job_id)
        if turn is None or worker_alive(client, keys, _worker_of(client, job_id, execution_id)):
            continue
        if not client.zrem(registry.key, composite):
            continue  # another worker's recovery pass took it
        run_id, step = turn
        try:
            state = store.load(run_id)
        except TerminalError:
            report.dropped.append(job_id)
            continue
        if state.step != step or state.terminal:
            report.dropped.append(job_id)  # the turn was committed before its worker died
            _finish_stale(client, job_id)
            continue
        enqueue_turn(queue, settings, run_id, step, at_front=True)  # it has waited longest
        report.requeued.append(job_id)
        log.warning("turn.recovered", run_id=run_id, step=step, job_id=job_id, reason="worker dead")
    return report


def _finish_stale(client: redis.Redis, job_id: str) -> None:
    try:
        job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
    except Exception:
        return
    job.delete(remove_from_queue=False)


class Maintenance(threading.Thread):
    """The worker's liveness beat and recovery pass, in a daemon thread with its own connection."""

    def __init__(self, settings: Settings, worker_name: str) -> None:
        super().__init__(name=f"ideaforge-maintenance-{worker_name}", daemon=True)
        self.settings = settings
        self.worker_name = worker_name
        self.keys = Keys(settings.key_prefix)
        # A separate pool: the work horse is forked from the main thread and must never inherit
        # a connection this thread is using.
        self.client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)
        self._stop_event = threading.Event()
        self.last_report = RecoveryReport()

    def register(self) -> None:
        with self.client.pipeline() as pipe:
            pipe.sadd(self.keys.workers, self.worker_name)
            pipe.set(
                self.keys.worker_alive(self.worker_name),
                "1",
                px=int(self.settings.worker_dead_after_s * 1000),
            )
            pipe.execute()

    def unregister(self) -> None:
        self._stop_event.set()
        try:
            with self.client.pipeline() as pipe:
                pipe.srem(self.keys.workers, self.worker_name)
                pipe.delete(self.keys.worker_alive(self.worker_name))
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("worker.unregister_failed", worker=self.worker_name, error=str(exc))
        self.client.close()

    def run(self) -> None:
        next_pass = 0.0
        down_since: float | None = None
        while not self._stop_event.is_set():
            try:
                beat(self.client, self.keys, self.worker_name, self.settings)
                now = time.monotonic()
                if now >= next_pass:
                    next_pass = now + self.settings.recovery_interval_s
                    self.last_report = recover_abandoned(self.client, self.settings)
                if down_since is not None:
                    log.warning(
                        "redis.reconnected", worker=self.worker_name, after_s=round(now - down_since, 1)
                    )
                    down_since = None
            except redis.RedisError as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("redis.unavailable", worker=self.worker_name, error=str(exc), retry_in_s=1)
            except Exception as exc:
                log.error("recovery.error", worker=self.worker_name, error=f"{type(exc).__name__}: {exc}")
            self._stop_event.wait(self.settings.worker_heartbeat_s)
