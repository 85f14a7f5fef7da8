"""Firing: a slot fires once (threads, two tickers), catch-up window, runs carry schedule and slot."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from ideaforge.cli import app
from tests.conftest import run_burst
from workers.api import Ideaforge
from workers.schedules import firing
from workers.schedules.firing import Ticker, due_slot, fire_slot
from workers.schedules.loader import load_schedules, parse_schedules

SPEC = parse_schedules(
    {
        "schedules": {
            "nightly": {
                "cron": "0 2 * * *",
                "timezone": "America/New_York",
                "catch_up_minutes": 30,
                "brief": {"topic": "Food waste in {topic}", "rounds": 1, "ideas_per_round": 2},
                "rotate": {"topics": ["cafeterias", "hospitals"], "start": "2025-01-01"},
            }
        }
    }
)
NIGHTLY = SPEC["nightly"]


def test_due_only_inside_the_catch_up_window() -> None:
    fire = dt.datetime(2025, 1, 2, 2, 0, tzinfo=NIGHTLY.tz)
    assert due_slot(NIGHTLY, fire - dt.timedelta(seconds=1)) != fire
    assert due_slot(NIGHTLY, fire) == fire
    assert due_slot(NIGHTLY, fire + dt.timedelta(minutes=30)) == fire
    assert due_slot(NIGHTLY, fire + dt.timedelta(minutes=31)) is None  # missed long ago: skipped


def test_racing_threads_fire_a_slot_once(settings: Settings, redis_client: redis.Redis) -> None:
    fire = dt.datetime(2025, 1, 2, 2, 0, tzinfo=NIGHTLY.tz)
    results: list[object] = []
    barrier = threading.Barrier(6)

    def go() -> None:
        forge = Ideaforge(settings, client=redis.Redis.from_url(settings.redis_url))
        barrier.wait()
        results.append(fire_slot(forge.submitter, NIGHTLY, fire))

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fired = [r for r in results if r is not None]
    assert len(fired) == 1 and len(results) == 6
    runs = Ideaforge(settings).list_runs(schedule="nightly")
    assert [r.run_id for r in runs] == [fired[0].run_id]  # type: ignore[attr-defined]
    brief = runs[0].brief
    assert (brief.schedule, brief.schedule_slot) == ("nightly", "2025-01-02T02:00:00-05:00")
    assert brief.topic == "Food waste in hospitals"  # 2 Jan is night 1 of the rotation
    assert (
        redis_client.get("ideaforge:schedule:nightly:slot:2025-01-02T02:00:00-05:00")
        == runs[0].run_id.encode()
    )


def test_two_tickers_same_moment_one_run_and_the_run_completes(settings: Settings) -> None:
    now = dt.datetime(2025, 1, 2, 7, 5, tzinfo=dt.UTC)  # 02:05 in New York
    a, b = Ticker(Ideaforge(settings).submitter, SPEC), Ticker(Ideaforge(settings).submitter, SPEC)
    fired = a.tick(now) + b.tick(now) + a.tick(now + dt.timedelta(seconds=15)) + b.tick(now)
    assert len(fired) == 1
    run_burst(settings)
    state = Ideaforge(settings).get_run(fired[0].run_id)
    assert state.status.value == "finished" and state.brief.schedule == "nightly"
    assert Ideaforge(settings).get_shortlist(state.run_id) is not None


def test_schedule_run_and_list_show_last_run(
    env: dict[str, str], write_schedules: Callable[[object], Path]
) -> None:
    write_schedules(
        {
            "schedules": {
                "nightly": {
                    "cron": "0 2 * * *",
                    "timezone": "Europe/Berlin",
                    "brief": {"topic": "Food waste in {topic}", "rounds": 1, "ideas_per_round": 2},
                    "rotate": {"topics": ["cafeterias", "hospitals"]},
                }
            }
        }
    )
    runner = CliRunner()
    fired = runner.invoke(app, ["schedule", "run", "nightly", "--quiet"])
    assert fired.exit_code == 0, fired.output
    run_id = fired.stdout.strip()
    settings = get_settings()
    run_burst(settings)
    listed = runner.invoke(app, ["schedule", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.stdout)["schedules"][0]
    assert row["last_run"]["id"] == run_id and row["last_run"]["status"] == "finished"
    assert row["last_run"]["slot"].startswith("manual-")
    night = dt.date.fromisoformat(row["tonight_night"])
    topic = ["cafeterias", "hospitals"][(night - dt.date(2024, 1, 1)).days % 2]
    assert row["tonight"]["topic"] == topic
    run_topic = Ideaforge(settings).get_run(run_id).brief.topic
    assert run_topic == f"Food waste in {topic}"  # `schedule run` fires tonight's brief
    nxt = dt.datetime.fromisoformat(row["next_fire"])
    assert (nxt.hour, nxt.minute) == (2, 0) and nxt > dt.datetime.now(dt.UTC)
    by_schedule = runner.invoke(app, ["runs", "--schedule", "nightly", "--format", "json"])
    assert [r["id"] for r in json.loads(by_schedule.stdout)] == [run_id]
    table = runner.invoke(app, ["schedule", "list"], env={"COLUMNS": "200"})
    assert "nightly" in table.stdout and "Europe/Berlin" in table.stdout and run_id in table.stdout
    assert load_schedules(settings.schedules_file)["nightly"].name == "nightly"


def test_a_firer_stopped_after_its_run_was_stored_leaves_the_slot_fired(
    settings: Settings, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop signal between storing the run and returning (the race the scheduler-process test
    hit) must neither free the slot for a second run nor lose which run the slot started."""
    fire = dt.datetime(2025, 1, 2, 2, 0, tzinfo=NIGHTLY.tz)
    forge = Ideaforge(settings)
    real_create = forge.submitter.store.create

    def create_then_stop(*args: object, **kwargs: object) -> None:
        real_create(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # SIGTERM/SIGINT right after the run was committed

    logged: list[tuple[str, dict[str, object]]] = []

    class Recorder:  # the configured logger drops info lines below the test's WARNING level
        def info(self, event: str, **fields: object) -> None:
            logged.append((event, fields))

    monkeypatch.setattr(forge.submitter.store, "create", create_then_stop)
    monkeypatch.setattr(firing, "log", Recorder())
    with pytest.raises(KeyboardInterrupt):
        fire_slot(forge.submitter, NIGHTLY, fire)
    monkeypatch.undo()
    runs = forge.list_runs(schedule="nightly")
    assert len(runs) == 1
    fired = [f for e, f in logged if e == "schedule.fired"]  # the log still says which run it started
    assert [(f["run_id"], f["interrupted"]) for f in fired] == [(runs[0].run_id, True)]
    slot = runs[0].brief.schedule_slot or ""
    assert redis_client.get(f"ideaforge:schedule:nightly:slot:{slot}") == runs[0].run_id.encode()
    assert fire_slot(forge.submitter, NIGHTLY, fire) is None  # the slot is taken: no second run
    assert len(forge.list_runs(schedule="nightly")) == 1


def test_a_submit_that_failed_before_storing_gives_the_slot_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fire = dt.datetime(2025, 1, 2, 2, 0, tzinfo=NIGHTLY.tz)
    forge = Ideaforge(settings)

    def refuse(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(forge.submitter.store, "create", refuse)
    with pytest.raises(redis.ConnectionError):
        fire_slot(forge.submitter, NIGHTLY, fire)
    monkeypatch.undo()
    fired = fire_slot(forge.submitter, NIGHTLY, fire)  # the next tick fires it after all
    assert fired is not None and [r.run_id for r in forge.list_runs(schedule="nightly")] == [fired.run_id]
