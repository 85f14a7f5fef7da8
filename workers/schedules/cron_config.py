"""The cron config that `ideaforge scheduler` loads into RQ's cron scheduler.

It reads the schedules YAML and registers one tick every IDEAFORGE_SCHEDULER_TICK_S seconds;
the tick fires each schedule's due slot (see scheduler.py for why not one cron job per schedule).
"""

from __future__ import annotations

from rq import cron

from workers.schedules.firing import Ticker
from workers.schedules.loader import load_schedules
from workers.schedules.scheduler import active_context
from workers.submit import Submitter

_context = active_context()
if _context is None:
    raise RuntimeError(
        "start the scheduler with `ideaforge scheduler`, not plain `rq cron`: plain rq cron would "
        "enqueue pickled tick jobs on the JSON-only queue and evaluate cron in its own local time"
    )

_settings = _context.settings
_ticker = Ticker(
    Submitter.from_settings(_settings),
    load_schedules(_settings.schedules_file),
    tick_s=_settings.scheduler_tick_s,
)


def tick() -> None:
    """Fire every schedule whose slot is due (each slot once, across all scheduler processes)."""
    _ticker.tick()


cron.register(
    tick,
    queue_name=_settings.queue_name,
    interval=max(1, round(_settings.scheduler_tick_s)),
    name="ideaforge-schedules",
)
