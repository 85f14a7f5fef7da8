"""Real worker processes for the fault suite: start, find their work horses, SIGKILL, always clean up."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The test process's environment plus `env`, with this checkout first on the import path."""
    out = dict(os.environ)
    out.update(env)
    out.update(extra)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def is_horse(pid: int) -> bool:
    """RQ's work horse calls setpgrp: it leads its own process group (the scheduler does not)."""
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


@dataclass
class Workers:
    """`python -m ideaforge worker` processes, each in its own session (process group)."""

    env: dict[str, str]
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    horses_seen: set[int] = field(default_factory=set)

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            n = len(self.procs)
            log = open(self.log_dir / f"worker-{n}.log", "ab")  # noqa: SIM115 - closed by the process
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ideaforge", "worker"],
                    cwd=ROOT,
                    env=child_env(self.env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            log.close()

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def horses(self) -> list[tuple[int, int]]:
        """(worker pid, horse pid) for every horse at work now."""
        out = []
        for proc in self.live():
            for pid in children(proc.pid):
                if is_horse(pid):
                    out.append((proc.pid, pid))
                    self.horses_seen.add(pid)
        return out

    def kill_horse(self, horse: int) -> bool:
        """False if the horse finished its turn before the signal landed."""
        try:
            os.killpg(horse, signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def kill_worker(self, proc: subprocess.Popen[bytes], *, with_horse: bool = True) -> list[int]:
        """SIGKILL the worker's process group (worker, scheduler) and, if asked, its horse's group."""
        horses = [pid for pid in children(proc.pid) if is_horse(pid)]
        self.horses_seen.update(horses)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if with_horse:
            for horse in horses:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(horse, signal.SIGKILL)
        proc.wait(timeout=10)
        return horses

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop(self) -> None:
        """SIGTERM (warm shutdown), then SIGKILL whatever is left, horses and orphans included."""
        for proc in self.live():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs:
            self.horses_seen.update(pid for pid in children(proc.pid) if is_horse(pid))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            if proc.poll() is None:
                proc.wait(timeout=10)
        for horse in self.horses_seen:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(horse, signal.SIGKILL)
        self.procs.clear()
