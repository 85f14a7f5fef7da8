"""A bounded slice of benchmarks/load.py: 30 runs through 2 real workers, all complete, memory flat."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import TEST_DB
from tests.faults.procs import ROOT, child_env
from tests.faults.redis_server import free_port


def test_30_runs_through_2_workers(redis_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load",
            "--runs",
            "30",
            "--workers",
            "2",
            "--latency-ms",
            "10",
            "--redis-db",
            str(TEST_DB),
            "--port",
            str(free_port()),
            "--timeout-s",
            "240",
        ],
        cwd=ROOT,
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert re.search(r"runs finished\s+30/30", out), out
    start = [float(x) for x in re.search(r"worker RSS start\s+([\d ]+) MB", out).group(1).split()]  # type: ignore[union-attr]
    end = [float(x) for x in re.search(r"worker RSS end\s+([\d ]+) MB", out).group(1).split()]  # type: ignore[union-attr]
    assert all(e - s < 40 for s, e in zip(start, end, strict=True)), (start, end)  # no per-turn leak
    print(out)
