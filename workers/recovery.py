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

from agents.errors import TerminalError
from config.settings import Settings
from workers.queue import enqueue_turn, make_queue, parse_turn_job_id
from workers.store.keys import Keys
from workers.store.queue import StartedTurns
from workers.store.runs import RunStore
from workers.store.workers import WorkerLiveness

log = structlog.get_logger("ideaforge.recovery")


@dataclass
class RecoveryReport:
    requeued: list[str] = field(default_factory=list)  # job ids enqueued again
    dropped: list[str] = field(default_factory=list)  # abandoned entries whose turn was already done


def liveness(client: redis.Redis, settings: Settings) -> WorkerLiveness:
    """The liveness keys of `settings`: a beat keeps a worker alive `worker_dead_after_s` seconds."""
    return WorkerLiveness(client, Keys(settings.key_prefix), int(settings.worker_dead_after_s * 1000))


def recover_abandoned(client: redis.Redis, settings: Settings) -> RecoveryReport:
    """Re-enqueue the current step of every run whose turn job's worker is dead."""
    queue = make_queue(client, settings)
    started = StartedTurns(client, settings)
    workers = liveness(client, settings)
    store = RunStore.from_settings(settings, client)
    report = RecoveryReport()
    for entry, job_id in started.entries():
        turn = parse_turn_job_id(job_id)
        if turn is None:
            continue
        name = started.worker_of(entry)
        if name:
            ours = workers.alive(name)
            if ours or (ours is None and started.rq_worker_alive(name)):
                continue
        if not started.take(entry):
            continue  # another worker's recovery pass took it
        run_id, step = turn
        try:
            state = store.load(run_id)
        except TerminalError:
            report.dropped.append(job_id)
            continue
        if state.step != step or state.terminal:
            report.dropped.append(job_id)  # the turn was committed before its worker died
            started.finish_stale(job_id)
            continue
        enqueue_turn(queue, settings, run_id, step, at_front=True)  # it has waited longest
        report.requeued.append(job_id)
        log.warning("turn.recovered", run_id=run_id, step=step, job_id=job_id, reason="worker dead")
    return report


class Maintenance(threading.Thread):
    """The worker's liveness beat and recovery pass, in a daemon thread with its own connection."""

    def __init__(self, settings: Settings, worker_name: str) -> None:
        super().__init__(name=f"ideaforge-maintenance-{worker_name}", daemon=True)
        self.settings = settings
        self.worker_name = worker_name
        # A separate pool: the work horse is forked from the main thread and must never inherit
        # a connection this thread is using.
        self.client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)
        self.workers = liveness(self.client, settings)
        self._stop_event = threading.Event()
        self.last_report = RecoveryReport()

    def register(self) -> None:
        self.workers.register(self.worker_name)

    def unregister(self) -> None:
        self._stop_event.set()
        try:
            self.workers.unregister(self.worker_name)
        except redis.RedisError as exc:
            log.warning("worker.unregister_failed", worker=self.worker_name, error=str(exc))
        self.client.close()

    def run(self) -> None:
        next_pass = 0.0
        down_since: float | None = None
        while not self._stop_event.is_set():
            try:
                self.workers.beat(self.worker_name)
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
