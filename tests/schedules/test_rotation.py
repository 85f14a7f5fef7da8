"""Tonight's rotation items are a pure function of the date in the schedule's zone."""

from __future__ import annotations

import datetime as dt

from workers.schedules.loader import parse_schedules
from workers.schedules.rotation import render_brief, rotation_period, tonight
from workers.schedules.timing import next_fire, night_of

SPEC = parse_schedules(
    {
        "schedules": {
            "nightly": {
                "cron": "0 2 * * *",
                "timezone": "Pacific/Auckland",
                "brief": {"topic": "Reduce food waste in {topic} ({date})", "rounds": 1},
                "rotate": {
                    "start": "2025-01-01",
                    "topics": ["cafeterias", "hospitals", "schools"],
                    "strategies": ["restrict", "question", "mix", "question"],
                    "concepts": [["auction theory", "tidal engineering"], ["beekeeping", "logistics"]],
                },
            }
        }
    }
)["nightly"]


def test_same_date_same_items_and_the_documented_formula() -> None:
    for offset in range(30):
        night = dt.date(2025, 1, 1) + dt.timedelta(days=offset)
        a, b = tonight(SPEC, night), tonight(SPEC, night)
        assert a == b
        assert a.topic == ["cafeterias", "hospitals", "schools"][offset % 3]
        assert a.strategy == ["restrict", "question", "mix", "question"][offset % 4]
    assert tonight(SPEC, dt.date(2024, 12, 31)).topic == "schools"  # before start it wraps backwards
    assert rotation_period(SPEC) == 12
    for d in range(12):
        night = dt.date(2025, 3, 1) + dt.timedelta(days=d)
        later = tonight(SPEC, night + dt.timedelta(days=12))
        assert later.describe() == tonight(SPEC, night).describe()


def test_brief_is_filled_from_tonight_and_tagged_with_the_slot() -> None:
    brief = render_brief(SPEC, dt.date(2025, 1, 2), slot="2025-01-02T02:00:00+13:00")
    assert brief.topic == "Reduce food waste in hospitals (2025-01-02)"
    assert brief.strategy.value == "question"
    assert brief.concepts == ["beekeeping", "logistics"]
    assert (brief.schedule, brief.schedule_slot) == ("nightly", "2025-01-02T02:00:00+13:00")


def test_the_night_is_the_date_in_the_schedule_zone_not_utc() -> None:
    # 13:30 UTC on 1 Jan is already 02:30 on 2 Jan in Auckland: the next 02:00 fire is on the 3rd
    fire = next_fire(SPEC.cron, SPEC.tz, dt.datetime(2025, 1, 1, 13, 30, tzinfo=dt.UTC))
    assert night_of(fire) == dt.date(2025, 1, 3)
    assert fire.astimezone(dt.UTC).date() == dt.date(2025, 1, 2)
    assert tonight(SPEC, night_of(fire)).topic == "schools"
