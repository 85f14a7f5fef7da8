"""The real scheduler process (RQ's cron scheduler) fires into the real queue; a real worker runs it."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from config.settings import get_settings
from tests.schedules.conftest import Proc, wait_until
from workers.api import Ideaforge
from workers.schedules.scheduler import live_schedulers

FAST = {
    "schedules": {
        "fast": {
            "cron": "* * * * * */2",  # every 2 seconds (the sixth field is seconds)
            "timezone": "Asia/Kolkata",
            "brief": {"topic": "Quick test about {topic}", "rounds": 1, "ideas_per_round": 2},
            "rotate": {"topics": ["kitchens", "libraries"]},
        }
    }
}
SLOT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$")


def _events(text: str, name: str) -> list[dict[str, object]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            out.append(json.loads(line))
    return out


@pytest.fixture
def fast_env(
    env: dict[str, str],
    write_schedules: Callable[[object], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Path:
    write_schedules(FAST)
    monkeypatch.setenv("IDEAFORGE_SCHEDULER_TICK_S", "1")
    monkeypatch.setenv("IDEAFORGE_LOG_LEVEL", "INFO")
    monkeypatch.setenv("IDEAFORGE_DIGEST_DIR", str(tmp_path / "digests"))
    get_settings.cache_clear()
    return tmp_path / "digests"


def test_scheduler_fires_and_worker_completes_the_run(
    fast_env: Path, spawn: Callable[..., Proc], redis_client: redis.Redis
) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    scheduler = spawn("scheduler")
    worker = spawn("worker")
    # the scheduler logs a fired slot after storing its run: wait for the log line, not the run,
    # so the SIGTERM below never lands between the two
    wait_until(lambda: bool(_events(scheduler.text(), "schedule.fired")), 60, "the first scheduled run")
    assert scheduler.stop() == 0  # SIGTERM: RQ's cron scheduler shuts down cleanly
    first = forge.get_run(str(_events(scheduler.text(), "schedule.fired")[0]["run_id"]))
    wait_until(lambda: forge.get_run(first.run_id).terminal, 120, f"run {first.run_id} to finish")
    worker.stop()
    state = forge.get_run(first.run_id)
    assert state.status.value == "finished", state.stop_detail
    assert state.brief.schedule == "fast" and SLOT.match(state.brief.schedule_slot or "")
    assert state.brief.topic in ("Quick test about kitchens", "Quick test about libraries")
    assert forge.get_shortlist(first.run_id) is not None
    # the slot key holds the run id; RQ saw a cron scheduler with our config
    key = f"ideaforge:schedule:fast:slot:{state.brief.schedule_slot}"
    assert redis_client.get(key) == first.run_id.encode()
    fired = _events(scheduler.text(), "schedule.fired")
    assert first.run_id in {e["run_id"] for e in fired}
    assert "Registered 'workers.schedules.cron_config.tick'" in scheduler.text()
    # the night's digest was written by the worker when the run stopped
    night = state.brief.schedule_slot[:10]  # type: ignore[index]
    digest = (fast_env / f"digest-{night}.md").read_text()
    assert first.run_id in digest and "Quick test about" in digest


def test_two_schedulers_never_fire_a_slot_twice(fast_env: Path, spawn: Callable[..., Proc]) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    a, b = spawn("scheduler", "--name", "sched-a"), spawn("scheduler", "--name", "sched-b")
    wait_until(lambda: len(live_schedulers(settings)) == 2, 60, "both schedulers to register")
    start = len(forge.list_runs(schedule="fast", limit=1000))
    wait_until(
        lambda: (
            len(forge.list_runs(schedule="fast", limit=1000)) >= start + 4
            and "schedule.already_fired" in a.text() + b.text()
        ),
        90,
        "four more slots, one of them contested",
    )
    assert a.stop() == 0 and b.stop() == 0
    runs = forge.list_runs(schedule="fast", limit=1000)
    slots = Counter(r.brief.schedule_slot for r in runs)
    assert slots and max(slots.values()) == 1, slots  # one run per slot
    logs = a.text() + b.text()
    fired = Counter(str(e["slot"]) for e in _events(logs, "schedule.fired"))
    lost = Counter(str(e["slot"]) for e in _events(logs, "schedule.already_fired"))
    assert sum(fired.values()) == len(runs) and max(fired.values()) == 1
    assert set(lost) & set(fired), "the two schedulers never competed for a slot"
    assert "scheduler.not_alone" in logs  # the second one warned that it is not alone
