"""Each quality mechanism can be switched off per brief (`brief.mechanisms`), for `ideaforge eval
--arm without-NAME` and for a user who wants a run without one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents.brief import Mechanisms
from agents.context import TurnContext
from agents.engine import run_step
from agents.errors import InvalidBrief
from agents.phases import round_is_short
from agents.prompts.requests import generate_request, judge_request
from agents.ranking import build_shortlist
from agents.state import KnownItem, RunState
from config.settings import Settings
from ideaforge.briefs import build_brief
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.unit.helpers import make_state, scored_idea
from workers.runtime import turn_context


@pytest.fixture
async def ctx(fake_model: FakeModelServer) -> AsyncIterator[TurnContext]:
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    async with turn_context(settings, make_state().brief) as context:
        yield context


def test_every_mechanism_is_on_by_default_and_a_bad_switch_is_refused() -> None:
    assert make_state().brief.mechanisms.off() == []
    assert make_state(mechanisms={"meta_review": False}).brief.mechanisms.off() == ["meta_review"]
    with pytest.raises(InvalidBrief, match=r"mechanisms.meta_review: Input should be a valid boolean"):
        make_state(mechanisms={"meta_review": "no"})
    with pytest.raises(InvalidBrief, match=r"unknown key 'mechanisms.telepathy'"):
        make_state(mechanisms={"telepathy": False})
    with pytest.raises(ValueError, match="unknown mechanism 'x'; known: top_up, proximity"):
        Mechanisms().without("x")


def test_without_switches_off_on_top_of_the_brief_files_mechanisms(tmp_path: Path) -> None:
    file = tmp_path / "brief.yaml"
    file.write_text("topic: Quiet libraries\nmechanisms: {evolution: false}\n")
    brief = build_brief(None, file=file, without=["proximity"])
    assert brief.mechanisms.off() == ["proximity", "evolution"]
    with pytest.raises(InvalidBrief, match="--without: unknown mechanism 'speed'"):
        build_brief("Quiet libraries", without=["speed"])


def test_without_top_up_a_short_round_goes_on(ctx: TurnContext) -> None:
    for mechanisms, short in (({}, True), ({"top_up": False}, False)):
        state = make_state(mechanisms=mechanisms)
        state.round_stats(1).attempts = 1  # one call made, nothing kept yet
        assert round_is_short(state, ctx) is short


def _clustered(state: RunState) -> RunState:
    state.ideas = [scored_idea(1, 9, 9), scored_idea(2, 8, 8), scored_idea(3, 5, 5)]
    state.ideas[0].cluster = state.ideas[1].cluster = "i1"  # i2 is a near twin of i1
    state.ideas[2].cluster = "i3"
    return state


def test_without_proximity_the_shortlist_is_plain_rank_order_and_no_crowded_hint() -> None:
    diverse = build_shortlist(_clustered(make_state(shortlist_size=2)), min_matches=2)
    plain = build_shortlist(_clustered(make_state(shortlist_size=2, mechanisms={"proximity": False})),
                            min_matches=2)
    assert [e.idea_id for e in diverse.ideas] == ["i1", "i3"]
    assert [e.idea_id for e in plain.ideas] == ["i1", "i2"]
    on = generate_request(make_state(), 2, None, 3, ["Crowded direction"])
    assert "Crowded direction" in on


def test_without_grounded_novelty_the_judge_sees_no_known_items() -> None:
    for mechanisms, grounded in (({}, True), ({"grounded_novelty": False}, False)):
        state = make_state(mechanisms=mechanisms)
        idea = scored_idea(1, 5, 5)
        idea.nearest_known = [KnownItem(text="Composting food scraps", source="deny", cosine=0.54)]
        request = judge_request(state, idea)
        assert ("<nearest_known>" in request) is grounded
        assert "<critique>" in request  # feasibility keeps the critique either way


async def test_without_meta_review_the_step_makes_no_call_and_says_why(ctx: TurnContext) -> None:
    for mechanisms, calls in (({}, 1), ({"meta_review": False}, 0)):
        state = make_state(rounds=1, deny=["x"], mechanisms=mechanisms)
        while state.phase.value != "meta_review":
            state = (await run_step(state, ctx)).state
        outcome = await run_step(state, ctx)
        assert sum(1 for e in outcome.events if e.role == "judge") == calls
        if not calls:
            assert [e.content for e in outcome.events] == [
                "meta_review: switched off for this run (brief.mechanisms.meta_review)"
            ]
            assert outcome.state.meta_review == []

