"""What a public front door may ask for (workers/admission.py): no scheduler-only fields, a
brief's model only from the operator's allowlist, a cost budget only with known prices; the CLI,
the Python API, the HTTP API and the queue intake. And the worker's side of the price rule."""

from __future__ import annotations

import json

import httpx
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
from ideaforge.devtools.fake_openai import FakeModelServer
from ideaforge.web.app import create_app
from tests.conftest import run_burst
from tests.web.conftest import LiveServer
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


# --- a cost budget needs known prices (workers/pricing.py) -------------------------------------

BUDGETED = {"topic": "Priced ideas", "rounds": 1, "budget": {"max_cost_usd": 0.5}}
NO_PRICE = r"max_cost_usd: \$0.5 cannot be kept: no known price for fake-model \(generator, judge, skeptic\); set"


def test_a_cost_budget_without_known_prices_is_refused_at_every_front_door(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """IDEAFORGE_MODEL=fake-model: a model no price table knows, and no price configured."""
    with pytest.raises(InvalidBrief, match=NO_PRICE):
        Ideaforge(settings).submit(BUDGETED)
    result = CliRunner().invoke(app, ["submit", "--file", "-", "-q"], input=json.dumps(BUDGETED))
    assert result.exit_code == 2 and "IDEAFORGE_PRICES" in result.output
    assert "Traceback" not in result.output
    with LiveServer(create_app(settings)) as server:
        response = httpx.post(f"{server.url}/runs", json=BUDGETED, timeout=30)
    assert response.status_code == 422 and "no known price for fake-model (generator, judge, skeptic)" in response.json()["detail"]
    job = _intake(redis_client, settings, BUDGETED)
    assert job.get_status() == JobStatus.FAILED
    assert "no known price" in (job.latest_result().exc_string or "")  # type: ignore[union-attr]
    assert Ideaforge(settings).list_runs() == []
    # without the budget the same brief is taken (its cost will read "unknown")
    assert Ideaforge(settings).submit({**BUDGETED, "budget": {}})


def test_a_priced_model_may_have_a_cost_budget(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    monkeypatch.setenv("IDEAFORGE_PRICES", '{"fake-model": [0.1, 0.2]}')
    get_settings.cache_clear()
    assert Ideaforge(get_settings()).submit(BUDGETED)
    monkeypatch.setenv("IDEAFORGE_MODEL", "gpt-4o-mini")  # priced by the table, no setting needed
    monkeypatch.delenv("IDEAFORGE_PRICES")
    get_settings.cache_clear()
    assert Ideaforge(get_settings()).submit(BUDGETED)
    with pytest.raises(InvalidBrief, match=r"no known price for fake-model \(generator, judge, skeptic\)"):
        monkeypatch.setenv("IDEAFORGE_BRIEF_MODELS", '["fake-model"]')
        get_settings.cache_clear()
        Ideaforge(get_settings()).submit({**BUDGETED, "model": "fake-model"})  # the brief's own model


def test_gpt_4o_mini_is_priced_from_the_table_and_its_cost_budget_stops_the_run(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """No price configured: the table prices gpt-4o-mini (the fake server answers with usage), and
    a budget smaller than one request stops the run at the next turn, a shortlist written."""
    monkeypatch.setenv("IDEAFORGE_MODEL", "gpt-4o-mini")
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "Cheap ideas", "rounds": 3, "budget": {"max_cost_usd": 0.00001}})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status.value == "finished" and state.stop_reason is not None
    assert state.stop_reason.value == "cost_budget", state.stop_detail
    assert state.cost_usd is not None and state.cost_usd >= 0.00001
    assert forge.get_shortlist(run_id) is not None
    shown = CliRunner().invoke(app, ["show", run_id])
    assert shown.exit_code == 0 and f"${state.cost_usd:.4f}" in shown.output
    listed = CliRunner().invoke(app, ["runs", "--format", "json"])
    assert json.loads(listed.output)[0]["cost_usd"] == pytest.approx(state.cost_usd, abs=1e-6)


def test_a_worker_without_the_price_fails_the_budgeted_run(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], fake_model: FakeModelServer
) -> None:
    """The submitter had a price, the worker has none: the run ends failed with the reason, before
    the worker asks the model anything."""
    monkeypatch.setenv("IDEAFORGE_PRICES", '{"fake-model": [0.1, 0.2]}')
    get_settings.cache_clear()
    run_id = Ideaforge(get_settings()).submit(BUDGETED)
    monkeypatch.delenv("IDEAFORGE_PRICES")
    get_settings.cache_clear()
    settings = get_settings()
    run_burst(settings)
    state = Ideaforge(settings).get_run(run_id)
    assert state.status.value == "failed" and state.stop_reason is not None
    assert state.stop_reason.value == "error"
    assert "on this worker, budget.max_cost_usd: $0.5 cannot be kept: no known price" in (state.stop_detail or "")
    assert fake_model.state.prompt_chars == []  # not one request paid


def test_an_unknown_cost_reads_unknown_in_the_cli(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "Unpriced ideas", "rounds": 1})
    run_burst(settings)
    assert forge.get_run(run_id).cost_usd is None
    shown = CliRunner().invoke(app, ["show", run_id])
    assert shown.exit_code == 0 and "unknown" in shown.output and "$0.0000" not in shown.output
    listed = CliRunner().invoke(app, ["runs", "--format", "json"])
    assert json.loads(listed.output)[0]["cost_usd"] is None
