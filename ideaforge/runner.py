"""The local worker pool that `ideaforge run` starts and stops."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field


@dataclass
class WorkerPool:
    """Plain RQ workers as child processes (`python -m ideaforge worker`) serving the queue `queue`.

    Each worker runs in a session of its own (`start_new_session`), so the terminal's Ctrl-C reaches
    only `ideaforge run`, which decides what to do (cancel the run and let the turn in flight finish;
    a second Ctrl-C: `kill`). `queue` is passed as `ideaforge worker --queue`.
    """

    count: int
    queue: str
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        """Start `count` workers (returns at once; they connect and register in the background)."""
        for _ in range(self.count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ideaforge", "worker", "--quiet", "--queue", self.queue],
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )

    def alive(self) -> int:
        """How many of the workers are still running."""
        return sum(1 for p in self.procs if p.poll() is None)

    def stop(self, timeout: float = 10.0) -> None:
        """Warm shutdown: SIGTERM, so the turn in flight finishes; whatever is still running after
        `timeout` seconds is killed with its session (the worker's work horse and scheduler too)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_session(proc)
        self.procs.clear()

    def kill(self) -> None:
        """Stop at once: SIGKILL each worker's whole session (the turn in flight is abandoned)."""
        for proc in self.procs:
            _kill_session(proc)
        self.procs.clear()


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the session leader's pid is its group's id
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
