"""A round short of filter survivors asks the Generator again (issue 14: enough survivors)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from agents.context import TurnContext
from agents.engine import run_step
from agents.prompts import markers
from agents.state import RunState, TranscriptEvent
from config.settings import Settings
from ideaforge.devtools.fake_openai import FATAL_MARKER, FakeModelServer, Fault
from tests.unit.helpers import make_state
from workers.runtime import turn_context

KNOWN = "Composting food scraps from the kitchen"


@pytest.fixture
async def ctx(fake_model: FakeModelServer) -> AsyncIterator[TurnContext]:
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    async with turn_context(settings, make_state().brief) as context:
        yield context


def known_idea() -> Fault:
    """The next Generator answer's first idea repeats the deny-list item (the filter drops it)."""
    return Fault(kind="idea", title=KNOWN, summary=f"{KNOWN}, to make soil for the campus gardens.")


async def run_round(state: RunState, ctx: TurnContext) -> tuple[RunState, list[str], list[TranscriptEvent]]:
    """Run to the end (one round); the phases run and every event."""
    phases: list[str] = []
    events: list[TranscriptEvent] = []
    while not state.terminal:
        phases.append(state.phase.value)
        outcome = await run_step(state, ctx)
        events += outcome.events
        state = outcome.state
    return state, phases, events


def generator_prompts(events: list[TranscriptEvent]) -> list[str]:
    return [str(e.prompt[-1]["content"]) for e in events if e.role == "generator" and e.prompt]


async def test_a_round_short_of_survivors_asks_again_for_the_shortfall_with_not_these(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(known_idea())
    state, phases, events = await run_round(make_state(deny=[KNOWN], rounds=1, ideas_per_round=3), ctx)
    assert phases[:5] == ["generate", "filter", "generate", "filter", "critique"]
    [stats] = state.rounds
    assert (stats.attempts, stats.generated, stats.kept) == (2, 4, 3)
    assert stats.unique_yield == pytest.approx(3 / 4)  # every attempt counts
    first, second = generator_prompts(events)
    assert markers.requested_count(first) == 3 and markers.requested_count(second) == 1
    assert "Not these" not in first and "Not these" in second and f"- {KNOWN}" in second.split("Not these")[1]
    notes = [e.content for e in events if e.phase == "generate" and e.role == "system"]
    assert notes == ["round 1: attempt 2 of 3: 2 of 3 ideas survived the filter; asking for 1 more"]
    assert len(state.alive_ideas()) == 3


async def test_the_attempts_run_out(ctx: TurnContext, fake_model: FakeModelServer) -> None:
    fake_model.add_faults(known_idea(), known_idea(), known_idea())
    ctx = dataclasses.replace(ctx, generate_attempts=2)
    state, phases, _ = await run_round(make_state(deny=[KNOWN], rounds=1, ideas_per_round=1), ctx)
    assert phases[:5] == ["generate", "filter", "generate", "filter", "critique"]
    [stats] = state.rounds
    assert (stats.attempts, stats.generated, stats.kept) == (2, 2, 0)
    assert state.status.value == "finished" and not state.alive_ideas()


async def test_a_fatal_verdict_after_the_filter_does_not_ask_again(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    fatal = f"{FATAL_MARKER} motion canteen trays"
    fake_model.add_faults(Fault(kind="idea", title=fatal, summary="Trays that never stop moving, ever."))
    state, phases, _ = await run_round(make_state(rounds=1, ideas_per_round=2), ctx)
    assert phases.count("generate") == 1
    [stats] = state.rounds
    assert (stats.attempts, stats.kept) == (1, 2)
    assert [i.title for i in state.ideas if not i.alive] == [fatal]


async def test_a_failed_top_up_attempt_keeps_the_round_s_survivors(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    """A top-up call that gives no usable answer must not fail a run that already has survivors."""
    fake_model.add_faults(known_idea(), Fault(kind="bad_schema", role="generator"), Fault(kind="bad_schema", role="generator"))
    state, phases, events = await run_round(make_state(deny=[KNOWN], rounds=1, ideas_per_round=2), ctx)
    assert state.status.value == "finished", state.stop_detail
    assert phases.count("generate") >= 2
    assert any("going on without it" in e.content for e in events if e.kind == "error")
    assert any(i.alive for i in state.ideas)
