"""Fan-out: the critique and the judge phase over K = 8 ideas, fake model L = 300 ms.

One `run_step` per phase, timed like the job runs it (`asyncio.run` + `turn_context`), for several
`max_concurrency` values (the settings default among them). Baseline in the same run: the same
phase with K = 1 (one call: L plus the per-turn overhead). Target: each phase ≤ 1.5 L at K = 8.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.common import TOPIC, Check, FakeServer, Options, Result, bench_env, median, process_env


def _state(k: int) -> Any:
    from agents.brief import Brief
    from agents.state import Idea, Phase, RunState

    now = time.time()
    ideas = [
        Idea(
            id=f"i{n}",
            title=f"Idea number {n} for canteens",
            summary=f"Summary of idea {n}, concrete.",
            round=1,
        )
        for n in range(1, k + 1)
    ]
    return RunState(
        run_id="fanout",
        brief=Brief(topic=TOPIC),
        phase=Phase.CRITIQUE,
        status="running",
        created_at=now,
        updated_at=now,
        started_at=now,
        ideas=ideas,
    )


def _timed_step(state: Any, concurrency: int) -> tuple[float, Any]:
    from agents.engine import run_step
    from config.settings import get_settings
    from workers.runtime import turn_context

    settings = get_settings().model_copy(update={"max_concurrency": concurrency})

    async def advance() -> Any:
        async with turn_context(settings, state.brief) as ctx:
            return await run_step(state, ctx)

    started = time.perf_counter()
    outcome = asyncio.run(advance())
    return time.perf_counter() - started, outcome.state


def measure(k: int, concurrency: int, repeats: int) -> tuple[list[float], list[float]]:
    crit, judge = [], []
    for _ in range(repeats):
        t_c, after = _timed_step(_state(k), concurrency)
        assert after.phase.value == "judge" and all(i.critique or i.dropped for i in after.ideas)
        t_j, done = _timed_step(after, concurrency)
        assert done.phase.value == "rank"  # the Elo matches are the next phase, not part of judging
        crit.append(t_c)
        judge.append(t_j)
    return crit, judge


def run(opts: Options) -> Result:
    from config.settings import Settings

    repeats = opts.repeats or (3 if opts.quick else 7)
    latency_ms, k = 300, 8
    L = latency_ms / 1000
    default = Settings.model_fields["max_concurrency"].default
    t0 = time.time()
    rows: list[list[Any]] = []
    checks: list[Check] = []
    with FakeServer(latency_ms=latency_ms) as fake, process_env(bench_env(fake.base_url)):
        c1, j1 = measure(1, default, repeats)
        rows.append(
            [
                1,
                default,
                f"{median(c1):.3f}",
                f"{median(c1) / L:.2f}",
                f"{median(j1):.3f}",
                f"{median(j1) / L:.2f}",
                "baseline (one call)",
            ]
        )
        for conc in sorted({4, 8, default}):
            c, j = measure(k, conc, repeats)
            tag = "settings default" if conc == default else ""
            rows.append(
                [
                    k,
                    conc,
                    f"{median(c):.3f}",
                    f"{median(c) / L:.2f}",
                    f"{median(j):.3f}",
                    f"{median(j) / L:.2f}",
                    tag,
                ]
            )
            if conc == default:
                for phase, vals in (("critique", c), ("judge", j)):
                    checks.append(
                        Check(
                            f"{phase} K={k}, max_concurrency={conc} (default)",
                            "≤ 1.5 L",
                            f"{median(vals) / L:.2f} L",
                            median(vals) <= 1.5 * L,
                        )
                    )
    return Result(
        name="fanout",
        title=f"Fan-out: critique and judge phases, fake model L = {latency_ms} ms, {repeats} repeats",
        columns=["K ideas", "max_concurrency", "critique s", "critique / L", "judge s", "judge / L", ""],
        rows=rows,
        checks=checks,
        notes=["Each phase is one run_step timed as the job runs it (asyncio.run + turn_context)."],
        seconds=time.time() - t0,
    )
