"""Prices (workers/pricing.py): the genai-prices table for known hosted models, config overriding it,
the embedded model a known 0, an unknown model unknown (never 0), and a cost budget that an
unpriced model could not keep refused in the turn, before any request is paid."""

from __future__ import annotations

import pytest
from genai_prices import Usage, calc_price

from agents.calls import Prices
from agents.engine import run_step
from agents.errors import ModelConfigError
from agents.models import resolve_role_models
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.unit.helpers import make_state
from workers.pricing import cost_budget_problem, role_prices
from workers.runtime import agents_config, turn_context

GPT_4O_MINI = calc_price(Usage(input_tokens=1000, output_tokens=1000), "gpt-4o-mini", provider_id="openai")


def _prices(settings: Settings, brief_model: str | None = None) -> dict[str, Prices]:
    roles = resolve_role_models(settings, agents_config(settings), brief_model)
    return {role: role_prices(settings, rm) for role, rm in roles.items()}


def _hosted(**extra: object) -> Settings:
    return Settings(**{"openai_base_url": "http://127.0.0.1:9/v1", "model": "gpt-4o-mini", **extra})


def test_a_known_hosted_model_is_priced_from_the_table_without_configuration() -> None:
    table = Prices(float(GPT_4O_MINI.input_price), float(GPT_4O_MINI.output_price))
    assert table.prompt_per_1k and table.completion_per_1k  # the table does price it
    assert set(_prices(_hosted()).values()) == {table}  # an endpoint the table does not know
    openai = Settings(openai_base_url=None, openai_api_key="sk-test", model="gpt-4o-mini")
    assert set(_prices(openai).values()) == {table}  # OpenAI's own API
    assert set(_prices(_hosted(), brief_model="o3-mini").values()) == {
        Prices(
            float(calc_price(Usage(input_tokens=1000), "o3-mini", provider_id="openai").input_price),
            float(calc_price(Usage(output_tokens=1000), "o3-mini", provider_id="openai").output_price),
        )
    }


def test_an_unknown_model_stays_unknown_never_zero() -> None:
    assert set(_prices(_hosted(model="fake-model")).values()) == {Prices(None, None)}
    # a provider the table knows by its URL, which does not list the model
    groq = Settings(openai_base_url="https://api.groq.com/openai/v1", model="gpt-4o-mini")
    assert set(_prices(groq).values()) == {Prices(None, None)}


def test_configured_prices_win_over_the_table() -> None:
    by_model = _hosted(prices={"gpt-4o-mini": (1.0, 2.0)}, prompt_price_per_1k=5.0, completion_price_per_1k=6.0)
    assert set(_prices(by_model).values()) == {Prices(1.0, 2.0)}  # the model's own entry first
    assert set(_prices(_hosted(prompt_price_per_1k=5.0, completion_price_per_1k=6.0)).values()) == {
        Prices(5.0, 6.0)
    }
    # one price set: the other still comes from the table
    assert set(_prices(_hosted(completion_price_per_1k=6.0)).values()) == {
        Prices(float(GPT_4O_MINI.input_price), 6.0)
    }
    unknown = _hosted(model="fake-model", prices={"fake-model": (0.0, 0.0)})
    assert set(_prices(unknown).values()) == {Prices(0.0, 0.0)}  # e.g. a self-hosted model is free


def test_the_embedded_model_is_a_known_zero_whatever_is_configured() -> None:
    local = Settings(openai_base_url=None, openai_api_key=None, prompt_price_per_1k=9.0)
    assert set(_prices(local).values()) == {Prices(0.0, 0.0)}


async def test_a_run_on_the_embedded_model_costs_a_known_zero(fake_model: FakeModelServer) -> None:
    """The embedded server's endpoint, played by the fake: tokens counted, cost 0.0 (not unknown)."""
    local = Settings(openai_base_url=None, openai_api_key=None, local_model_port=fake_model.port)
    state = make_state(deny=["x"], budget={"max_cost_usd": 0.01})
    async with turn_context(local, state.brief) as ctx:
        outcome = await run_step(state, ctx)
    assert outcome.state.total_tokens > 0 and outcome.state.cost_usd == 0.0


async def test_gpt_4o_mini_is_charged_at_the_table_price(fake_model: FakeModelServer) -> None:
    settings = Settings(openai_base_url=fake_model.base_url, model="gpt-4o-mini", model_max_retries=0)
    async with turn_context(settings, make_state().brief) as ctx:
        outcome = await run_step(make_state(deny=["x"]), ctx)
    usage = outcome.state.usage["generator"]
    expected = (
        usage.prompt_tokens * float(GPT_4O_MINI.input_price)
        + usage.completion_tokens * float(GPT_4O_MINI.output_price)
    ) / 1000
    assert usage.unpriced_calls == 0 and expected > 0
    assert outcome.state.cost_usd == pytest.approx(expected)


async def test_a_cost_budget_with_an_unpriced_model_fails_before_a_request(fake_model: FakeModelServer) -> None:
    """A worker whose settings leave a model unpriced refuses the budgeted run's turn (the job
    then fails the run with this message); without a cost budget the same turn runs, cost unknown."""
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    state = make_state(deny=["x"], budget={"max_cost_usd": 0.5})
    with pytest.raises(ModelConfigError, match=r"no known price for fake-model \(generator, judge, skeptic\).*IDEAFORGE_PRICES"):
        async with turn_context(settings, state.brief):
            pass
    assert fake_model.state.prompt_chars == []  # nothing was asked, nothing paid
    async with turn_context(settings, make_state().brief) as ctx:
        outcome = await run_step(make_state(deny=["x"]), ctx)
    assert outcome.state.total_tokens > 0 and outcome.state.cost_usd is None


def test_the_refusal_names_each_unpriced_model_with_its_roles() -> None:
    settings = _hosted(model="fake-model", judge_model="gpt-4o-mini")
    roles = resolve_role_models(settings, agents_config(settings))
    problem = cost_budget_problem(make_state(budget={"max_cost_usd": 2}).brief, settings, roles)
    assert problem is not None
    assert "no known price for fake-model (generator, skeptic); set IDEAFORGE_PRICES='{\"fake-model\"" in problem
    assert cost_budget_problem(make_state().brief, settings, roles) is None  # no cost budget
