"""Next-fire computation in explicit time zones, across DST changes."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from workers.schedules.timing import fires_between, last_fire, next_fire, slot_id

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC = dt.UTC


def test_same_cron_means_local_wall_clock_in_each_zone() -> None:
    after = dt.datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    assert next_fire("0 2 * * *", BERLIN, after).astimezone(UTC) == dt.datetime(2025, 1, 11, 1, 0, tzinfo=UTC)
    assert next_fire("0 2 * * *", NY, after).astimezone(UTC) == dt.datetime(2025, 1, 11, 7, 0, tzinfo=UTC)
    # 12:00 UTC is already 21:00 in Tokyo: the next 02:00 there is 17:00 UTC the same day
    assert next_fire("0 2 * * *", TOKYO, after).astimezone(UTC) == dt.datetime(2025, 1, 10, 17, 0, tzinfo=UTC)


def test_nightly_keeps_local_time_across_spring_forward_and_fall_back() -> None:
    start = dt.datetime(2025, 3, 28, 12, 0, tzinfo=BERLIN)  # Berlin springs forward on 30 March
    fires = fires_between("0 2 * * *", BERLIN, start, start + dt.timedelta(days=4))
    assert [slot_id(f) for f in fires] == [
        "2025-03-29T02:00:00+01:00",
        "2025-03-30T03:00:00+02:00",  # 02:00 does not exist that night: shifted forward by the gap
        "2025-03-31T02:00:00+02:00",
        "2025-04-01T02:00:00+02:00",
    ]
    autumn = fires_between(
        "30 1 * * *",
        NY,
        dt.datetime(2025, 11, 1, 12, 0, tzinfo=NY),
        dt.datetime(2025, 11, 3, 12, 0, tzinfo=NY),
    )
    # 01:30 happens twice on 2 November in New York: the schedule fires once, at the first one
    assert [slot_id(f) for f in autumn] == ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"]
    gaps = [
        (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() / 3600 for a, b in itertools.pairwise(autumn)
    ]
    assert gaps == [25.0]  # the local time is kept, so the elapsed time stretches by the extra hour


def test_hourly_schedule_over_dst_changes_fires_each_instant_once() -> None:
    spring = fires_between(
        "30 * * * *", NY, dt.datetime(2025, 3, 9, 0, 0, tzinfo=NY), dt.datetime(2025, 3, 9, 5, 0, tzinfo=NY)
    )
    assert [f.strftime("%H:%M%z") for f in spring] == ["00:30-0500", "01:30-0500", "03:30-0400", "04:30-0400"]
    fall = fires_between(
        "0 * * * *", NY, dt.datetime(2025, 11, 2, 0, 0, tzinfo=NY), dt.datetime(2025, 11, 2, 3, 0, tzinfo=NY)
    )
    assert [f.strftime("%H:%M%z") for f in fall] == ["01:00-0400", "02:00-0500", "03:00-0500"]
    instants = [f.astimezone(UTC) for f in spring + fall]
    assert len(set(instants)) == len(instants)


def test_last_fire_is_at_or_before_and_consistent_with_next_fire() -> None:
    at = dt.datetime(2025, 1, 1, 2, 0, tzinfo=NY)
    assert last_fire("0 2 * * *", NY, at) == at
    assert last_fire("0 2 * * *", NY, at - dt.timedelta(seconds=1)) == at - dt.timedelta(days=1)
    # during the second 01:xx of the fall-back night, the last fire is the first 01:00
    second_pass = dt.datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=NY)
    assert slot_id(last_fire("0 * * * *", NY, second_pass)) == "2025-11-02T01:00:00-04:00"
    for cron in ("0 2 * * *", "30 * * * *", "*/7 * * * *"):
        t = dt.datetime(2025, 3, 8, 20, 0, tzinfo=NY)
        for _ in range(30):
            n = next_fire(cron, NY, t)
            assert last_fire(cron, NY, n) == n
            just_before = n.astimezone(UTC) - dt.timedelta(
                seconds=1
            )  # (aware arithmetic in UTC, not wall time)
            assert last_fire(cron, NY, just_before).astimezone(UTC) <= t.astimezone(UTC)
            t = n


@pytest.mark.parametrize(
    ("cron", "expected"),
    [("* * * * * */2", 2.0), ("*/5 * * * *", 300.0), ("@hourly", 3600.0)],
)
def test_six_field_seconds_and_aliases(cron: str, expected: float) -> None:
    t = dt.datetime(2025, 6, 1, 0, 0, 1, tzinfo=UTC)
    first = next_fire(cron, UTC, t)
    second = next_fire(cron, UTC, first)
    assert (second - first).total_seconds() == expected
