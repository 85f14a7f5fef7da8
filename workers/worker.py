"""Start an RQ worker on the turn queue with the JSON serializer and logging set up.

Equivalent plain command: `rq worker ideaforge-turns --worker-class workers.worker.TurnWorker
--serializer rq.serializers.JSONSerializer --url $REDIS_URL --with-scheduler` (the scheduler moves
retries with backoff back onto the queue; `TurnWorker` imports the job code before forking, so
each work horse starts warm instead of importing autogen again).
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
from workers.novelty import preload
from workers.queue import make_queue
from workers.runtime import warm_turn_context


class TurnWorker(Worker):
    """A forking RQ worker that warms the turn code up once, before it forks work horses.

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


def build_worker(
    settings: Settings | None = None, *, simple: bool = False, name: str | None = None
) -> BaseWorker:
    settings = settings or get_settings()
    client = connect(settings.redis_url)
    queues = [make_queue(client, settings)]
    if simple:
        return SimpleWorker(queues, connection=client, serializer=JSONSerializer, name=name)
    return TurnWorker(queues, connection=client, serializer=JSONSerializer, name=name)


def run_worker(settings: Settings | None = None, *, burst: bool = False, simple: bool = False) -> bool:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker = build_worker(settings, simple=simple)
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level))


if __name__ == "__main__":
    run_worker()
