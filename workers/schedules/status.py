"""What `ideaforge schedule list` shows: next fire, tonight's rotation, last run and its status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from workers.schedules.model import ScheduleSpec
from workers.schedules.rotation import tonight
from workers.schedules.timing import UTC, next_fire, night_of
from workers.store.runs import RunStore


def schedule_status(store: RunStore, spec: ScheduleSpec, now: dt.datetime | None = None) -> dict[str, Any]:
    """The stable JSON shape of one schedule in `schedule list --format json`."""
    now = now or dt.datetime.now(UTC)
    upcoming = next_fire(spec.cron, spec.tz, now)
    items = tonight(spec, night_of(upcoming))
    last = store.list_runs(schedule=spec.name, limit=1)
    last_run = None
    if last:
        run = last[0]
        last_run = {
            "id": run.run_id,
            "status": run.status.value,
            "slot": run.brief.schedule_slot,
            "created_at": run.created_at,
            "stop_reason": run.stop_reason.value if run.stop_reason else None,
        }
    return {
        "name": spec.name,
        "cron": spec.cron,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "next_fire": upcoming.isoformat() if spec.enabled else None,
        "next_fire_utc": upcoming.astimezone(UTC).isoformat() if spec.enabled else None,
        "tonight": items.model_dump(mode="json", exclude={"night"}),
        "tonight_night": items.night.isoformat(),
        "tonight_text": items.describe(),
        "last_run": last_run,
    }
