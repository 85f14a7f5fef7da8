"""Abandoned-turn recovery, run by the workers themselves (not RQ's 10-minute maintenance).

A turn job whose worker died (SIGKILL, OOM, power loss) stays in RQ's StartedJobRegistry until
its heartbeat lease runs out and RQ's maintenance gets round to it: minutes. Instead, every
ideaforge worker keeps a short-lived liveness key fresh (`{p}:worker:{name}:alive`), and a
maintenance thread scans the started registry every few seconds: a turn job whose worker's key
has expired is taken out of the registry (ZREM decides which worker recovers it) and enqueued
again for the run's current step. The compare-and-set commit makes the duplicate harmless when
the old work horse is still alive as an orphan (RQ's horse calls setpgrp, so it can survive its
parent) and commits first.

The same thread runs the reconcile sweep (`reconcile`, one worker per period): due retries that
RQ's scheduler did not move go onto their queue, and a run whose next turn is nowhere (deleted,
or its failure unrecorded while Redis was down) gets it enqueued again. `resume_run` does the
latter by hand (`ideaforge resume RUN`). Both cover every queue in `Keys.queues`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import redis
import structlog

from agents.errors import RunAlreadyFinished, TerminalError
from config.settings import Settings
from workers.queue import enqueue_turn, make_queue, parse_turn_job_id, run_queue, turn_job_id
from workers.store.keys import Keys
from workers.store.queue import (
    StartedTurns,
    claim_sweep,
    drop_idle_queue,
    forget_turn_job,
    promote_due,
    requeue_stuck_dequeues,
    turn_queues,
    turn_whereabouts,
)
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
    """Re-enqueue the current step of every run whose turn job's worker is dead, on every turn queue."""
    report = RecoveryReport()
    for name in turn_queues(client, settings):
        _recover_queue(client, settings, name, report)
    return report


def _recover_queue(client: redis.Redis, settings: Settings, queue_name: str, report: RecoveryReport) -> None:
    queue = make_queue(client, settings, queue_name)
    started = StartedTurns(client, settings, queue_name)
    workers = liveness(client, settings)
    store = RunStore.from_settings(settings, client)
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


@dataclass
class SweepReport:
    promoted: list[str] = field(default_factory=list)  # due retries and stuck dequeues put on their queue
    requeued: list[str] = field(default_factory=list)  # lost turns enqueued again
    dropped_queues: list[str] = field(default_factory=list)  # idle queues no run uses any more


def reconcile(client: redis.Redis, settings: Settings, now: float | None = None) -> SweepReport:
    """The reconcile sweep, once (cheap: one small index and a few reads per run not stopped).

    On every turn queue, retries due for more than `reconcile_overdue_s` that RQ's scheduler has not
    moved (it died on a Redis outage, or no worker runs one) go onto their queue, and so do jobs a
    worker took off the queue but lost Redis before starting (stuck that long in RQ's intermediate
    list). Then every run not
    stopped whose next turn (`turn-{run}-{step}`) is on no queue, registry or scheduled set, and
    that has not changed for `reconcile_grace_s`, gets that turn enqueued again on its own queue: a
    turn deleted from the queue, or one whose final failure could not be written while Redis was
    down. The compare-and-set commit makes a duplicate harmless. Queues that nothing uses any more
    leave the set of turn queues. `now`: Unix seconds."""
    now = time.time() if now is None else now
    report = SweepReport()
    for name in turn_queues(client, settings):
        queue = make_queue(client, settings, name)
        report.promoted += promote_due(queue, settings.reconcile_overdue_s)
        report.promoted += requeue_stuck_dequeues(queue, settings.reconcile_overdue_s)
        if drop_idle_queue(client, settings, name):
            report.dropped_queues.append(name)
    for job_id in report.promoted:
        log.warning("turn.promoted", job_id=job_id, why="a due retry, or a dequeue its worker never finished")
    store = RunStore.from_settings(settings, client)
    for turn in store.active_turns():
        if now - turn.updated_at < settings.reconcile_grace_s:
            continue
        queue = make_queue(client, settings, turn.queue)
        job_id = turn_job_id(turn.run_id, turn.step)
        if turn_whereabouts(queue, job_id) is not None:
            continue
        forget_turn_job(queue, job_id)
        enqueue_turn(queue, settings, turn.run_id, turn.step)
        report.requeued.append(job_id)
        log.warning("turn.reconciled", run_id=turn.run_id, step=turn.step, queue=queue.name, why="lost")
    return report


@dataclass(frozen=True)
class Resumed:
    """What `resume_run` found and did: the run's next `step` on `queue`; `where` the turn already
    was ("queued", "started", "deferred"), or None when it was enqueued now."""

    run_id: str
    step: int
    queue: str
    where: str | None


def resume_run(client: redis.Redis, settings: Settings, run_id: str) -> Resumed:
    """Put a run's next turn on its queue now unless it waits or runs there already (a retry waiting
    in the scheduled registry is moved onto the queue). Raises RunNotFound, RunAlreadyFinished."""
    store = RunStore.from_settings(settings, client)
    state = store.load(run_id)
    if state.terminal:
        raise RunAlreadyFinished(f"run {run_id} has already stopped ({state.status.value})")
    queue = run_queue(client, settings, state)
    job_id = turn_job_id(run_id, state.step)
    where = turn_whereabouts(queue, job_id)
    if where in ("queued", "started", "deferred"):
        return Resumed(run_id, state.step, queue.name, where)
    forget_turn_job(queue, job_id)
    enqueue_turn(queue, settings, run_id, state.step)
    log.debug("turn.resumed", run_id=run_id, step=state.step, queue=queue.name, was=where)
    return Resumed(run_id, state.step, queue.name, None)


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
        self.last_sweep = SweepReport()
        self.last_outage: float | None = None  # time.monotonic() of the last beat Redis refused

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
                    if claim_sweep(self.client, self.settings, self.settings.recovery_interval_s * 0.8):
                        self.last_sweep = reconcile(self.client, self.settings)
                if down_since is not None:
                    log.warning(
                        "redis.reconnected", worker=self.worker_name, after_s=round(now - down_since, 1)
                    )
                    down_since = None
            except redis.RedisError as exc:
                self.last_outage = time.monotonic()
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("redis.unavailable", worker=self.worker_name, error=str(exc), retry_in_s=1)
            except Exception as exc:
                log.error("recovery.error", worker=self.worker_name, error=f"{type(exc).__name__}: {exc}")
            self._stop_event.wait(self.settings.worker_heartbeat_s)
