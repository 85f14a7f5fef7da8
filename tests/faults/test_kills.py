"""SIGKILL work horses and whole workers during 20 concurrent runs: every run completes, whole."""

from __future__ import annotations

import random
import statistics
import time

import redis
from rq import Worker

from config.settings import Settings, get_settings
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.faults.integrity import check_run
from tests.faults.procs import Workers, alive, wait_for
from workers.api import Ideaforge
from workers.queue import parse_turn_job_id

RUNS = 20
BRIEF = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 1, "ideas_per_round": 2}


def _current_job(client: redis.Redis, pid: int) -> str | None:
    for w in Worker.all(connection=client):
        if w.pid == pid:
            return w.get_current_job_id()
    return None


def _committed_after(forge: Ideaforge, job_id: str) -> bool:
    turn = parse_turn_job_id(job_id)
    assert turn is not None
    state = forge.get_run(turn[0])
    return state.step > turn[1] or state.terminal


def test_sigkill_horses_and_workers_during_20_runs(
    fast_recovery: dict[str, str], fake_model: FakeModelServer, workers: Workers, redis_client: redis.Redis
) -> None:
    settings: Settings = get_settings()
    assert settings.worker_dead_after_s == 2
    fake_model.set_latency(120)
    forge = Ideaforge(settings)
    workers.start(3)
    run_ids = [forge.submit(BRIEF) for _ in range(RUNS)]
    rng = random.Random(7)
    plan = ["horse", "horse", "worker", "horse", "orphan", "horse", "worker", "horse", "horse", "horse"]
    recoveries: list[float] = []  # kill -> the turn committed by another worker
    detections: list[float] = []  # kill -> the turn back on the queue
    horse_kills = worker_kills = 0
    orphans: list[int] = []
    busy: list[tuple[int, int]] = []

    def some_busy() -> bool:
        busy[:] = workers.horses()
        return bool(busy)

    for action in plan:
        wait_for(some_busy, timeout=60, interval=0.02, what="a work horse at work")
        time.sleep(rng.uniform(0.0, 0.15))  # a random moment within the turn
        if not some_busy():
            continue
        worker_pid, horse = rng.choice(busy)
        job_id = _current_job(redis_client, worker_pid)
        proc = next(p for p in workers.procs if p.pid == worker_pid)
        killed_at = time.monotonic()
        if action == "horse":
            horse_kills += workers.kill_horse(horse)
        else:
            workers.kill_worker(proc, with_horse=action == "worker")
            if action == "orphan":
                orphans.append(horse)
            worker_kills += 1
            workers.start(1)
        if job_id and action != "horse":
            wait_for(
                lambda j=job_id: redis_client.hget(f"rq:job:{j}", "status") != b"started",
                timeout=30,
                what=f"{job_id} re-enqueued",
            )
            detections.append(time.monotonic() - killed_at)
            wait_for(lambda j=job_id: _committed_after(forge, j), timeout=60, what=f"{job_id} recovered")
            recoveries.append(time.monotonic() - killed_at)

    def all_done() -> bool:
        return all(s.terminal for s in forge.list_runs(limit=RUNS))

    wait_for(all_done, timeout=180, interval=0.25, what="all 20 runs to stop")
    for horse in orphans:
        wait_for(lambda h=horse: not alive(h), timeout=30, what="orphaned horse to finish")
    states = [check_run(forge.store, run_id)[0] for run_id in run_ids]
    statuses = [s.status.value for s in states]
    assert statuses == ["finished"] * RUNS, statuses
    assert all(s.stop_reason is not None and s.stop_reason.value == "rounds_done" for s in states)
    assert horse_kills >= 5 and worker_kills >= 2, (horse_kills, worker_kills)
    assert recoveries, "no whole-worker kill hit a turn in flight"
    assert max(recoveries) < 20, recoveries
    print(
        f"\nKILLS horse={horse_kills} worker={worker_kills} (orphans {len(orphans)}); recovery after a "
        f"worker SIGKILL: median {statistics.median(recoveries):.2f}s max {max(recoveries):.2f}s "
        f"(n={len(recoveries)}); re-enqueued after median {statistics.median(detections):.2f}s; "
        "20/20 finished"
    )
