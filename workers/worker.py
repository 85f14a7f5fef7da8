"""Start an RQ worker on the turn queue with the JSON serializer, logging and turn recovery set up.

Equivalent plain command: `rq worker ideaforge-turns --serializer rq.serializers.JSONSerializer
--url $REDIS_URL --with-scheduler -w workers.worker.TurnWorker` (the scheduler moves retries with
backoff back onto the queue; `TurnWorker` runs the liveness beat and abandoned-turn recovery).
"""

from __future__ import annotations

from typing import Any, cast

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

import workers.jobs  # noqa: F401  (imported before forking: work horses start warm)
from agents.models import warm_up
from config.logging import configure_logging
from config.settings import Settings, get_settings
from workers.connection import connect
from workers.queue import make_queue
from workers.recovery import Maintenance


class _RecoveringMixin:
    """Start the maintenance thread when the worker registers, stop it when it dies."""

    name: str
    _maintenance: Maintenance | None = None

    def register_birth(self) -> None:
        super().register_birth()  # type: ignore[misc]
        warm_up()
        self._maintenance = Maintenance(get_settings(), self.name)
        self._maintenance.register()
        self._maintenance.start()

    def register_death(self) -> None:
        if self._maintenance is not None:
            self._maintenance.unregister()
            self._maintenance = None
        super().register_death()  # type: ignore[misc]


class TurnWorker(_RecoveringMixin, Worker):
    """A forking RQ worker (one work horse per turn) that recovers turns abandoned by dead workers."""


class SimpleTurnWorker(_RecoveringMixin, SimpleWorker):
    """The same, running turns in its own process."""


def build_worker(
    settings: Settings | None = None, *, simple: bool = False, name: str | None = None, **kwargs: Any
) -> Worker:
    settings = settings or get_settings()
    client = connect(settings.redis_url)
    cls = cast(type[Worker], SimpleTurnWorker if simple else TurnWorker)
    return cls(
        [make_queue(client, settings)], connection=client, serializer=JSONSerializer, name=name, **kwargs
    )


def run_worker(settings: Settings | None = None, *, burst: bool = False, simple: bool = False) -> bool:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker = build_worker(settings, simple=simple)
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level))


if __name__ == "__main__":
    run_worker()
