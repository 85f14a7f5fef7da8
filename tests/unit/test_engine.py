"""The engine in-process, through the real OpenAIChatCompletionClient against the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agents.concepts.catalog import FIELDS
from agents.concepts.draw import seed_for_run
from agents.context import TurnContext
from agents.engine import run_step, working_copy
from agents.errors import ModelUnavailable
from agents.prompts import markers
from agents.ranking import build_shortlist
from agents.state import Phase, RunState, RunStatus, StopReason, strategy_phase
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.unit.helpers import make_state, scored_idea
from workers.runtime import turn_context


@pytest.fixture
async def ctx(fake_model: FakeModelServer) -> AsyncIterator[TurnContext]:
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    brief = make_state().brief
    async with turn_context(settings, brief) as context:
        yield context


async def run_to_end(state: RunState, ctx: TurnContext, max_steps: int = 100) -> tuple[RunState, list[str]]:
    phases = []
    for _ in range(max_steps):
        if state.terminal:
            break
        phases.append(state.phase.value)
        state = (await run_step(state, ctx)).state
    return state, phases


async def test_restrict_derives_a_deny_list_first(ctx: TurnContext) -> None:
    state, phases = await run_to_end(make_state(strategy="restrict", rounds=2), ctx)
    assert phases[0] == "derive_deny"
    assert "composting" in state.deny
    assert phases[1:8] == [  # round 1: 3 kept, no top-up
        "generate",
        "filter",
        "critique",
        "meta_review",
        "judge",
        "rank",
        "stop_check",
    ]
    assert state.status is RunStatus.FINISHED and state.stop_reason is StopReason.ROUNDS_DONE
    assert [r.kept for r in state.rounds] == [3, 3]  # a round short of survivors topped up
    assert len(state.ideas) == sum(r.generated for r in state.rounds)
    assert state.step == len(phases) + 0  # one step per phase run, the last one stops the run


async def test_question_and_mix_derive_the_common_answers_then_prepare_their_material(
    ctx: TurnContext,
) -> None:
    q, phases = await run_to_end(make_state(strategy="question", rounds=1), ctx)
    assert phases[:2] == ["derive_deny", "pose_questions"] and len(q.questions) >= 3
    # outside restrict the common answers are kept apart from the deny-list
    assert "composting" in q.common_answers and q.deny == []
    m, phases = await run_to_end(make_state(strategy="mix", rounds=1), ctx)
    assert phases[:3] == ["derive_deny", "pair_concepts", "generate"]
    # the catalog drew the pairs (the fake model's own pairs are never asked for)
    assert m.concept_seed == seed_for_run(m.run_id)
    fields = {f.text for f in FIELDS}
    assert m.concept_pairs and all(p[0] in fields for p in m.concept_pairs)
    assert ["tidal engineering", "canteen queues"] not in m.concept_pairs


async def test_with_the_catalog_off_the_generator_proposes_the_mix_pairs(ctx: TurnContext) -> None:
    m, phases = await run_to_end(
        make_state(strategy="mix", rounds=1, mechanisms={"concept_catalog": False}), ctx
    )
    assert phases[1] == "pair_concepts" and m.concept_pairs[0] == ["tidal engineering", "canteen queues"]
    assert m.concept_seed is None


async def test_every_idea_is_critiqued_and_scored_and_usage_is_counted(ctx: TurnContext) -> None:
    state, _ = await run_to_end(make_state(deny=["composting"], rounds=1, ideas_per_round=4), ctx)
    assert len(state.ideas) == 4
    for idea in state.ideas:
        assert idea.critique is not None
        assert idea.alive == (not idea.critique.fatal)
        if idea.alive:
            assert idea.score is not None and 1 <= idea.score.novelty <= 10
    assert state.usage["skeptic"].calls == 4
    assert state.usage["generator"].prompt_tokens > 0


async def test_second_round_generator_sees_and_evolves_survivors(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    state, _ = await run_to_end(make_state(deny=["composting"], rounds=2), ctx)
    evolved = [i for i in state.ideas if i.origin == "evolved"]
    assert evolved and all(i.round == 2 and i.parents for i in evolved)


async def test_a_generator_that_gives_no_usable_answer_fails_the_run_with_its_error(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(
        Fault(kind="bad_schema", role="generator"), Fault(kind="bad_schema", role="generator")
    )
    outcome = await run_step(make_state(deny=["composting"], rounds=2), ctx)
    state = outcome.state
    assert state.status is RunStatus.FAILED and state.stop_reason is StopReason.ERROR
    assert state.phase is Phase.DONE and not state.ideas
    assert (state.stop_detail or "").startswith("generate: no usable answer (the generator call failed): ")
    call = outcome.events[0]
    assert call.kind == "error" and call.content.removeprefix("FAILED: ") in (state.stop_detail or "")
    assert state.errors == [state.stop_detail]
    assert state.usage["generator"].failures == 1 and state.usage["generator"].prompt_tokens > 0
    assert "run stopped: error" in outcome.events[-1].content


@pytest.mark.parametrize(("phase", "role"), [(Phase.CRITIQUE, "skeptic"), (Phase.JUDGE, "judge")])
async def test_a_phase_whose_every_call_failed_fails_the_run_and_one_answer_is_enough(
    ctx: TurnContext, fake_model: FakeModelServer, phase: Phase, role: str
) -> None:
    state = make_state(deny=["x"], rounds=2)
    state.ideas = [scored_idea(n, 5, 5) for n in range(1, 4)]
    for idea in state.ideas:
        idea.critique = None if phase is Phase.CRITIQUE else idea.critique
        idea.score = None
    state.phase = phase
    # four bad answers among six requests: some call fails (asked and re-asked) or is repaired by
    # its re-ask, the others answer, so the run goes on
    fake_model.add_faults(*[Fault(kind="bad_schema", role=role) for _ in range(4)])
    partial = await run_step(state, ctx)
    assert partial.state.status is RunStatus.RUNNING and partial.state.phase is not Phase.DONE
    # every call fails: the run fails, quoting the model's error
    fake_model.add_faults(*[Fault(kind="bad_schema", role=role) for _ in range(6)])
    outcome = await run_step(state, ctx)
    assert outcome.state.status is RunStatus.FAILED and outcome.state.stop_reason is StopReason.ERROR
    detail = outcome.state.stop_detail or ""
    assert detail.startswith(f"{phase.value}: no usable answer (all 3 {role} calls failed): ")
    assert outcome.events[0].content.removeprefix("FAILED: ") in detail
    assert outcome.state.usage[role].failures == 3


@pytest.mark.parametrize(("strategy", "phase"), [("question", "pose_questions"), ("mix", "pair_concepts")])
async def test_a_preparation_phase_without_an_answer_fails_the_run(
    ctx: TurnContext, fake_model: FakeModelServer, strategy: str, phase: str
) -> None:
    fake_model.add_faults(
        Fault(kind="bad_schema", role="generator"), Fault(kind="bad_schema", role="generator")
    )
    # mix: the Generator proposes the pairs
    state = make_state(strategy=strategy, rounds=1, mechanisms={"concept_catalog": False})
    state.phase = strategy_phase(state.brief)
    outcome = await run_step(state, ctx)
    assert outcome.state.phase is Phase.DONE and outcome.state.status is RunStatus.FAILED
    assert (outcome.state.stop_detail or "").startswith(f"{phase}: no usable answer")


async def test_without_common_answers_restrict_fails_and_the_other_strategies_go_on(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    for strategy, after in (("question", Phase.POSE_QUESTIONS), ("mix", Phase.PAIR_CONCEPTS)):
        fake_model.add_faults(*[Fault(kind="bad_schema", role="generator") for _ in range(2)])
        state = make_state(strategy=strategy, rounds=1)
        assert state.phase is Phase.DERIVE_DENY
        outcome = await run_step(state, ctx)
        assert outcome.state.status is RunStatus.RUNNING and outcome.state.phase is after
        assert outcome.state.common_answers == []
        assert outcome.state.errors[0].startswith("derive_deny: no usable answer")
        assert "going on without it" in outcome.events[-1].content
    fake_model.add_faults(*[Fault(kind="bad_schema", role="generator") for _ in range(2)])
    outcome = await run_step(make_state(strategy="restrict", rounds=1), ctx)
    assert outcome.state.status is RunStatus.FAILED
    assert (outcome.state.stop_detail or "").startswith("derive_deny: no usable answer")


async def test_every_step_leaves_an_event_when_a_round_keeps_no_idea(ctx: TurnContext) -> None:
    """Steps stay contiguous in the transcript even when filter, critique, judge and rank have
    nothing to work on (here: every new idea repeats the deny-list and is dropped)."""
    state = make_state(deny=["Idea number 1 about something"], rounds=1)
    copy = scored_idea(1, 5, 5)
    copy.critique, copy.score = None, None
    state.ideas, state.new_idea_ids, state.phase = [copy], [copy.id], Phase.FILTER
    state.round_stats(1).generated = 1
    state.round_stats(1).attempts = ctx.generate_attempts  # no top-up left
    steps: dict[int, list[str]] = {}
    while not state.terminal:
        outcome = await run_step(state, ctx)
        steps[state.step] = [e.phase for e in outcome.events]
        assert all(e.step == state.step for e in outcome.events)
        state = outcome.state
    assert not state.alive_ideas()
    assert state.status is RunStatus.FINISHED
    assert list(steps) == list(range(min(steps), max(steps) + 1))
    assert all(steps.values()), steps  # filter, critique, judge, rank, stop_check: one event at least
    assert steps[state.step - 6] == ["filter", "filter"]  # the drop, then the round's count


async def test_step_raises_retryable_when_the_model_is_down(
    ctx: TurnContext, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(Fault(kind="status", status=503))
    with pytest.raises(ModelUnavailable, match="503"):
        await run_step(make_state(deny=["x"]), ctx)


async def test_token_budget_stops_with_reason_and_shortlist(ctx: TurnContext) -> None:
    state, _phases = await run_to_end(make_state(deny=["x"], rounds=5, budget={"max_tokens": 1500}), ctx)
    assert state.stop_reason is StopReason.TOKEN_BUDGET
    assert state.status is RunStatus.FINISHED
    assert state.round < 5
    assert "tokens used of 1500" in (state.stop_detail or "")
    assert build_shortlist(state, min_matches=2).stop_reason == "token_budget"


async def test_cancel_request_is_honoured_at_the_next_step(ctx: TurnContext) -> None:
    state = (await run_step(make_state(deny=["x"]), ctx)).state
    state.cancel_requested = True
    outcome = await run_step(state, ctx)
    assert outcome.state.status is RunStatus.CANCELLED
    assert outcome.state.stop_reason is StopReason.CANCELLED
    assert outcome.state.phase is Phase.DONE
    assert any("cancelled" in e.content for e in outcome.events)


async def test_time_budget(ctx: TurnContext) -> None:
    state = make_state(deny=["x"], budget={"max_seconds": 5})
    state = (await run_step(state, ctx)).state
    assert state.started_at is not None
    state.started_at -= 10
    state = (await run_step(state, ctx)).state
    assert state.stop_reason is StopReason.TIME_BUDGET


async def test_run_step_leaves_the_callers_state_untouched(ctx: TurnContext) -> None:
    """run_step advances a copy (the job falls back to the loaded state when a turn fails)."""
    state = make_state(deny=["composting"], rounds=1, ideas_per_round=3)
    for _ in range(5):  # generate, filter, critique, meta_review, judge: ideas, critiques, scores change
        before = state.model_dump_json()
        new = (await run_step(state, ctx)).state
        assert state.model_dump_json() == before
        assert new.step == state.step + 1
        assert working_copy(new) == new and working_copy(new) is not new
        assert all(a is not b for a, b in zip(working_copy(new).ideas, new.ideas, strict=True))
        state = new
    assert all(i.critique is not None for i in state.ideas)


async def test_the_generator_sees_the_survivors_in_the_shortlist_order(
    fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With IDEAFORGE_ELO_MIN_MATCHES=3, ideas with 2 matches rank by score in both places."""
    monkeypatch.setenv("IDEAFORGE_ELO_MIN_MATCHES", "3")
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    state = make_state(deny=["x"], rounds=3, shortlist_size=3)
    state.ideas = [scored_idea(n, 2 + n, 2 + n) for n in range(1, 5)]  # by score: i4, i3, i2, i1
    for n, idea in enumerate(state.ideas):
        idea.matches, idea.elo = 2, 1300.0 - 20 * n  # by Elo: i1, i2, i3, i4
    state.round, state.phase = 2, Phase.GENERATE
    async with turn_context(settings, state.brief) as context:
        outcome = await run_step(state, context)
    shown = markers.idea_ids(outcome.events[0].prompt[-1]["content"])  # type: ignore[index]
    shortlist = build_shortlist(state, min_matches=settings.elo_min_matches)
    assert shown == [e.idea_id for e in shortlist.ideas] == ["i4", "i3", "i2"]
    assert [e.idea_id for e in build_shortlist(state, min_matches=2).ideas] == ["i1", "i2", "i3"]
