"""The fault and load suite: real Redis, real `ideaforge worker` processes, real SIGKILLs.

Every test here is marked `faults`; skip them locally with `pytest -m "not faults"`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.procs import Workers

FAULTS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if FAULTS_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def fast_recovery(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Short liveness and recovery periods, so a dead worker's turn comes back within seconds."""
    extra = {
        "IDEAFORGE_WORKER_HEARTBEAT_S": "0.5",
        "IDEAFORGE_WORKER_DEAD_AFTER_S": "2",
        "IDEAFORGE_RECOVERY_INTERVAL_S": "0.5",
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    env.update(extra)
    return env


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(env=env, log_dir=tmp_path)
    try:
        yield pool
    finally:
        pool.stop()
