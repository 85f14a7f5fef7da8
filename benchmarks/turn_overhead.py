"""Turn overhead: enqueue → job start → state load → turn → commit → next enqueue, fake model 0 ms.

Brainstorms of 20 rounds run one after another on ONE worker until `turns` turns are done, once
with the forking `Worker` (what `rq worker` / `ideaforge worker` run) and once with `SimpleWorker`.
Per turn, from RQ's job timestamps (microseconds, written by the worker and the enqueuing commit):

- cycle  = enqueued_at(step s+1) - enqueued_at(step s): the whole loop, the number the target is on
- pickup = started_at(s) - enqueued_at(s): dequeue (+ fork for `Worker`) until the job function starts
- job    = ended_at(s) - started_at(s): load, the turn (model calls at 0 ms), commit + next enqueue

stop_check turns make no model call and no embedding: their cycle is pure orchestration. Filter
turns embed the new ideas (local MiniLM) and may ask the Judge a same-idea question.
Agent turns also contain the client side of 1-3 model calls (autogen, openai, httpx) at 0 ms.
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
    ms,
    percentile,
    process_env,
    redis_client,
    turn_jobs,
    wait_terminal,
)

CODE_ONLY = {"filter", "stop_check"}  # phases whose system events identify the step
ORCHESTRATION_ONLY = {"stop_check"}


def _phases(store: Any, run_id: str, steps: int) -> dict[int, str]:
    phases = {s: "stop_check" for s in range(steps)}
    for _eid, event in store.transcripts.read(run_id):
        if event.role != "system" or event.phase in CODE_ONLY:
            phases[event.step] = event.phase
    return phases


def measure_queue(
    turns: int, *, simple: bool, env: dict[str, str], inprocess: bool = False
) -> dict[str, Any]:
    from workers.api import Ideaforge

    flush_bench_db()
    client = redis_client()
    forge = Ideaforge()
    samples: list[dict[str, Any]] = []
    workers = None if inprocess else WorkerProcs(env, 1, simple=simple)
    try:
        if workers:
            workers.wait_registered(client)
        while len(samples) < turns:
            run_id = forge.submit({"topic": TOPIC, "rounds": 20, "ideas_per_round": 3})
            if inprocess:
                from workers.worker import build_worker

                build_worker(forge.settings, simple=True).work(burst=True, logging_level="WARNING")
            wait_terminal(forge.store, [run_id], poll_s=0.05)
            steps = forge.get_run(run_id).step
            jobs = turn_jobs(client, run_id, steps)
            phases = _phases(forge.store, run_id, steps)
            for s in range(steps):
                job = jobs[s]
                nxt = jobs[s + 1] if s + 1 < steps else None
                end = nxt.enqueued_at if nxt is not None else job.ended_at
                samples.append(
                    {
                        "phase": phases[s],
                        "cycle": (end - job.enqueued_at).total_seconds(),
                        "pickup": (job.started_at - job.enqueued_at).total_seconds(),
                        "job": (job.ended_at - job.started_at).total_seconds(),
                    }
                )
    finally:
        if workers:
            workers.stop()
        client.close()
    return {"samples": samples[:turns]}


def _row(label: str, samples: list[dict[str, Any]]) -> list[Any]:
    cyc = [s["cycle"] for s in samples]
    return [
        label,
        len(samples),
        ms(median(cyc)),
        ms(percentile(cyc, 99)),
        ms(median(s["pickup"] for s in samples)),
        ms(median(s["job"] for s in samples)),
    ]


def run(opts: Options) -> Result:
    turns = 100 if opts.quick else 200
    started = time.time()
    rows: list[list[Any]] = []
    checks: list[Check] = []
    with FakeServer(latency_ms=0) as fake:
        env = bench_env(fake.base_url)
        with process_env(env):
            modes = (
                [("SimpleWorker (in-process, profiled)", True, True)]
                if opts.profile
                else [
                    ("Worker (forking)", False, False),
                    ("SimpleWorker", True, False),
                ]
            )
            for label, simple, inprocess in modes:
                out = measure_queue(turns, simple=simple, env=env, inprocess=inprocess)
                samples = out["samples"]
                rows.append(_row(f"{label}: all turns", samples))
                orchestration = [s for s in samples if s["phase"] in ORCHESTRATION_ONLY]
                rows.append(_row(f"{label}: stop_check turns (orchestration only)", orchestration))
                rows.append(
                    _row(
                        f"{label}: filter turns (embeddings)", [s for s in samples if s["phase"] == "filter"]
                    )
                )
                rows.append(
                    _row(f"{label}: agent turns", [s for s in samples if s["phase"] not in CODE_ONLY])
                )
                if orchestration:
                    oc = [s["cycle"] for s in orchestration]
                    checks.append(
                        Check(
                            f"{label} orchestration-only median cycle", "report", ms(median(oc)) + " ms", True
                        )
                    )
                cyc = [s["cycle"] for s in samples]
                checks.append(
                    Check(f"{label} median cycle", "≤ 15 ms", ms(median(cyc)) + " ms", median(cyc) <= 0.015)
                )
                checks.append(
                    Check(
                        f"{label} p99 cycle",
                        "≤ 50 ms",
                        ms(percentile(cyc, 99)) + " ms",
                        percentile(cyc, 99) <= 0.05,
                    )
                )
    return Result(
        name="turn_overhead",
        title=f"Turn overhead (fake model 0 ms, {turns} turns, one worker)",
        columns=[
            "worker / turns",
            "n",
            "cycle median ms",
            "cycle p99 ms",
            "pickup median ms",
            "job median ms",
        ],
        rows=rows,
        checks=checks,
        notes=[
            "cycle = enqueue of step s → enqueue of step s+1 (RQ job timestamps); pickup = enqueue → job "
            "function starts; job = job function start → end (load, turn, CAS commit + next enqueue).",
            "Agent turns include the client side of 1-3 model calls (autogen + openai + httpx) against a "
            "0 ms fake; stop_check turns are pure orchestration; filter turns also embed (MiniLM).",
        ],
        seconds=time.time() - started,
    )
