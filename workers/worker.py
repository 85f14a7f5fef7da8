"""Start an RQ worker on the turn queue with the JSON serializer, logging and turn recovery set up.

Equivalent plain command: `rq worker ideaforge-turns --worker-class workers.worker.TurnWorker
--serializer rq.serializers.JSONSerializer --url $REDIS_URL --with-scheduler` (the scheduler moves
retries with backoff back onto the queue; `TurnWorker` imports the job code before forking, so
each work horse starts warm instead of importing autogen again, and runs the liveness beat and
abandoned-turn recovery of workers/recovery.py).
"""

from __future__ import annotations

import gc
from typing import Any

from rq import SimpleWorker, Worker
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


class _RecoveringMixin:
    """Start the maintenance thread when the worker registers, stop it when it dies."""

    name: str
    _maintenance: Maintenance | None = None

    def register_birth(self) -> None:
        super().register_birth()  # type: ignore[misc]
        self._maintenance = Maintenance(get_settings(), self.name)
        self._maintenance.register()
        self._maintenance.start()

    def register_death(self) -> None:
        if self._maintenance is not None:
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
    settings = settings or get_settings()
    client = connect(settings.redis_url)
    queues = [make_queue(client, settings)]
    if simple:
        return SimpleTurnWorker(queues, connection=client, serializer=JSONSerializer, name=name)
    return TurnWorker(queues, connection=client, serializer=JSONSerializer, name=name)


def run_worker(settings: Settings | None = None, *, burst: bool = False, simple: bool = False) -> bool:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker = build_worker(settings, simple=simple)
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level))


if __name__ == "__main__":
    run_worker()
