"""Evolution operators (agents/evolution.py): which survivors are combined or simplified, how many
ideas a Generator turn asks for, the lineage each new idea stores, and the rank phase's
parent-child matches."""

from __future__ import annotations

from agents.answer_size import ideas_for_cap
from agents.engine import run_step
from agents.evolution import EvolutionTask, plan_evolution, plan_round
from agents.novelty.elo import pair_for_round
from agents.prompts import markers
from agents.shortlist import ShortlistEntry
from agents.state import Idea, Phase, RunState
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.unit.helpers import make_state, scored_idea
from workers.runtime import turn_context


def _pool(**brief: object) -> RunState:
    """Round 2 of a run whose four survivors rank i1 > i2 > i3 > i4 (by score), i1 and i2 in one
    cluster, i3 and i4 each in their own."""
    state = make_state(deny=["composting"], rounds=3, **brief)
    state.ideas = [scored_idea(1, 9, 9), scored_idea(2, 8, 8), scored_idea(3, 7, 7), scored_idea(4, 6, 6)]
    for idea, cluster in zip(state.ideas, ["i1", "i1", "i3", "i4"], strict=True):
        idea.cluster = cluster
    state.round = 2
    return state


class TestOperatorSelection:
    def test_combine_takes_the_best_ranked_pair_from_different_clusters_and_simplify_the_next_best(
        self,
    ) -> None:
        """(i1, i2) is the best pair but one cluster, so i1 + i3; the best idea left, i2, is simplified."""
        tasks = plan_evolution(_pool(), min_matches=2, slots=2)
        assert tasks == [EvolutionTask("combine", ("i1", "i3")), EvolutionTask("simplify", ("i2",))]

    def test_lineage_already_in_the_pool_is_never_redone(self) -> None:
        """A pair combined before and an idea simplified before are passed over for the next best."""
        state = _pool()
        state.ideas += [
            Idea(id="i5", title="Combined", summary="s", round=2, operator="combine", parents=["i1", "i3"]),
            Idea(id="i6", title="Simpler", summary="s", round=2, operator="simplify", parents=["i2"]),
        ]
        tasks = plan_evolution(state, min_matches=2, slots=2)
        assert tasks == [EvolutionTask("combine", ("i1", "i4")), EvolutionTask("simplify", ("i3",))]

    def test_one_cluster_gives_no_combine_and_an_idea_is_never_combined_with_its_parent(self) -> None:
        state = _pool()
        for idea in state.ideas:
            idea.cluster = "i1"
        assert plan_evolution(state, 2, 2) == [EvolutionTask("simplify", ("i1",))]
        # i2 made from i1, in another cluster: still no pair (parent and child), i3/i4 share i1's cluster
        state.ideas[1].cluster, state.ideas[1].parents, state.ideas[1].operator = "i2", ["i1"], "improve"
        assert [t.operator for t in plan_evolution(state, 2, 2)] == ["combine", "simplify"]
        assert plan_evolution(state, 2, 2)[0].parents == ("i2", "i3")

    def test_selection_is_deterministic_whatever_the_pool_order(self) -> None:
        state = _pool()
        first = plan_evolution(state, 2, 2)
        state.ideas.reverse()
        assert plan_evolution(state, 2, 2) == first == plan_evolution(_pool(), 2, 2)

    def test_only_living_scored_survivors_evolve_and_never_in_round_one(self) -> None:
        state = _pool()
        state.ideas[0].dropped = "fatal flaw: no"  # i1 gone: i2 + i3 is now the best pair
        state.ideas[3].score = None  # i4 unscored: no candidate
        assert plan_evolution(state, 2, 2) == [
            EvolutionTask("combine", ("i2", "i3")),
        ]  # nothing left to simplify: i2 and i3 are taken by the combine
        state.round = 1
        assert plan_evolution(state, 2, 2) == []


class TestRoundPlan:
    def test_at_least_one_idea_of_the_main_request_and_the_cap_respected(self) -> None:
        """Evolution takes at most `wanted - 1` slots; the main request asks `ideas_for_cap` of the rest."""
        state = _pool()
        plan = plan_round(state, 2, wanted=5, cap_tokens=300, evolution=True, first_call=True)
        assert len(plan.tasks) == 2 and plan.fresh == ideas_for_cap(300, 3) == 2
        small = plan_round(state, 2, wanted=3, cap_tokens=100, evolution=True, first_call=True)
        assert len(small.tasks) == 2 and small.fresh == 1  # the cap holds one idea: one is asked
        assert len(small.tasks) + small.fresh <= 3
        two = plan_round(state, 2, wanted=2, cap_tokens=None, evolution=True, first_call=True)
        assert [t.operator for t in two.tasks] == ["combine"] and two.fresh == 1
        one = plan_round(state, 2, wanted=1, cap_tokens=None, evolution=True, first_call=True)
        assert one.tasks == () and one.fresh == 1

    def test_off_switch_and_top_ups_ask_only_the_main_request(self) -> None:
        state = _pool()
        off = plan_round(state, 2, wanted=3, cap_tokens=300, evolution=False, first_call=True)
        assert off.tasks == () and off.fresh == ideas_for_cap(300, 3) == 2
        top_up = plan_round(state, 2, wanted=3, cap_tokens=None, evolution=True, first_call=False)
        assert top_up.tasks == () and top_up.fresh == 3


