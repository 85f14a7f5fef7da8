"""`ideaforge run`: submit, start local workers, follow the transcript, print the shortlist."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.state import TranscriptEvent
from workers.api import Ideaforge


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


def follow_run(
    forge: Ideaforge,
    run_id: str,
    on_event: Callable[[TranscriptEvent], None],
    on_idle: Callable[[], None] | None = None,
) -> None:
    """Call `on_event` for every transcript event until the run stops; `on_idle` between events."""
    last = "0-0"
    while True:
        for eid, event in forge.store.events(run_id, after=last):
            last = eid
            on_event(event)
        if forge.store.load(run_id).terminal:
            for eid, event in forge.store.events(run_id, after=last):
                last = eid
                on_event(event)
            return
        for item in forge.store.follow(run_id, after=last, block_ms=500):
            if item is None:
                if on_idle is not None:
                    on_idle()
                break
            last, event = item
            on_event(event)
