"""The local worker pool that `ideaforge run` starts and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field


@dataclass
class WorkerPool:
    """Plain RQ workers as child processes (`python -m ideaforge worker`)."""

    count: int
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        for _ in range(self.count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ideaforge", "worker", "--quiet"],
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def alive(self) -> int:
        return sum(1 for p in self.procs if p.poll() is None)

    def stop(self, timeout: float = 10.0) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # warm shutdown: the turn in flight finishes
        for proc in self.procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
