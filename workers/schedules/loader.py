"""Read `config/schedules.yaml` (or IDEAFORGE_SCHEDULES_FILE) into validated ScheduleSpecs.

Every problem is reported as one clear line that names the file, the schedule and the field;
a schedule's brief is rendered for each rotation item at load time, so a bad rotated value
(an unknown strategy, say) fails at start, not at 2 a.m.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agents.errors import InvalidBrief, ScheduleError
from workers.schedules.model import ScheduleSpec
from workers.schedules.rotation import render_brief, rotation_period


def _field_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown field {where!r}")
        elif err["type"] == "missing":
            lines.append(f"{where}: required field is missing")
        else:
            lines.append(f"{where}: {msg}" if where else msg)
    return "; ".join(lines)


def parse_schedules(data: Any, source: str = "schedules file") -> dict[str, ScheduleSpec]:
    """Validate the parsed YAML; raise ScheduleError naming the schedule and field."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScheduleError(f"{source}: the top level must be a mapping with a 'schedules' key")
    unknown = set(data) - {"schedules"}
    if unknown:
        raise ScheduleError(f"{source}: unknown top-level key {sorted(unknown)[0]!r} (expected 'schedules')")
    raw = data.get("schedules") or {}
    if not isinstance(raw, dict):
        raise ScheduleError(f"{source}: 'schedules' must map schedule names to schedules")
    specs: dict[str, ScheduleSpec] = {}
    for name, body in raw.items():
        where = f"{source}: schedule {name!r}"
        if not isinstance(body, dict):
            raise ScheduleError(f"{where}: must be a mapping (cron, timezone, brief, ...)")
        if "name" in body:
            raise ScheduleError(f"{where}: unknown field 'name' (the key is the name)")
        try:
            spec = ScheduleSpec.model_validate({**body, "name": str(name)})
        except ValidationError as exc:
            raise ScheduleError(f"{where}: {_field_errors(exc)}") from None
        _check_briefs(spec, where)
        specs[spec.name] = spec
    return specs


def _check_briefs(spec: ScheduleSpec, where: str) -> None:
    for offset in range(min(rotation_period(spec), 366)):
        night = spec.rotate.start + dt.timedelta(days=offset)
        try:
            render_brief(spec, night, slot="check")
        except InvalidBrief as exc:
            raise ScheduleError(f"{where}: brief (night {night}): {exc}") from None


def load_schedules(path: Path) -> dict[str, ScheduleSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScheduleError(f"schedules file {path} does not exist (set IDEAFORGE_SCHEDULES_FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"cannot read schedules file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScheduleError(
            f"schedules file {path} is not valid YAML: {' '.join(str(exc).split())}"
        ) from None
    return parse_schedules(data, source=str(path))


def get_schedule(specs: dict[str, ScheduleSpec], name: str) -> ScheduleSpec:
    try:
        return specs[name]
    except KeyError:
        known = ", ".join(sorted(specs)) or "none defined"
        raise ScheduleError(f"unknown schedule {name!r} (known: {known})") from None


__all__ = ["ScheduleError", "get_schedule", "load_schedules", "parse_schedules"]
