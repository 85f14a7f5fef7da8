"""A run that ends with nothing to shortlist says why in its stored status (issue 14)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from agents.context import TurnContext
from agents.engine import empty_shortlist_reason, run_step
from agents.state import RunState, RunStatus
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.unit.helpers import make_state, scored_idea
from workers.runtime import turn_context

KNOWN = "Composting food scraps from the kitchen"


@pytest.fixture
async def ctx(fake_model: FakeModelServer) -> AsyncIterator[TurnContext]:
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    async with turn_context(settings, make_state().brief) as context:
        yield context


async def run_to_end(state: RunState, ctx: TurnContext) -> RunState:
    while not state.terminal:
        state = (await run_step(state, ctx)).state
    return state


def test_the_reason_counts_the_pool_by_how_it_left() -> None:
    state = make_state()
    known, repeat, fatal, earlier = (scored_idea(n, 5, 5) for n in range(1, 5))
    known.duplicate_of, known.dropped = "deny:0", "duplicate: a deny-list item"
    repeat.duplicate_of, repeat.dropped = "i1", "duplicate: of an idea of this run"
    fatal.dropped = "fatal flaw: it cannot work"
    earlier.duplicate_of, earlier.dropped = "ledger:e7", "duplicate: an earlier run's idea"
    unscored = scored_idea(5, 5, 5)
    unscored.score, unscored.failure = None, "judge: timed out"
    state.ideas = [known, repeat, fatal, earlier, unscored]
    assert empty_shortlist_reason(state) == (
        "no idea made the shortlist: 5 generated, 4 dropped (1 known answer, 1 repeat of this run, "
        "1 fatal flaw, 1 from an earlier run), 1 never scored (judge: timed out)"
    )
    state.ideas.append(scored_idea(6, 5, 5))
    assert empty_shortlist_reason(state) is None
    state.ideas = []
    assert empty_shortlist_reason(state) == "no idea was generated"


async def test_a_finished_run_with_an_empty_shortlist_stores_why(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(Fault(kind="idea", title=KNOWN, summary=f"{KNOWN}, for the campus gardens."))
    ctx = dataclasses.replace(ctx, generate_attempts=1)
    state = await run_to_end(make_state(deny=[KNOWN], rounds=1, ideas_per_round=1), ctx)
    assert state.status is RunStatus.FINISHED
    assert state.stop_detail == (
        "1 of 1 rounds done; no idea made the shortlist: 1 generated, 1 dropped (1 known answer)"
    )


async def test_a_run_with_a_shortlist_keeps_its_plain_detail(ctx: TurnContext) -> None:
    state = await run_to_end(make_state(rounds=1, ideas_per_round=2), ctx)
    assert state.stop_detail == "1 of 1 rounds done"


async def test_a_cancelled_run_before_any_idea_says_none_was_generated(ctx: TurnContext) -> None:
    state = make_state(rounds=1)
    state.cancel_requested = True
    state = (await run_step(state, ctx)).state
    assert state.status is RunStatus.CANCELLED
    assert state.stop_detail == "cancelled by a person; no idea was generated"


async def test_a_failed_run_keeps_its_error_as_the_detail(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(*[Fault(kind="bad_schema", role="generator") for _ in range(2)])
    state = (await run_step(make_state(deny=[KNOWN], rounds=1), ctx)).state
    assert state.status is RunStatus.FAILED and state.errors == [state.stop_detail]
    assert "no idea" not in (state.stop_detail or "")
