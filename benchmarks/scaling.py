"""Scaling: 16 brainstorms submitted at once, fake model 200 ms, 1 / 2 / 4 / 8 forking workers.

Workers are started and registered before the clock starts; the wall time runs from the first
submit to the last job's `ended_at`. Speed-up is against one worker measured in the same run.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import (
    TOPIC,
    Check,
    FakeServer,
    Options,
    Result,
    WorkerProcs,
    bench_env,
    flush_bench_db,
    median,
    process_env,
    redis_client,
    turn_jobs,
    wait_terminal,
)


def one(env: dict[str, str], n_workers: int, runs: int, rounds: int) -> tuple[float, int]:
    from workers.api import Ideaforge

    flush_bench_db()
    client = redis_client()
    forge = Ideaforge()
    with WorkerProcs(env, n_workers) as workers:
        workers.wait_registered(client)
        started = time.time()
        ids = [forge.submit({"topic": f"{TOPIC} #{n}", "rounds": rounds}) for n in range(runs)]
        wait_terminal(forge.store, ids, poll_s=0.05)
    turns = 0
    ended = started
    for run_id in ids:
        steps = forge.get_run(run_id).step
        turns += steps
        ended = max(ended, max(j.ended_at for j in turn_jobs(client, run_id, steps)).timestamp())
    client.close()
    return ended - started, turns


def run(opts: Options) -> Result:
    runs, latency = (8 if opts.quick else 16), 200  # quick: 8 runs keeps --quick under ~4 min
    rounds = 1 if opts.quick else 2
    repeats = opts.repeats or (1 if opts.quick else 2)
    t0 = time.time()
    rows: list[list[Any]] = []
    checks: list[Check] = []
    with FakeServer(latency_ms=latency) as fake:
        env = bench_env(fake.base_url)
        with process_env(env):
            base = None
            for n in (1, 2, 4, 8):
                walls = []
                for _ in range(repeats):
                    wall, turns = one(env, n, runs, rounds)
                    walls.append(wall)
                w = median(walls)
                base = base or w
                rows.append(
                    [n, turns, f"{w:.2f}", f"{turns / w:.1f}", f"{base / w:.2f}", f"{base / w / n:.0%}"]
                )
                if n == 4:
                    checks.append(Check("4 workers vs 1", "≥ 3.5×", f"{base / w:.2f}×", base / w >= 3.5))
    return Result(
        name="scaling",
        title=f"Scaling: {runs} runs × {rounds} round(s), fake model {latency} ms, forking workers",
        columns=["workers", "turns", "wall s", "turns/s", "speed-up", "efficiency"],
        rows=rows,
        checks=checks,
        notes=[
            "A latency-bound fake model makes this I/O bound; the workers' own CPU per turn (fork, "
            "client set-up, JSON, autogen) is what limits scaling on a 2-core machine."
        ],
        seconds=time.time() - t0,
    )
