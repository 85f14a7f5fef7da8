"""How long the `ideaforge` command line takes to start: `--help`, and `runs` with 20 runs stored.

    python -m benchmarks.cli_startup                      # this checkout's code
    python -m benchmarks.cli_startup --code /tmp/before   # another checkout's code (e.g. a git worktree)

Each command runs through the interpreter's own console script (`<bin>/ideaforge`, not a shim),
with PYTHONPATH set to the code under test, `--repeats` times (median reported; one warm-up run
first so the file cache is warm), next to the floor: a bare
`python -c "import redis, pydantic_settings, rich, typer"`. The 20 runs are stored through the facade
(`Ideaforge.submit`, no worker) in the benchmark Redis DB (`IDEAFORGE_BENCH_REDIS_URL`, default
redis://127.0.0.1:6379/9; that DB is flushed first). The load average is printed with the table:
on a busy machine every number grows.
Targets (issue 11): `--help` < 0.6 s; `runs` within 0.3 s of the bare import.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import redis

from benchmarks.common import KEY_PREFIX, REDIS_URL, ROOT, TOPIC

BARE = [sys.executable, "-c", "import redis, pydantic_settings, rich, typer"]
RUNS_STORED = 20


def console_script() -> Path:
    """The `ideaforge` script installed next to this interpreter."""
    script = Path(sys.executable).parent / "ideaforge"
    if not script.exists():
        raise SystemExit(f"no console script at {script}: pip install -e . first")
    return script


def bench_env(code: Path) -> dict[str, str]:
    """The environment every timed command gets: the code under test, the benchmark DB and prefix."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDEAFORGE_")}
    env.update(
        PYTHONPATH=str(code),
        IDEAFORGE_REDIS_URL=REDIS_URL,
        IDEAFORGE_KEY_PREFIX=KEY_PREFIX,
        COLUMNS="120",
    )
    return env


def store_runs(n: int) -> None:
    """Flush the benchmark DB and submit `n` runs through the facade (queued; no worker runs them)."""
    from config.settings import Settings
    from workers.api import Ideaforge

    redis.Redis.from_url(REDIS_URL).flushdb()
    forge = Ideaforge(Settings(redis_url=REDIS_URL, key_prefix=KEY_PREFIX))
    for i in range(n):
        forge.submit({"topic": f"{TOPIC} #{i + 1}", "rounds": 1})


def timed(cmd: list[str], env: dict[str, str], repeats: int) -> list[float]:
    """Wall seconds of `repeats` runs of `cmd` (after one untimed warm-up); exits if it fails."""
    samples = []
    for n in range(repeats + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        if n:
            samples.append(took)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose code runs (PYTHONPATH)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command (median reported)")
    args = parser.parse_args(argv)
    env = bench_env(args.code.resolve())
    script = str(console_script())
    store_runs(RUNS_STORED)
    load_before = os.getloadavg()
    results = {
        "bare import (redis, pydantic_settings, rich, typer)": timed(BARE, env, args.repeats),
        "ideaforge --help": timed([script, "--help"], env, args.repeats),
        f"ideaforge runs ({RUNS_STORED} runs stored)": timed([script, "runs"], env, args.repeats),
    }
    load_after = os.getloadavg()
    bare = statistics.median(next(iter(results.values())))
    print(f"code: {args.code.resolve()}   console script: {script}   repeats: {args.repeats}")
    print(
        f"load average (1/5/15 min): before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}   cpus: {os.cpu_count()}"
    )
    print(f"| {'command':<52} | median s | min s | max s | − bare s |")
    print(f"|{'-' * 54}|---------:|------:|------:|---------:|")
    for name, samples in results.items():
        med = statistics.median(samples)
        print(f"| {name:<52} | {med:8.3f} | {min(samples):5.3f} | {max(samples):5.3f} | {med - bare:8.3f} |")
    help_s = statistics.median(results["ideaforge --help"])
    runs_s = statistics.median(results[f"ideaforge runs ({RUNS_STORED} runs stored)"])
    help_ok, runs_ok = help_s < 0.6, runs_s - bare <= 0.3
    print(
        f"--help < 0.6 s: {'ok' if help_ok else 'MISSED'}; runs within 0.3 s of the bare import: "
        f"{'ok' if runs_ok else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
