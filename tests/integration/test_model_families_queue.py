"""Model-family misbehaviour through the real queue: a refused parameter fails the run once with the
endpoint's message; a filtered answer fails one call and nothing else (no RQ retry of the turn)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from agents.state import RunStatus, StopReason
from config.settings import Settings, get_settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.conftest import run_burst
from workers.api import Ideaforge
from workers.queue import turn_job_id


@pytest.fixture
def reasoning_endpoint(
    env: dict[str, str], fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeModelServer]:
    """`IDEAFORGE_MODEL=o3-mini` against an endpoint that behaves as OpenAI's reasoning models."""
    fake_model.set_modes("reasoning")
    monkeypatch.setenv("IDEAFORGE_MODEL", "o3-mini")
    get_settings.cache_clear()
    yield fake_model
    get_settings.cache_clear()


def test_a_reasoning_model_finishes_a_run_through_the_queue(
    reasoning_endpoint: FakeModelServer, redis_client: redis.Redis
) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "deny": ["composting"], "rounds": 1})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED and state.stop_reason is StopReason.ROUNDS_DONE
    assert state.total_tokens > 0 and forge.get_shortlist(run_id).ideas
    assert reasoning_endpoint.state.refused == []


def test_a_forced_temperature_fails_the_run_once_with_the_message(
    reasoning_endpoint: FakeModelServer,
    redis_client: redis.Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(
        "default_model_info: {json_output: true, structured_output: true, family: unknown}\n"
        "roles:\n  generator: {params: {send_temperature: true}}\n  skeptic: {}\n  judge: {}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("IDEAFORGE_AGENTS_FILE", str(path))
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "deny": ["composting"], "rounds": 2})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FAILED and state.step == 1
    assert "ModelConfigError" in (state.stop_detail or "")
    assert "Unsupported value: 'temperature' does not support 0.7" in (state.stop_detail or "")
    assert reasoning_endpoint.state.requests["total"] == 1
    job = Job.fetch(turn_job_id(run_id, 0), connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() is JobStatus.FINISHED and job.retries_left == settings.turn_retries


def test_a_filtered_critique_costs_one_call_not_the_turn(
    settings: Settings, fake_model: FakeModelServer, redis_client: redis.Redis
) -> None:
    """Azure's content filter on ONE Skeptic call crashed the critique turn; RQ re-ran it (the other
    ideas' calls paid again) and the run failed with an empty shortlist."""
    fake_model.add_faults(Fault(kind="content_filter", role="skeptic"))
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "cafeteria waste", "deny": ["composting"], "rounds": 1})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED and forge.get_shortlist(run_id).ideas
    assert fake_model.state.requests["skeptic"] == state.rounds[0].kept  # each critique asked once
    errors = [e for e in forge.iter_events(run_id) if e.kind == "error"]
    assert len(errors) == 1 and "content_filter" in errors[0].content and errors[0].role == "skeptic"
