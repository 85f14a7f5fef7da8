"""Usage and cost are recorded per HTTP request to the model, as each response arrives."""

from __future__ import annotations

import pytest

from agents.calls import Prices, ask_structured
from agents.context import EventLog
from agents.engine import run_step
from agents.models import resolve_role_models
from agents.schemas import ScoreAnswer
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.unit.helpers import make_state
from workers.runtime import agents_config, role_prices, turn_context


def _settings(fake: FakeModelServer, **extra: object) -> Settings:
    return Settings(openai_base_url=fake.base_url, model="fake-model", model_max_retries=0, **extra)


def _tokens(fake: FakeModelServer) -> list[int]:
    """The prompt tokens the fake reported for each request it answered (its rule: chars // 4)."""
    return [max(1, chars // 4) for chars in fake.state.prompt_chars]


async def test_a_reask_counts_both_requests(fake_model: FakeModelServer) -> None:
    """The invalid first answer's tokens are charged too, not only the re-ask's."""
    fake_model.add_faults(Fault(kind="bad_schema", role="judge"))
    state = make_state()
    async with turn_context(_settings(fake_model), state.brief) as ctx:
        value, record = await ask_structured(ctx.agents["judge"], "Score this idea.", ScoreAnswer)
    assert value is not None and record.attempts == 2
    assert len(record.requests) == 2 and [r.prompt_tokens for r in record.requests] == _tokens(fake_model)
    log = EventLog(state, lambda: 0.0)
    log.call(record)
    assert state.usage["judge"].prompt_tokens == sum(_tokens(fake_model))
    assert state.usage["judge"].completion_tokens == record.completion_tokens > 0
    assert state.usage["judge"].calls == 1  # one agent call, one transcript line


async def test_unknown_price_gives_an_unknown_cost(fake_model: FakeModelServer) -> None:
    """A hosted endpoint without prices: the cost is unknown (None), never 0."""
    async with turn_context(_settings(fake_model), make_state().brief) as ctx:
        outcome = await run_step(make_state(deny=["x"]), ctx)
    state = outcome.state
    assert state.total_tokens > 0 and state.cost_usd is None
    assert state.usage["generator"].unpriced_calls == 1
    assert [e.cost_usd for e in outcome.events if e.role == "generator"] == [None]


async def test_known_price_gives_the_cost_in_usd(fake_model: FakeModelServer) -> None:
    settings = _settings(fake_model, prompt_price_per_1k=0.5, completion_price_per_1k=2.0)
    async with turn_context(settings, make_state().brief) as ctx:
        outcome = await run_step(make_state(deny=["x"]), ctx)
    usage = outcome.state.usage["generator"]
    expected = (usage.prompt_tokens * 0.5 + usage.completion_tokens * 2.0) / 1000
    assert usage.prompt_tokens == sum(_tokens(fake_model))
    assert outcome.state.cost_usd == pytest.approx(expected) and expected > 0
    [event] = [e for e in outcome.events if e.role == "generator"]
    assert event.cost_usd == pytest.approx(expected)


async def test_an_unknown_cost_cannot_trip_the_cost_budget_and_says_so_once(
    fake_model: FakeModelServer,
) -> None:
    state = make_state(deny=["x"], rounds=1, budget={"max_cost_usd": 0.000001})
    events = []
    async with turn_context(_settings(fake_model), state.brief) as ctx:
        while not state.terminal:
            outcome = await run_step(state, ctx)
            state, events = outcome.state, [*events, *outcome.events]
    assert state.stop_reason is not None and state.stop_reason.value == "rounds_done"
    notes = [e.content for e in events if e.content.startswith("cost unknown")]
    assert len(notes) == 1 and "cost budget cannot stop this run" in notes[0]


def test_the_local_model_costs_nothing_and_a_hosted_one_without_prices_is_unknown() -> None:
    local = Settings(openai_base_url=None, openai_api_key=None)
    hosted = Settings(openai_base_url="http://example.invalid/v1", prompt_price_per_1k=0.1)
    [local_judge] = [rm for r, rm in resolve_role_models(local, agents_config(local)).items() if r == "judge"]
    hosted_judge = resolve_role_models(hosted, agents_config(hosted))["judge"]
    assert role_prices(local, local_judge) == Prices(0.0, 0.0)
    assert role_prices(hosted, hosted_judge) == Prices(0.1, None)
    assert Prices(0.1, None).cost(1000, 10) is None and Prices(0.1, None).cost(1000, 0) == pytest.approx(0.1)
