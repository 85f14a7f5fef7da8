"""The one scheduler process: RQ's cron scheduler (`rq.cron.CronScheduler`), fed from the YAML.

Why not plain `rq cron` with cron jobs per schedule (RQ 3.0, rq/cron.py):
- it matches cron fields against the *process's* local time zone; there is no per-job time zone;
- it enqueues each cron job with RQ's default serializer (pickle); ideaforge's queue is JSON only;
- every running `rq cron` process enqueues every due job: two processes fire everything twice.
So the scheduler registers one frequent tick (`workers.schedules.cron_config`) with RQ's cron
scheduler, runs it in this process (no pickled job), and the tick computes each schedule's due
slot in its own IANA time zone and fires it once (a Redis SET NX per schedule and slot). The
process still registers, heartbeats and shows up as an RQ cron scheduler (`rq:cron_schedulers`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import structlog
from rq.cron import CronJob, CronScheduler
from rq.utils import now

from config.settings import Settings
from workers.connection import check, connect
from workers.schedules.loader import load_schedules

CONFIG_MODULE = "workers.schedules.cron_config"
log = structlog.get_logger("ideaforge.scheduler")


@dataclass(frozen=True)
class SchedulerContext:
    settings: Settings


_active: SchedulerContext | None = None


def active_context() -> SchedulerContext | None:
    """Set while `ideaforge scheduler` loads its cron config; None under plain `rq cron`."""
    return _active


class IdeaforgeCronScheduler(CronScheduler):
    """RQ's cron scheduler whose registered functions run in this process instead of being enqueued."""

    def enqueue_jobs(self) -> list[CronJob]:
        enqueue_time = now()
        ran: list[CronJob] = []
        for job in self.get_jobs():
            if job.should_run() and job.func is not None:
                job.func(*job.args, **job.kwargs)
                job.set_enqueue_time(enqueue_time)
                ran.append(job)
        return ran


def other_schedulers(scheduler: CronScheduler) -> list[str]:
    """Names of other live ideaforge schedulers on this Redis (there should be none)."""
    return [
        s.name
        for s in CronScheduler.all(scheduler.connection)
        if s.config_file == CONFIG_MODULE and s.name != scheduler.name
    ]


def live_schedulers(settings: Settings) -> list[str]:
    client = connect(settings.redis_url)
    return [s.name for s in CronScheduler.all(client) if s.config_file == CONFIG_MODULE]


def build_scheduler(settings: Settings, name: str = "") -> IdeaforgeCronScheduler:
    """Validate the schedules (fails with ScheduleError), connect, and load the cron config."""
    global _active
    load_schedules(settings.schedules_file)
    client = connect(settings.redis_url)
    check(settings.redis_url)
    level = logging.getLevelName(settings.log_level.upper())
    scheduler = IdeaforgeCronScheduler(connection=client, logging_level=level, name=name)
    _active = SchedulerContext(settings)
    try:
        scheduler.load_config_from_file(CONFIG_MODULE)
    finally:
        _active = None
    return scheduler


def run_scheduler(settings: Settings, name: str = "") -> None:
    scheduler = build_scheduler(settings, name)
    others = other_schedulers(scheduler)
    if others:
        log.warning(
            "scheduler.not_alone",
            others=others,
            detail="run exactly one scheduler; slots are claimed in Redis, so none fires twice",
        )
    log.info("scheduler.start", name=scheduler.name, schedules_file=str(settings.schedules_file))
    scheduler.start()  # type: ignore[no-untyped-call]
