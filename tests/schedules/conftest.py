"""Helpers for the schedule tests: a schedules file in the environment, seeded runs, processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from agents.brief import parse_brief
from agents.state import Critique, Idea, RunState, RunStatus, Score, StopReason, Usage
from config.settings import Settings, get_settings
from workers.store.runs import RunStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def write_schedules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[object], Path]:
    """Write a schedules file (a mapping, or raw text) and point IDEAFORGE_SCHEDULES_FILE at it."""

    def write(content: object) -> Path:
        path = tmp_path / "schedules.yaml"
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content), encoding="utf-8")
        monkeypatch.setenv("IDEAFORGE_SCHEDULES_FILE", str(path))
        get_settings.cache_clear()
        return path

    return write


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll a cheap Redis read until it holds (for state other processes change)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A CLI process of this checkout, stopped with SIGTERM (and killed if it hangs)."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.p = subprocess.Popen(
            [sys.executable, "-m", "ideaforge", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._out.close()
        return self.p.returncode

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    procs: list[Proc] = []

    def start(*args: str) -> Proc:
        proc = Proc(list(args), tmp_path / f"proc-{len(procs)}.log")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


def seed_run(
    store: RunStore,
    run_id: str,
    *,
    topic: str,
    titles: list[str],
    finished_at: float | None,
    created_at: float | None = None,
    dropped: dict[str, str] | None = None,
    schedule: str | None = None,
    slot: str | None = None,
    namespace: str = "default",
    tokens: tuple[int, int] = (1000, 500),
    cost_usd: float = 0.0,
) -> RunState:
    """Store a run as a worker would have left it (terminal ones get their shortlist)."""
    created = created_at if created_at is not None else (finished_at or time.time()) - 600
    ideas = [
        Idea(
            id=f"i{n}",
            title=title,
            summary=f"About {title.lower()}.",
            round=1,
            critique=Critique(flaws=["cost"], strongest_objection=f"{title} may cost too much", fatal=False),
            score=Score(novelty=8 - n, feasibility=6, rationale="promising"),
        )
        for n, title in enumerate(titles)
    ]
    for n, (title, why) in enumerate((dropped or {}).items()):
        ideas.append(Idea(id=f"d{n}", title=title, summary="-", round=1, dropped=why))
    brief = parse_brief(
        {"topic": topic, "namespace": namespace, "schedule": schedule, "schedule_slot": slot, "rounds": 1}
    )
    state = RunState(
        run_id=run_id,
        brief=brief,
        phase="done" if finished_at else "critique",
        status=RunStatus.FINISHED if finished_at else RunStatus.RUNNING,
        created_at=created,
        updated_at=finished_at or created,
        finished_at=finished_at,
        ideas=ideas,
        usage={
            "generator": Usage(
                calls=1, prompt_tokens=tokens[0], completion_tokens=tokens[1], cost_usd=cost_usd
            )
        },
        stop_reason=StopReason.ROUNDS_DONE if finished_at else None,
        stop_detail="1 of 1 rounds done" if finished_at else None,
    )
    store.create(state, [], lambda pipe: None)
    return state


def settings_now() -> Settings:
    return get_settings()
