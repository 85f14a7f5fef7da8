"""A malformed agents file is a configuration error: the run fails once, with the reason, unretried."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from agents.state import RunStatus
from config.settings import Settings, get_settings
from tests.conftest import run_burst
from workers.api import Ideaforge
from workers.queue import turn_job_id


@pytest.fixture
def bad_agents_file(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """`IDEAFORGE_AGENTS_FILE` names a file whose judge has a setting no role has."""
    path = tmp_path / "agents.yaml"
    path.write_text(
        "default_model_info: {json_output: true, structured_output: true}\n"
        "roles:\n  generator: {}\n  skeptic: {}\n  judge: {temprature: 0.2}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("IDEAFORGE_AGENTS_FILE", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_a_malformed_agents_file_fails_the_run_once_with_the_reason(
    bad_agents_file: Path, settings: Settings, redis_client: redis.Redis
) -> None:
    assert settings.agents_file == bad_agents_file
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "deny": ["composting"], "rounds": 1})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FAILED and state.step == 1
    detail = state.stop_detail or ""
    assert detail.startswith("AgentsConfigError: agents file") and str(bad_agents_file) in detail
    assert "temprature" in detail and "after retries" not in detail
    failures = [e for e in forge.iter_events(run_id) if e.content.startswith("turn failed")]
    assert len(failures) == 1
    job = Job.fetch(turn_job_id(run_id, 0), connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() is JobStatus.FINISHED  # the job itself succeeded: no RQ retry was spent
    assert job.retries_left == settings.turn_retries