async def _generate(
    fake_model: FakeModelServer, state: RunState, **settings: object
) -> tuple[RunState, list[str]]:
    """One generate step through the real client against the fake server; the user prompts sent."""
    config = Settings(
        openai_base_url=fake_model.base_url,
        model="fake-model",
        model_max_retries=0,
        **settings,  # type: ignore[arg-type]
    )
    state.phase = Phase.GENERATE
    async with turn_context(config, state.brief) as ctx:
        outcome = await run_step(state, ctx)
    prompts = [e.prompt[-1]["content"] for e in outcome.events if e.prompt]
    return outcome.state, prompts


class TestLineageStored:
    async def test_a_round_two_turn_stores_combine_simplify_and_improve_lineage(
        self, fake_model: FakeModelServer
    ) -> None:
        state, prompts = await _generate(fake_model, _pool(ideas_per_round=3))
        new = state.ideas[4:]
        assert sorted(i.operator for i in new) == ["combine", "improve", "simplify"]
        combined = next(i for i in new if i.operator == "combine")
        assert combined.parents == ["i1", "i3"] and combined.origin == "evolved"
        assert state.idea("i1").cluster != state.idea("i3").cluster
        assert next(i for i in new if i.operator == "simplify").parents == ["i2"]
        improved = next(i for i in new if i.operator == "improve")
        assert improved.parents and set(improved.parents) <= {"i1", "i2", "i3"}
        assert all(i.round == 2 and i.id in state.new_idea_ids for i in new)
        assert state.round_stats(2).generated == 3 and state.round_stats(2).attempts == 1
        # the main request asked for the one idea left; each evolution call showed its parents
        main = [p for p in prompts if markers.requested_count(p) is not None]
        assert [markers.requested_count(p) for p in main] == [1]
        shown = sorted(markers.idea_ids(p) for p in prompts if p not in main)
        assert shown == [["i1", "i3"], ["i2"]]

    async def test_evolution_off_asks_the_main_request_for_the_whole_round(
        self, fake_model: FakeModelServer
    ) -> None:
        state, prompts = await _generate(fake_model, _pool(ideas_per_round=3, mechanisms={"evolution": False}))
        new = state.ideas[4:]
        assert len(prompts) == 1 and markers.requested_count(prompts[0]) == 3
        assert len(new) == 3 and {i.operator for i in new} <= {"new", "improve"}

    def test_older_states_and_shortlists_read_their_lineage_from_origin(self) -> None:
        """Stored before `operator` existed: `origin: "evolved"` was an improvement."""
        old = {"id": "i4", "title": "t", "summary": "s", "round": 2, "origin": "evolved", "parents": ["i1"]}
        assert Idea.model_validate(old).operator == "improve"
        assert Idea.model_validate({**old, "origin": "fresh", "parents": []}).operator == "new"
        entry = {
            **old,
            "rank": 1,
            "idea_id": "i4",
            "novelty": 5,
            "feasibility": 5,
            "combined": 5.0,
            "elo": 1200.0,
            "matches": 0,
            "rationale": "r",
        }
        assert ShortlistEntry.model_validate(entry).operator == "improve"
        dumped = Idea(id="i9", title="t", summary="s", round=2, operator="combine").model_dump(mode="json")
        assert dumped["operator"] == "combine" and dumped["origin"] == "evolved"


class TestParentChildPairing:
    @staticmethod
    def _ideas() -> list[Idea]:
        """Two rated parents far above an unrated child; i4 is the child's closest rating."""
        return [
            Idea(id="i1", title="a", summary="s", round=1, elo=1500, matches=5),
            Idea(id="i2", title="b", summary="s", round=1, elo=1450, matches=5),
            Idea(id="i3", title="c", summary="s", round=2, operator="combine", parents=["i1", "i2"]),
            Idea(id="i4", title="d", summary="s", round=2),
        ]

    def test_a_child_meets_its_parents_first(self) -> None:
        pairs = pair_for_round(self._ideas(), 3, max_per_idea=2, lineage_first=True)
        assert pairs[:2] == [("i3", "i1"), ("i3", "i2")]
        plain = pair_for_round(self._ideas(), 3, max_per_idea=2)
        assert set(plain[0]) == {"i3", "i4"}  # without the preference: the closest ratings first

    def test_the_preference_keeps_the_round_limits_and_never_replays(self) -> None:
        one_each = pair_for_round(self._ideas(), 3, max_per_idea=1, lineage_first=True)
        assert one_each[0] == ("i3", "i1") and ("i3", "i2") not in one_each
        played = {frozenset(("i3", "i1"))}
        assert pair_for_round(self._ideas(), 1, played=played, lineage_first=True) == [("i3", "i2")]
        dead = self._ideas()
        dead[1].dropped = "fatal flaw: x"
        assert pair_for_round(dead, 1, lineage_first=True) == [("i3", "i1")]
