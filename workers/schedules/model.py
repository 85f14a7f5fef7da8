"""The shape of `config/schedules.yaml`, validated with pydantic (errors name schedule and field)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class Rotation(BaseModel):
    """Lists that rotate night by night: tonight's item is `items[(date - start).days % len(items)]`."""

    model_config = ConfigDict(extra="forbid")

    start: dt.date = dt.date(2024, 1, 1)
    topics: list[str] = Field(default_factory=list)
    concepts: list[list[str]] = Field(default_factory=list)  # concept pairs (or larger sets) for `mix`
    strategies: list[str] = Field(default_factory=list)

    @field_validator("topics", "strategies")
    @classmethod
    def _non_empty_items(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip():
                raise ValueError("items must not be empty")
        return values

    @field_validator("concepts")
    @classmethod
    def _sets(cls, values: list[list[str]]) -> list[list[str]]:
        for n, item in enumerate(values):
            if len(item) < 2:
                raise ValueError(f"item {n} has {len(item)} concept(s); each item needs at least two")
        return values

    @property
    def empty(self) -> bool:
        return not (self.topics or self.concepts or self.strategies)


class ScheduleSpec(BaseModel):
    """One named schedule: when (cron + IANA time zone), what (a brief template) and options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    cron: str
    timezone: str
    brief: dict[str, Any]
    rotate: Rotation = Field(default_factory=Rotation)
    enabled: bool = True
    catch_up_minutes: int = Field(default=60, ge=0, le=24 * 60)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        value = " ".join(value.split())
        fields = len(value.split())
        if not value.startswith("@") and fields not in (5, 6):
            raise ValueError(
                f"{value!r} has {fields} fields; use 5 (minute hour day month weekday) "
                "or 6 (the sixth is seconds)"
            )
        try:
            croniter(value)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{value!r} is not a valid cron expression: {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return value

    @model_validator(mode="after")
    def _topic_source(self) -> ScheduleSpec:
        if "topic" not in self.brief and not self.rotate.topics:
            raise ValueError("the brief needs a topic (or rotate.topics to pick one each night)")
        topic = self.brief.get("topic")
        if isinstance(topic, str) and "{topic}" in topic and not self.rotate.topics:
            raise ValueError("the brief's topic uses {topic} but rotate.topics is empty")
        for key in ("schedule", "schedule_slot"):
            if key in self.brief:
                raise ValueError(f"brief.{key} is set by the scheduler; remove it")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
