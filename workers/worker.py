"""Start an RQ worker on a turn queue with the JSON serializer, logging and turn recovery set up.

Equivalent plain command: `rq worker ideaforge-turns --worker-class workers.worker.TurnWorker
--serializer rq.serializers.JSONSerializer --url $REDIS_URL`. A `TurnWorker` always runs RQ's
scheduler (`--with-scheduler` or not: it moves retries with backoff back onto the queue, and a
turn retried with an interval would otherwise wait forever); it imports the job code before
forking, so each work horse starts warm instead of importing autogen again, and runs the
liveness beat, abandoned-turn recovery and reconcile sweep of workers/recovery.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import time
from typing import Any

import redis
import structlog
from rq import Queue, SimpleWorker, Worker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from rq.worker.base import BaseWorker

import workers.jobs  # noqa: F401  (imported before forking: work horses start warm)
from agents.warmup import warm_up
from config.logging import configure_logging
from config.settings import Settings, get_settings
from workers.connection import connect
from workers.gate import GatedWorkerMixin
from workers.novelty import preload
from workers.queue import make_queue
from workers.recovery import Maintenance
from workers.runtime import warm_turn_context
from workers.store.queue import register_queue

log = structlog.get_logger("ideaforge.worker")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class _WorkerScheduler(RQScheduler):
    """RQ's scheduler process, bound to the worker that forked it: when that worker dies (even by
    SIGKILL) the kernel sends it SIGTERM, and it stops and releases its scheduler locks at once
    instead of holding them, orphaned, for minutes."""

    def work(self) -> None:
        parent = os.getppid()
        with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere RQ's lock TTL
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # RQ's loop installs the SIGTERM handler: a stop request, then the lock release
        super().work()  # type: ignore[no-untyped-call]
        if os.getppid() != parent:
            log.warning("scheduler.orphaned", worker_pid=parent)


class _RecoveringMixin:
    """Start the maintenance thread when the worker registers, stop it when it dies; always run a
    scheduler (bound to this worker) for the turns retried with an interval."""

    name: str
    queues: list[Queue]
    connection: redis.Redis
    serializer: Any
    log: Any
    scheduler: RQScheduler | None
    _maintenance: Maintenance | None = None

    _stop_requested: bool
    _last_outage: float | None = None

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """RQ's `work`, always `with_scheduler` (`rq worker -w workers.worker.TurnWorker` without
        `--with-scheduler` too): without one, a turn retried with an interval never runs again.

        RQ's loop quits on a Redis error outside its dequeue (a heartbeat while a turn runs, longer
        than the client's retry window): unless a stop was asked for, this worker then waits for
        Redis and starts again (a new birth, a new scheduler) instead of leaving its queue unserved."""
        kwargs["with_scheduler"] = True
        burst = bool(kwargs.get("burst", args[0] if args else False))
        worked = False
        while True:
            try:
                worked = bool(super().work(*args, **kwargs)) or worked  # type: ignore[misc]
            except redis.RedisError as exc:  # RQ's teardown, with Redis still down
                self._last_outage = time.monotonic()
                log.warning("worker.redis_lost", worker=self.name, error=str(exc))
            if burst or self._stop_requested or not self._lost_redis():
                return worked
            self._await_redis()
            log.warning("worker.restarting", worker=self.name, reason="Redis was unreachable")

    def _lost_redis(self) -> bool:
        """Redis is unreachable now, or was within the last minute (the maintenance thread saw it)."""
        if self._last_outage is not None and time.monotonic() - self._last_outage < 60:
            return True
        try:
            self.connection.ping()
        except redis.RedisError:
            return True
        return False

    def _await_redis(self) -> None:
        """Wait (polling every second, a stop request ends it) until Redis answers, then make sure
        the previous life's death is recorded, so that the next birth under this name is allowed."""
        while not self._stop_requested:
            try:
                self.connection.ping()
                super().register_death()  # type: ignore[misc]
                return
            except redis.RedisError:
                time.sleep(1.0)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        # RQ's own `_start_scheduler`, with the scheduler bound to this worker (`_WorkerScheduler`)
        self.scheduler = _WorkerScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()  # type: ignore[no-untyped-call]
        if not self.scheduler.acquired_locks:
            return
        if burst:
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
            finally:
                self.scheduler.release_locks()  # type: ignore[no-untyped-call]
                self.scheduler.register_death()
        else:
            self.scheduler.start()  # type: ignore[no-untyped-call]

    def register_birth(self) -> None:
        super().register_birth()  # type: ignore[misc]
        settings = get_settings()
        for queue in self.queues:  # recovery and the sweep cover every queue a worker serves
            register_queue(self.connection, settings, queue.name)
        self._maintenance = Maintenance(get_settings(), self.name)
        self._maintenance.register()
        self._maintenance.start()

    def register_death(self) -> None:
        if self._maintenance is not None:
            self._last_outage = self._maintenance.last_outage
            self._maintenance.unregister()
            self._maintenance = None
        super().register_death()  # type: ignore[misc]


class TurnWorker(GatedWorkerMixin, _RecoveringMixin, Worker):
    """A forking RQ worker that warms the turn code up once, before it forks work horses, and
    recovers turns abandoned by dead workers.

    The warm-up pays the lazy imports, the TLS context and the embedding model once instead of
    once per job, and `gc.freeze()` keeps each forked work horse's collections off (and from
    copying) that heap.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warm_up()
        preload(get_settings())
        warm_turn_context(get_settings())
        gc.freeze()
        super().__init__(*args, **kwargs)


class SimpleTurnWorker(GatedWorkerMixin, _RecoveringMixin, SimpleWorker):
    """Turns run in the worker's own process; same recovery."""


def build_worker(
    settings: Settings | None = None, *, simple: bool = False, name: str | None = None
) -> BaseWorker:
    """A turn worker on `settings.queue_name` (set it, or IDEAFORGE_QUEUE_NAME, to serve another
    queue); `simple`: turns run in the worker's own process."""
    settings = settings or get_settings()
    client = connect(settings.redis_url)
    queues = [make_queue(client, settings)]
    if simple:
        return SimpleTurnWorker(queues, connection=client, serializer=JSONSerializer, name=name)
    return TurnWorker(queues, connection=client, serializer=JSONSerializer, name=name)


def run_worker(settings: Settings | None = None, *, burst: bool = False, simple: bool = False) -> bool:
    """Run a turn worker on `settings.queue_name` until stopped (with `burst`, until it is empty)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker = build_worker(settings, simple=simple)
    return bool(worker.work(burst=burst, logging_level=settings.log_level))


if __name__ == "__main__":
    run_worker()
