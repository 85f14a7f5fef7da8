"""Cron in an explicit IANA time zone, correct across DST.

Cron fields match the schedule's local wall-clock time. Around DST changes:
- a local time that does not exist (spring forward, e.g. 02:30) fires once, shifted forward by
  the gap (02:30 → 03:30 local), like rq's own cron and Vixie cron for fixed-time jobs;
- a local time that happens twice (fall back, e.g. 01:30) fires once, at its first occurrence;
- two local times that land on the same instant fire once.
A slot is the instant a schedule is due, written as local ISO time with its UTC offset.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from croniter import croniter

_MAX_STEPS = 1000
UTC = dt.UTC


def _localize(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Naive local wall time → aware time in `tz` (first occurrence; a gap shifts forward)."""
    instant = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return instant.astimezone(tz)


def next_fire(cron: str, tz: ZoneInfo, after: dt.datetime) -> dt.datetime:
    """The first fire time strictly after `after` (aware), in `tz`."""
    after_utc = after.astimezone(UTC)
    it = croniter(cron, after_utc.astimezone(tz).replace(tzinfo=None))
    for _ in range(_MAX_STEPS):
        candidate = _localize(it.get_next(dt.datetime), tz)
        if candidate.astimezone(UTC) > after_utc:
            return candidate
    raise ValueError(f"no fire time for {cron!r} after {after.isoformat()}")


def last_fire(cron: str, tz: ZoneInfo, at: dt.datetime) -> dt.datetime:
    """The latest fire time at or before `at` (aware), in `tz`."""
    at_utc = at.astimezone(UTC)
    start = at_utc.astimezone(tz).replace(tzinfo=None) + dt.timedelta(microseconds=1)
    it = croniter(cron, start)
    for _ in range(_MAX_STEPS):
        candidate = _localize(it.get_prev(dt.datetime), tz)
        if candidate.astimezone(UTC) <= at_utc:
            return candidate
    raise ValueError(f"no fire time for {cron!r} before {at.isoformat()}")


def fires_between(cron: str, tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every fire time in (start, end], in order."""
    out: list[dt.datetime] = []
    current = start
    while True:
        current = next_fire(cron, tz, current)
        if current.astimezone(UTC) > end.astimezone(UTC):
            return out
        out.append(current)


def slot_id(fire_time: dt.datetime) -> str:
    """The slot's name: local ISO time with its offset, e.g. 2025-03-30T03:30:00+02:00."""
    return fire_time.replace(microsecond=0).isoformat()


def night_of(fire_time: dt.datetime) -> dt.date:
    """The date a fire time belongs to (its local calendar date); rotation and digests use it."""
    return fire_time.date()
