"""Fire a schedule: claim its slot once in Redis (`ScheduleSlots.claim`), then submit tonight's brief.

Two scheduler processes (or a retried tick) may both see a slot due; only the one whose claim
succeeds submits, so a slot fires at most once. The claim holds the id of the run it starts,
chosen before the submit (see workers/store/schedules.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import redis
import structlog

from agents.errors import IdeaforgeError
from agents.ids import new_run_id
from workers.schedules.model import ScheduleSpec
from workers.schedules.rotation import render_brief
from workers.schedules.timing import UTC, last_fire, next_fire, night_of, slot_id
from workers.store.schedules import ScheduleSlots
from workers.submit import Submitter

log = structlog.get_logger("ideaforge.schedule")


@dataclass(frozen=True)
class Fired:
    schedule: str
    slot: str
    run_id: str


def slots_of(submitter: Submitter) -> ScheduleSlots:
    """The slot claims in the submitter's Redis, under its key prefix."""
    return ScheduleSlots(submitter.store.r, submitter.store.keys)


def fire_slot(submitter: Submitter, spec: ScheduleSpec, fire_time: dt.datetime) -> Fired | None:
    """Submit the run for this slot unless someone fired it already; None when already fired."""
    slot = slot_id(fire_time)
    slots = slots_of(submitter)
    run_id = new_run_id()
    if not slots.claim(spec.name, slot, run_id):
        log.info("schedule.already_fired", schedule=spec.name, slot=slot)
        return None
    try:
        submitter.submit_scheduled(render_brief(spec, night_of(fire_time), slot), run_id)
    except BaseException:  # a stop signal too: give the slot back unless its run was stored
        if not submitter.store.exists(run_id):
            slots.release(spec.name, slot, run_id)
        else:  # stopped after the run was stored: it was fired, and the log says so
            log.info("schedule.fired", schedule=spec.name, slot=slot, run_id=run_id, interrupted=True)
        raise
    log.info("schedule.fired", schedule=spec.name, slot=slot, run_id=run_id)
    return Fired(spec.name, slot, run_id)


def fire_now(submitter: Submitter, spec: ScheduleSpec, now: dt.datetime | None = None) -> Fired:
    """Fire by hand (`ideaforge schedule run NAME`): a `manual-…` slot, no claim, and the brief of
    the next scheduled night (what `schedule list` shows as tonight), so you test what will run."""
    now = (now or dt.datetime.now(UTC)).astimezone(spec.tz)
    slot = f"manual-{slot_id(now)}"
    night = night_of(next_fire(spec.cron, spec.tz, now))
    run_id = submitter.submit_scheduled(render_brief(spec, night, slot))
    log.info("schedule.fired", schedule=spec.name, slot=slot, run_id=run_id, manual=True)
    return Fired(spec.name, slot, run_id)


def due_slot(spec: ScheduleSpec, now: dt.datetime, min_window_s: float = 0.0) -> dt.datetime | None:
    """The latest fire time at or before `now`, if it is within the catch-up window.

    The window is `catch_up_minutes`, but never shorter than `min_window_s` (two scheduler ticks),
    so a slot is not missed between ticks. Older missed slots are skipped, not fired in a burst.
    """
    if not spec.enabled:
        return None
    latest = last_fire(spec.cron, spec.tz, now)
    late = (now.astimezone(UTC) - latest.astimezone(UTC)).total_seconds()
    return latest if late <= max(spec.catch_up_minutes * 60.0, min_window_s) else None


class Ticker:
    """What the scheduler does on every tick: fire each schedule's due slot once."""

    def __init__(self, submitter: Submitter, specs: dict[str, ScheduleSpec], tick_s: float = 15.0) -> None:
        self.submitter = submitter
        self.specs = specs
        self.min_window_s = 2 * tick_s
        self._seen: dict[str, str] = {}  # schedule → last slot handled by this process

    def tick(self, now: dt.datetime | None = None) -> list[Fired]:
        now = now or dt.datetime.now(UTC)
        fired: list[Fired] = []
        for spec in self.specs.values():
            try:
                when = due_slot(spec, now, self.min_window_s)
                if when is None or self._seen.get(spec.name) == slot_id(when):
                    continue
                result = fire_slot(self.submitter, spec, when)
                self._seen[spec.name] = slot_id(when)
                if result is not None:
                    fired.append(result)
            except (IdeaforgeError, redis.RedisError, OSError, ValueError) as exc:  # the others still fire
                log.error("schedule.fire_failed", schedule=spec.name, error=f"{type(exc).__name__}: {exc}")
        return fired
