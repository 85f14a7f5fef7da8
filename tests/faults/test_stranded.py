"""Runs that nothing would ever move again (issue 13, items 8, 9, 11, 15), with real worker processes:
a retry under a plain `rq worker` without `--with-scheduler`, a turn deleted from the queue, a run
on its own queue, a SIGKILLed worker's scheduler."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from config.settings import get_settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.faults.integrity import check_run
from tests.faults.procs import ROOT, Workers, alive, child_env, children, is_horse, wait_for
from workers.api import Ideaforge
from workers.queue import turn_job_id

BRIEF = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 1, "ideas_per_round": 2}


def _finished(forge: Ideaforge, run_id: str) -> bool:
    return forge.get_run(run_id).terminal


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ideaforge", *args],
        cwd=ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_plain_rq_worker_without_with_scheduler_runs_retries_with_an_interval(
    env: dict[str, str], fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    extra = {
        "IDEAFORGE_TURN_RETRY_INTERVALS_S": "[1]",  # the retry waits in RQ's scheduled registry
        "IDEAFORGE_MODEL_MAX_RETRIES": "0",
        "IDEAFORGE_RECOVERY_INTERVAL_S": "3600",  # the sweep runs once at start: only a scheduler helps
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    env.update(extra)
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    fake_model.add_faults(Fault("status", status=503, role="generator"))  # the first turn is retried
    log = tmp_path / "rq-worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "rq.cli", "worker",
                "-w", "workers.worker.TurnWorker",
                "--serializer", "rq.serializers.JSONSerializer",
                "--url", settings.redis_url,
                settings.queue_name,
            ],
            cwd=ROOT, env=child_env(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: _finished(forge, run_id), timeout=60, interval=0.2, what="the retried run to finish")
    except AssertionError:
        raise AssertionError(log.read_text()[-3000:]) from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    assert fake_model.state.faults == []
    state, _ = check_run(forge.store, run_id)
    assert state.status.value == "finished", state.errors


def test_a_deleted_turn_is_found_by_the_sweep_and_resume_puts_one_back_by_hand(
    fast_recovery: dict[str, str],
    fake_model: FakeModelServer,
    workers: Workers,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDEAFORGE_RECONCILE_GRACE_S", "1")
    fast_recovery["IDEAFORGE_RECONCILE_GRACE_S"] = "1"
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    swept, by_hand = forge.submit(BRIEF), forge.submit(BRIEF)
    for run_id in (swept, by_hand):  # as rq-dashboard's "delete" does
        job_id = turn_job_id(run_id, 0)
        redis_client.lrem(f"rq:queue:{settings.queue_name}", 0, job_id)
        redis_client.delete(f"rq:job:{job_id}")
    resumed = _cli(fast_recovery, "resume", by_hand)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == f"run {by_hand}: turn 0 enqueued again on queue {settings.queue_name}\n"
    workers.start(1)
    wait_for(lambda: _finished(forge, swept) and _finished(forge, by_hand), timeout=90, what="both runs")
    for run_id in (swept, by_hand):
        state, _ = check_run(forge.store, run_id)
        assert state.status.value == "finished", state.errors
    logs = workers.logs()
    assert "turn.reconciled" in logs and swept in logs
    done = _cli(fast_recovery, "resume", swept)
    assert done.returncode == 2 and "already stopped (finished)" in done.stderr, done
    assert "Traceback" not in done.stderr


def test_a_run_on_its_own_queue_is_served_only_by_workers_on_that_queue(
    fast_recovery: dict[str, str], fake_model: FakeModelServer, workers: Workers, tmp_path: Path
) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    queue = "ideaforge-run-faults"
    run_id = forge.submit(BRIEF, queue=queue)
    workers.start(1)  # the default queue's worker
    time.sleep(3)
    assert forge.get_run(run_id).step == 0
    own = Workers(env={**fast_recovery, "IDEAFORGE_QUEUE_NAME": queue}, log_dir=tmp_path / "own")
    (tmp_path / "own").mkdir()
    own.start(1)
    try:
        wait_for(lambda: _finished(forge, run_id), timeout=60, what="the run on its own queue")
    finally:
        own.stop()
    state, _ = check_run(forge.store, run_id)
    assert state.status.value == "finished", state.errors


def test_a_sigkilled_workers_scheduler_stops_and_frees_its_lock(
    fast_recovery: dict[str, str], fake_model: FakeModelServer, workers: Workers, redis_client: redis.Redis
) -> None:
    settings = get_settings()
    lock = f"rq:scheduler-lock:{settings.queue_name}"
    workers.start(1)
    proc = workers.procs[0]
    wait_for(lambda: redis_client.exists(lock) == 1, timeout=60, what="the worker's scheduler to take its lock")
    # RQ takes the lock in the worker, then starts the scheduler process: wait for that process too

    def scheduler_processes() -> list[int]:
        return [pid for pid in children(proc.pid) if not is_horse(pid)]

    wait_for(lambda: len(scheduler_processes()) == 1, timeout=30, what="the worker's scheduler process")
    schedulers = scheduler_processes()
    killed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)  # the worker alone, as an OOM kill does: not its process group
    proc.wait(timeout=10)
    wait_for(lambda: not alive(schedulers[0]), timeout=10, what="the orphaned scheduler to stop")
    wait_for(lambda: redis_client.exists(lock) == 0, timeout=10, what="the scheduler lock to be released")
    print(f"\nSCHEDULER of a SIGKILLed worker stopped and released its lock in {time.monotonic() - killed_at:.1f}s")
    workers.start(1)  # the next worker takes the lock at once
    wait_for(lambda: redis_client.exists(lock) == 1, timeout=60, what="a new worker's scheduler")
