"""The queue side on a real Redis: JSON payloads, compare-and-set commits, cancel, real workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from agents.state import Phase, RunStatus
from config.settings import Settings
from tests.conftest import run_burst
from workers.api import Ideaforge
from workers.jobs import take_turn
from workers.queue import turn_job_id
from workers.store.keys import Keys

ROOT = Path(__file__).resolve().parents[2]


def _events(forge: Ideaforge, run_id: str) -> list[tuple[int, str, str]]:
    return [(e.step, e.phase, e.role) for e in forge.iter_events(run_id)]


def test_queue_payloads_are_json_not_pickle(settings: Settings, redis_client: redis.Redis) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "rounds": 1})
    raw = redis_client.hget(f"rq:job:{turn_job_id(run_id, 0)}", "data")
    assert raw is not None
    payload = json.loads(zlib.decompress(raw))
    assert payload[0] == "workers.jobs.take_turn"
    assert payload[2] == [run_id, 0]
    queued = redis_client.lrange(f"rq:queue:{settings.queue_name}", 0, -1)
    assert queued == [turn_job_id(run_id, 0).encode()]


def test_submit_stores_state_index_and_first_event_atomically(
    settings: Settings, redis_client: redis.Redis
) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste"})
    keys = Keys(settings.key_prefix)
    assert redis_client.zscore(keys.runs, run_id) is not None
    assert redis_client.sismember(keys.runs_by_status("queued"), run_id)
    assert forge.get_run(run_id).step == 0
    assert next(e.content for e in forge.iter_events(run_id)).startswith("run created")


def test_a_duplicated_turn_is_applied_once(settings: Settings, redis_client: redis.Redis) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "deny": ["composting"], "rounds": 1})
    first = take_turn(run_id, 0)
    events_after_first = _events(forge, run_id)
    second = take_turn(run_id, 0)
    assert first["applied"] is True and second["applied"] is False
    assert _events(forge, run_id) == events_after_first
    state = forge.get_run(run_id)
    assert state.step == 1 and len(state.ideas) == 3
    # exactly one job for step 1 was enqueued, by the applied turn
    queued = redis_client.lrange(f"rq:queue:{settings.queue_name}", 0, -1)
    assert queued.count(turn_job_id(run_id, 1).encode()) == 1


def test_a_stale_job_for_an_old_step_changes_nothing(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "rounds": 1})
    run_burst(settings)
    before = forge.get_run(run_id)
    assert take_turn(run_id, 2) == {"applied": False, "stored_step": before.step}
    assert forge.get_run(run_id) == before


def test_full_run_transcript_is_contiguous_and_complete(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "rounds": 2, "strategy": "question"})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED
    events = list(forge.iter_events(run_id))
    steps = sorted({e.step for e in events})
    assert steps == list(range(state.step))
    turns = [e for e in events if e.kind == "turn"]
    for event in turns:
        assert event.run_id == run_id and event.model == "fake-model"
        assert event.prompt_hash and event.prompt and event.latency_ms is not None
        assert event.prompt_tokens > 0 and event.completion_tokens > 0 and event.temperature is not None
    assert {e.role for e in turns} == {"generator", "skeptic", "judge"}


def test_cancel_mid_run_still_writes_a_shortlist(settings: Settings, redis_client: redis.Redis) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "deny": ["composting"], "rounds": 3})
    step = 0
    while forge.get_run(run_id).phase is not Phase.RANK:  # round 1 (with any top-up) through its judge
        assert take_turn(run_id, step)["applied"]
        step += 1
    forge.cancel(run_id)
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.CANCELLED and state.round == 1
    shortlist = forge.get_shortlist(run_id)
    assert shortlist is not None and shortlist.ideas and shortlist.stop_reason == "cancelled"
    assert redis_client.llen(f"rq:queue:{settings.queue_name}") == 0
    assert Queue(settings.queue_name, connection=redis_client, serializer=JSONSerializer).count == 0


def test_real_rq_worker_processes_complete_runs(settings: Settings, env: dict[str, str]) -> None:
    forge = Ideaforge(settings)
    run_ids = [forge.submit({"topic": f"cafeteria waste {n}", "rounds": 1}) for n in range(2)]
    cmd = [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        settings.queue_name,
        "--burst",
        "--url",
        settings.redis_url,
        "--serializer",
        "rq.serializers.JSONSerializer",
        "--worker-class",
        "workers.worker.TurnWorker",
        "--quiet",
    ]
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=child_env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(forge.get_run(r).terminal for r in run_ids):
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.wait(timeout=60)
    for run_id in run_ids:
        state = forge.get_run(run_id)
        assert state.status is RunStatus.FINISHED, state.errors
        assert forge.get_shortlist(run_id) is not None
