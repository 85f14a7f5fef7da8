"""Shared plumbing for the benchmarks: the fake model as a separate process, worker processes,
the benchmark Redis DB, statistics and result tables.

Everything runs against `IDEAFORGE_BENCH_REDIS_URL` (default redis://127.0.0.1:6379/9); only that
DB is ever flushed. Every process started here is stopped here (by pid).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("IDEAFORGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
KEY_PREFIX = "ifbench"
TOPIC = "Ways to reduce food waste in university cafeterias"


# --- options and results ---------------------------------------------------------------------
@dataclass
class Options:
    quick: bool = False
    profile: bool = False  # benchmarks with subprocess workers run the turns in-process instead
    repeats: int | None = None


@dataclass
class Check:
    what: str
    target: str
    measured: str
    ok: bool | None  # None: report only


@dataclass
class Result:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- statistics ------------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    vals = list(values)
    return statistics.median(vals) if vals else float("nan")


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the 198th smallest)."""
    vals = sorted(values)
    if not vals:
        return float("nan")
    rank = max(1, min(len(vals), int(-(-pct * len(vals) // 100))))
    return vals[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# --- environment -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(base_url: str, **extra: str) -> dict[str, str]:
    """The environment for code under test and its worker processes (no real keys, bench DB)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("IDEAFORGE_") or k.startswith("IDEAFORGE_BENCH")
    }
    env.pop("OPENAI_API_KEY", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "IDEAFORGE_REDIS_URL": REDIS_URL,
            "IDEAFORGE_KEY_PREFIX": KEY_PREFIX,
            "OPENAI_BASE_URL": base_url,
            "IDEAFORGE_MODEL": "fake-model",
            "IDEAFORGE_LOG_FORMAT": "json",
            "IDEAFORGE_LOG_LEVEL": "WARNING",
            "IDEAFORGE_TURN_RETRY_INTERVALS_S": "[0]",
            "PYTHONPATH": str(ROOT)
            + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""),
        }
    )
    env.update(extra)
    return env


@contextmanager
def process_env(env: dict[str, str]) -> Iterator[None]:
    """Make this process see `env` (and fresh settings) for the duration."""
    from config.settings import get_settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def flush_bench_db() -> None:
    client = redis_client()
    client.flushdb()
    client.close()


# --- the fake model server, as its own process ------------------------------------------------
class FakeServer:
    """`python -m ideaforge.devtools.fake_openai` in a separate process (no shared GIL)."""

    def __init__(self, latency_ms: float = 0.0) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ideaforge.devtools.fake_openai",
                "--port",
                str(self.port),
                "--latency-ms",
                str(latency_ms),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while True:
            try:
                self._get("/health")
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("the fake model server did not start") from None
                time.sleep(0.05)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
            return json.loads(resp.read())

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def configure(self, latency_ms: float | None = None, reset: bool = False) -> None:
        body: dict[str, Any] = {"reset": reset}
        if latency_ms is not None:
            body["latency_ms"] = latency_ms
        self._post("/_control/config", body)

    def stats(self) -> dict[str, Any]:
        return dict(self._get("/_control/stats"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- worker processes --------------------------------------------------------------------------
class WorkerProcs:
    """n RQ workers (`benchmarks._worker`, i.e. workers.worker.build_worker) as child processes."""

    def __init__(self, env: dict[str, str], n: int, *, simple: bool = False, burst: bool = False) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        args = [sys.executable, "-m", "benchmarks._worker"]
        if simple:
            args.append("--simple")
        if burst:
            args.append("--burst")
        for k in range(n):
            self.procs.append(
                subprocess.Popen(
                    [*args, "--name", f"bench-{os.getpid()}-{k}-{time.time_ns() % 10**9}"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def wait_registered(self, client: redis.Redis, timeout: float = 60.0) -> None:
        """Wait until every worker is up and listening (excludes start-up from timings)."""
        from rq import Worker

        deadline = time.time() + timeout
        while len(Worker.all(connection=client)) < len(self.procs):
            if time.time() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError("benchmark workers did not start")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 300.0) -> None:
        for p in self.procs:
            p.wait(timeout=timeout)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def __enter__(self) -> WorkerProcs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- runs ------------------------------------------------------------------------------------
def wait_terminal(store: Any, run_ids: list[str], timeout: float = 600.0, poll_s: float = 0.02) -> None:
    deadline = time.time() + timeout
    pending = set(run_ids)
    while pending:
        for run_id in list(pending):
            if store.load(run_id).terminal:
                pending.discard(run_id)
        if pending:
            if time.time() > deadline:
                raise TimeoutError(f"runs not finished after {timeout:.0f} s: {sorted(pending)}")
            time.sleep(poll_s)


def turn_jobs(client: redis.Redis, run_id: str, steps: int, timeout: float = 30.0) -> list[Any]:
    """The RQ jobs of steps 0..steps-1 of a run (kept for result_ttl), once RQ has finished them
    (a run turns terminal inside its last job, a moment before RQ records that job's end)."""
    from rq.job import Job
    from rq.serializers import JSONSerializer

    from workers.queue import turn_job_id

    ids = [turn_job_id(run_id, s) for s in range(steps)]
    deadline = time.time() + timeout
    while True:
        jobs = list(Job.fetch_many(ids, connection=client, serializer=JSONSerializer))
        if all(j is not None and j.ended_at is not None and j.enqueued_at is not None for j in jobs):
            return jobs
        if time.time() > deadline:
            raise TimeoutError(f"jobs of run {run_id} not finished")
        time.sleep(0.02)


def in_process_brainstorm(brief: dict[str, Any]) -> Any:
    """The in-process baseline: the same state a submit creates, advanced by `run_step` in a loop
    with the same per-step `turn_context` (and per-step `asyncio.run`) as the RQ job."""
    from agents.brief import parse_brief
    from agents.engine import run_step
    from agents.ids import new_run_id
    from agents.state import new_run_state
    from config.settings import get_settings
    from workers.runtime import turn_context

    settings = get_settings()
    parsed = parse_brief(brief)
    now = time.time()
    state = new_run_state(parsed, new_run_id(), now)
    events = []
    while not state.terminal:
        current = state

        async def advance(current: Any = current) -> Any:
            async with turn_context(settings, current.brief) as ctx:
                return await run_step(current, ctx)

        outcome = asyncio.run(advance())
        state = outcome.state
        events.extend(outcome.events)
    return state, events
