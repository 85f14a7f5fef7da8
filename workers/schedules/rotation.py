"""Tonight's rotation items and the brief a schedule submits: pure functions of the date.

Each list rotates on its own: tonight's item is `items[(night - start).days % len(items)]`, so the
same date always gives the same items, and lists of 3 and 4 items together repeat every 12 nights.
The brief template may contain `{topic}` (tonight's topic) and `{date}` (the night, YYYY-MM-DD) in
its topic; a rotated topic with no `{topic}` placeholder replaces the topic.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import BaseModel

from agents.brief import Brief, parse_brief
from workers.schedules.model import Rotation, ScheduleSpec


class Tonight(BaseModel):
    """The rotation items picked for one night (None where that list is empty)."""

    night: dt.date
    topic: str | None = None
    concepts: list[str] | None = None
    strategy: str | None = None

    def describe(self) -> str:
        parts = []
        if self.topic is not None:
            parts.append(f"topic: {self.topic}")
        if self.concepts is not None:
            parts.append("concepts: " + " × ".join(self.concepts))
        if self.strategy is not None:
            parts.append(f"strategy: {self.strategy}")
        return "; ".join(parts) or "—"


def _pick(items: list[Any], rotation: Rotation, night: dt.date) -> Any:
    return items[(night - rotation.start).days % len(items)] if items else None


def tonight(spec: ScheduleSpec, night: dt.date) -> Tonight:
    rot = spec.rotate
    return Tonight(
        night=night,
        topic=_pick(rot.topics, rot, night),
        concepts=_pick(rot.concepts, rot, night),
        strategy=_pick(rot.strategies, rot, night),
    )


def brief_data(spec: ScheduleSpec, night: dt.date) -> dict[str, Any]:
    """The brief template with tonight's items filled in (still unvalidated)."""
    items = tonight(spec, night)
    data = dict(spec.brief)
    template = data.get("topic")
    if isinstance(template, str):
        topic = template.replace("{date}", night.isoformat())
        if items.topic is not None:
            topic = topic.replace("{topic}", items.topic) if "{topic}" in topic else items.topic
        data["topic"] = topic
    elif items.topic is not None:
        data["topic"] = items.topic
    if items.concepts is not None:
        data["concepts"] = list(items.concepts)
        data.setdefault("strategy", "mix")
    if items.strategy is not None:
        data["strategy"] = items.strategy
    return data


def render_brief(spec: ScheduleSpec, night: dt.date, slot: str | None = None) -> Brief:
    """Tonight's brief, validated, carrying the schedule's name and slot."""
    data = brief_data(spec, night)
    data["schedule"] = spec.name
    data["schedule_slot"] = slot
    return parse_brief(data)


def rotation_period(spec: ScheduleSpec) -> int:
    """Nights after which every combination of items has come round (1 with no rotation)."""
    lengths = [len(x) for x in (spec.rotate.topics, spec.rotate.concepts, spec.rotate.strategies) if x]
    return math.lcm(*lengths) if lengths else 1
