"""Start an RQ worker on the turn queue with the JSON serializer and logging set up.

Equivalent plain command: `rq worker ideaforge-turns --serializer rq.serializers.JSONSerializer
--url $REDIS_URL --with-scheduler` (the scheduler moves retries with backoff back onto the queue).
"""

from __future__ import annotations

import gc

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

import workers.jobs  # noqa: F401  (imported before forking: work horses start warm)
from agents.warmup import warm_up
from config.logging import configure_logging
from config.settings import Settings, get_settings
from workers.connection import connect
from workers.queue import make_queue


def build_worker(
    settings: Settings | None = None, *, simple: bool = False, name: str | None = None
) -> Worker:
    settings = settings or get_settings()
    warm_up()  # lazy imports and the TLS context, once, before forking: not once per job
    gc.freeze()  # a forked work horse's collections then skip (and never copy-on-write) all of the above
    client = connect(settings.redis_url)
    cls = SimpleWorker if simple else Worker
    return cls([make_queue(client, settings)], connection=client, serializer=JSONSerializer, name=name)


def run_worker(settings: Settings | None = None, *, burst: bool = False, simple: bool = False) -> bool:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker = build_worker(settings, simple=simple)
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level))


if __name__ == "__main__":
    run_worker()
