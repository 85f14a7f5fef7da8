"""What a public front door may ask for (workers/admission.py): no scheduler-only fields, and a
brief's model only from the operator's allowlist; the CLI, the Python API and the queue intake."""

from __future__ import annotations

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from typer.testing import CliRunner

from agents.brief import parse_brief
from agents.errors import InvalidBrief
from config.settings import Settings, get_settings
from ideaforge.cli import app
from tests.conftest import run_burst
from workers.api import Ideaforge

POSING = [
    ({"schedule": "nightly"}, "schedule is set by the scheduler only"),
    ({"schedule_slot": "2025-01-02T02:00:00+01:00"}, "schedule_slot is set by the scheduler only"),
    (
        {"schedule": "nightly", "schedule_slot": "manual-x"},
        "schedule and schedule_slot are set by the scheduler",
    ),
]


@pytest.mark.parametrize(("fields", "message"), POSING)
def test_the_python_api_refuses_scheduler_fields(
    settings: Settings, fields: dict[str, str], message: str
) -> None:
    forge = Ideaforge(settings)
    for brief in ({"topic": "Pose", **fields}, parse_brief({"topic": "Pose", **fields})):
        with pytest.raises(InvalidBrief, match=message):
            forge.submit(brief)
    assert forge.list_runs() == [] and forge.list_runs(schedule="nightly") == []


def test_the_cli_refuses_scheduler_fields(settings: Settings, tmp_path: object) -> None:
    result = CliRunner().invoke(
        app,
        ["submit", "--file", "-", "-q"],
        input='{"topic": "Pose", "schedule": "nightly", "schedule_slot": "s"}',
    )
    assert result.exit_code == 2
    assert "set by the scheduler only" in result.output
    assert Ideaforge(settings).list_runs() == []


def _intake(redis_client: redis.Redis, settings: Settings, brief: dict[str, object]) -> Job:
    queue = Queue(settings.queue_name, connection=redis_client, serializer=JSONSerializer)
    job = queue.enqueue("workers.intake.submit_brief", brief)
    run_burst(settings)
    return Job.fetch(job.id, connection=redis_client, serializer=JSONSerializer)


def test_the_queue_intake_refuses_scheduler_fields(settings: Settings, redis_client: redis.Redis) -> None:
    job = _intake(redis_client, settings, {"topic": "Pose", "schedule": "nightly", "schedule_slot": "s"})
    assert job.get_status() == JobStatus.FAILED
    assert "set by the scheduler only" in (job.latest_result().exc_string or "")  # type: ignore[union-attr]
    assert Ideaforge(settings).list_runs(schedule="nightly") == []


def test_the_scheduler_door_still_sets_them(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submitter.submit_scheduled(
        parse_brief({"topic": "Night", "schedule": "nightly", "schedule_slot": "s1"})
    )
    assert [r.run_id for r in forge.list_runs(schedule="nightly")] == [run_id]
    with pytest.raises(InvalidBrief, match="carries its schedule and schedule_slot"):
        forge.submitter.submit_scheduled(parse_brief({"topic": "Night"}))


# --- the brief's model -----------------------------------------------------------------------


def test_a_configured_model_may_be_named(settings: Settings) -> None:
    forge = Ideaforge(settings)  # IDEAFORGE_MODEL=fake-model in the test environment
    run_id = forge.submit({"topic": "Same model", "model": "fake-model", "rounds": 1})
    assert forge.get_run(run_id).brief.model == "fake-model"


def test_an_unlisted_model_is_refused_at_every_front_door(
    settings: Settings, redis_client: redis.Redis
) -> None:
    brief = {"topic": "Pricier model", "model": "gpt-4.5-preview", "rounds": 1}
    with pytest.raises(
        InvalidBrief, match=r"'gpt-4.5-preview' is not a model this server lets a brief choose.*allowed: fake-model"
    ):
        Ideaforge(settings).submit(brief)
    result = CliRunner().invoke(app, ["submit", "Pricier model", "--model", "gpt-4.5-preview", "-q"])
    assert result.exit_code == 2 and "IDEAFORGE_BRIEF_MODELS" in result.output
    job = _intake(redis_client, settings, brief)
    assert job.get_status() == JobStatus.FAILED
    assert "not a model this server lets a brief choose" in (job.latest_result().exc_string or "")  # type: ignore[union-attr]
    assert Ideaforge(settings).list_runs() == []


def test_operators_allow_more_models(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    monkeypatch.setenv("IDEAFORGE_BRIEF_MODELS", '["gpt-4o-mini", "gpt-4o"]')
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.brief_models == ["gpt-4o-mini", "gpt-4o"]
    forge = Ideaforge(settings)
    assert forge.get_run(forge.submit({"topic": "Listed", "model": "gpt-4o"})).brief.model == "gpt-4o"
    with pytest.raises(InvalidBrief, match="allowed: fake-model, gpt-4o, gpt-4o-mini"):
        forge.submit({"topic": "Unlisted", "model": "o1"})
    result = CliRunner().invoke(app, ["submit", "Listed", "--model", "gpt-4o-mini", "-q"])
    assert result.exit_code == 0, result.output
