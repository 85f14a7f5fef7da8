"""The same 3-round brainstorm (a) through the queue on one worker, (b) in-process: `run_step` in a
loop with the same per-step `turn_context` and `asyncio.run` as the job. Fake model 200 ms.

(a) is timed from `submit()` to the last job's `ended_at` (RQ timestamp), so polling adds nothing.
(a) and (b) alternate, repeated; the ratio is of the medians.
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
    in_process_brainstorm,
    median,
    process_env,
    redis_client,
    turn_jobs,
    wait_terminal,
)

BRIEF: dict[str, Any] = {"topic": TOPIC, "rounds": 3, "ideas_per_round": 3}


def through_queue(client: Any) -> tuple[float, int]:
    from workers.api import Ideaforge

    forge = Ideaforge()
    started = time.time()
    run_id = forge.submit(BRIEF)
    wait_terminal(forge.store, [run_id], poll_s=0.05)
    steps = forge.get_run(run_id).step
    ended = max(j.ended_at for j in turn_jobs(client, run_id, steps)).timestamp()
    return ended - started, steps


def in_process() -> tuple[float, int]:
    started = time.perf_counter()
    state, _events = in_process_brainstorm(BRIEF)
    return time.perf_counter() - started, state.step


def run(opts: Options) -> Result:
    repeats = opts.repeats or (2 if opts.quick else 5)
    latency = 200
    t0 = time.time()
    rows: list[list[Any]] = []
    checks: list[Check] = []
    with FakeServer(latency_ms=latency) as fake:
        env = bench_env(fake.base_url)
        with process_env(env):
            flush_bench_db()
            client = redis_client()
            modes = [("Worker (forking)", False), ("SimpleWorker", True)]
            if opts.profile:
                modes = []
            inproc: list[float] = []
            steps_b = 0
            for label, simple in modes:
                queue_times: list[float] = []
                with WorkerProcs(env, 1, simple=simple) as workers:
                    workers.wait_registered(client)
                    for _ in range(repeats):
                        qa, steps_a = through_queue(client)
                        queue_times.append(qa)
                        tb, steps_b = in_process()
                        inproc.append(tb)
                ratio = median(queue_times) / median(inproc)
                rows.append(
                    [
                        f"(a) queue, {label}",
                        steps_a,
                        f"{median(queue_times):.3f}",
                        f"{min(queue_times):.3f}",
                        f"{ratio:.3f}",
                    ]
                )
                checks.append(Check(f"{label}: wall (a)/(b)", "≤ 1.05", f"{ratio:.3f}", ratio <= 1.05))
            if opts.profile:
                for _ in range(repeats):
                    tb, steps_b = in_process()
                    inproc.append(tb)
            rows.append(
                [
                    "(b) in-process run_step loop (baseline)",
                    steps_b,
                    f"{median(inproc):.3f}",
                    f"{min(inproc):.3f}",
                    "1.000",
                ]
            )
            client.close()
    return Result(
        name="queue_vs_inprocess",
        title=f"Queue vs in-process: 3-round brainstorm, fake model {latency} ms, {repeats} repeats",
        columns=["mode", "steps", "wall median s", "wall min s", "ratio to (b)"],
        rows=rows,
        checks=checks,
        notes=["(b) medians pool the in-process runs interleaved with both queue modes."],
        seconds=time.time() - t0,
    )
