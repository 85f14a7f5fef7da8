"""Load: N one-round runs through W real `ideaforge worker` processes against the fake model.

    python -m benchmarks.load --runs 500 --workers 4 --latency-ms 10 --redis-db 11

Prints a table: throughput, queue wait (enqueued -> started, per turn, from RQ's job hashes),
per-turn overhead (turn wall time minus time spent waiting on the model), worker RSS at start/end.
Everything it starts (fake model server, workers) is killed at the end, by process group.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import redis

from workers.store import as_text

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    """RSS of the worker's main process (its forked horses come and go with each turn)."""
    total = 0
    for p in [pid]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _ppid(p: Path) -> int:
    try:
        return int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _ts(raw: bytes | None) -> float | None:
    if not raw:
        return None
    return datetime.strptime(as_text(raw).rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=10)
    ap.add_argument("--ideas", type=int, default=2)
    ap.add_argument("--redis-db", type=int, default=11)
    ap.add_argument("--port", type=int, default=18123)
    ap.add_argument("--timeout-s", type=float, default=1200)
    args = ap.parse_args()
    url = f"redis://127.0.0.1:6379/{args.redis_db}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "IDEAFORGE_REDIS_URL": url,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{args.port}/v1",
        "IDEAFORGE_MODEL": "fake-model",
        "IDEAFORGE_LOG_LEVEL": "WARNING",
        "IDEAFORGE_LOG_FORMAT": "json",
    }
    env.pop("OPENAI_API_KEY", None)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("IDEAFORGE_", "OPENAI_"))})
    sys.path.insert(0, str(ROOT))
    from config.settings import get_settings
    from workers.api import Ideaforge

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on SIGTERM
    client = redis.Redis.from_url(url)
    client.flushdb()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ideaforge.devtools.fake_openai",
                    "--port",
                    str(args.port),
                    "--latency-ms",
                    str(args.latency_ms),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "ideaforge", "worker"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(args.workers)
        ]
        procs.extend(workers)
        deadline = time.monotonic() + 60
        while len(client.keys("rq:worker:*")) < args.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # let the warm-up finish before measuring RSS
        rss_start = [rss_mb(w.pid) for w in workers]
        forge = Ideaforge(get_settings())
        brief = {
            "topic": "Ways to reduce food waste in university cafeterias",
            "rounds": 1,
            "ideas_per_round": args.ideas,
        }
        t0 = time.monotonic()
        run_ids = [forge.submit(brief) for _ in range(args.runs)]
        submit_s = time.monotonic() - t0
        while time.monotonic() - t0 < args.timeout_s:
            counts = forge.count_runs()
            done = sum(counts[s] for s in ("finished", "failed", "cancelled"))
            if done >= args.runs:
                break
            if int(time.monotonic() - t0) % 15 == 0:
                print(f"  ... {done}/{args.runs} done after {time.monotonic() - t0:.0f} s", flush=True)
            time.sleep(1.0)
        wall = time.monotonic() - t0
        rss_end = [rss_mb(w.pid) for w in workers]
        states = [forge.get_run(r) for r in run_ids]
        finished = sum(s.status.value == "finished" for s in states)
        waits, turns = [], []
        for key in client.scan_iter("rq:job:turn-*"):
            enq, start, end = (_ts(v) for v in client.hmget(key, "enqueued_at", "started_at", "ended_at"))
            if enq and start:
                waits.append(start - enq)
            if start and end:
                turns.append(end - start)
        model_ms = [e.latency_ms or 0 for s in run_ids for _, e in forge.events(s) if e.model]
        n_turns = sum(s.step for s in states)
        overhead_ms = (sum(turns) * 1000 - sum(model_ms) / max(1, 1)) / max(1, len(turns))
        rows = [
            ("runs finished", f"{finished}/{args.runs}"),
            ("turns", f"{n_turns}"),
            ("wall time", f"{wall:.1f} s (submit {submit_s:.1f} s)"),
            ("throughput", f"{finished / wall:.2f} runs/s, {n_turns / wall:.1f} turns/s"),
            ("queue wait p50 / p99", f"{pct(waits, 0.5) * 1000:.0f} ms / {pct(waits, 0.99) * 1000:.0f} ms"),
            ("turn time p50 / p99", f"{pct(turns, 0.5) * 1000:.0f} ms / {pct(turns, 0.99) * 1000:.0f} ms"),
            ("per-turn overhead (turn - model wait)", f"{overhead_ms:.0f} ms mean"),
            ("worker RSS start", " ".join(f"{r:.0f}" for r in rss_start) + " MB"),
            ("worker RSS end", " ".join(f"{r:.0f}" for r in rss_end) + " MB"),
            ("workers alive at the end", f"{sum(w.poll() is None for w in workers)}/{args.workers}"),
        ]
        print(
            f"\nload: {args.runs} runs x 1 round, {args.ideas} ideas, {args.workers} workers, "
            f"fake model {args.latency_ms:.0f} ms"
        )
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        if finished != args.runs or any(w.poll() is not None for w in workers):
            sys.exit(1)
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        client.flushdb()


if __name__ == "__main__":
    main()
