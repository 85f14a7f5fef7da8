"""Usage and cost are recorded per HTTP request to the model, as each response arrives."""

from __future__ import annotations

import pytest

from agents.calls import ask_structured
from agents.context import EventLog
from agents.engine import run_step
from agents.schemas import ScoreAnswer
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.unit.helpers import make_state
from workers.runtime import turn_context


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
