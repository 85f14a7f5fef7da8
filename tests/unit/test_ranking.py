from __future__ import annotations

import math

from agents.ranking import build_shortlist, combined_score, diverse_order, rank_survivors
from agents.state import Score
from tests.unit.helpers import make_state, scored_idea


def test_combined_score_is_geometric_mean() -> None:
    assert combined_score(Score(novelty=9, feasibility=4, rationale="r")) == 6.0
    assert math.isclose(combined_score(Score(novelty=9, feasibility=2, rationale="r")), math.sqrt(18))


def test_shortlist_ranks_by_combined_score_and_drops_fatal_and_duplicates() -> None:
    state = make_state(shortlist_size=3)
    state.ideas = [
        scored_idea(1, 9, 2),  # 4.24
        scored_idea(2, 6, 6),  # 6.0
        scored_idea(3, 10, 10, fatal=True),
        scored_idea(4, 7, 7),  # 7.0
        scored_idea(5, 8, 8),
        scored_idea(6, 5, 5),
    ]
    state.ideas[4].dropped = "duplicate: of i4"
    shortlist = build_shortlist(state, min_matches=2)
    assert [e.idea_id for e in shortlist.ideas] == ["i4", "i2", "i6"]
    assert shortlist.ideas[0].objection == "objection 4"
    assert shortlist.ranked_by == "score"
    assert shortlist.generated == 6 and shortlist.dropped == 1


def test_elo_takes_over_once_every_candidate_has_played_enough() -> None:
    state = make_state()
    state.ideas = [scored_idea(1, 9, 9), scored_idea(2, 3, 3)]
    state.ideas[0].elo, state.ideas[1].elo = 1150.0, 1250.0
    assert [i.id for i in rank_survivors(state, 2)] == ["i1", "i2"]
    for idea in state.ideas:
        idea.matches = 2
    assert [i.id for i in rank_survivors(state, 2)] == ["i2", "i1"]
    assert build_shortlist(state, min_matches=2).ranked_by == "elo"


def test_shortlist_takes_the_best_of_each_cluster_before_a_second_from_any() -> None:
    state = make_state(shortlist_size=4)
    state.ideas = [scored_idea(n, nov, 8) for n, nov in ((1, 9), (2, 8), (3, 7), (4, 5), (5, 4), (6, 3))]
    for idea, cluster in zip(state.ideas, ["i1", "i1", "i1", "i4", "i4", None], strict=True):
        idea.cluster = cluster
    shortlist = build_shortlist(state, min_matches=2)
    # i1's cluster is crowded: its best, then the other clusters' best (i4, the cluster-less i6), then i2
    assert [e.idea_id for e in shortlist.ideas] == ["i1", "i4", "i6", "i2"]
    assert [e.rank for e in shortlist.ideas] == [1, 2, 3, 4]
    assert [e.cluster for e in shortlist.ideas] == ["i1", "i4", None, "i1"]
    # the survivors shown to the Generator keep the plain ranking
    assert [i.id for i in rank_survivors(state, 2)] == ["i1", "i2", "i3", "i4", "i5", "i6"]


def test_diverse_order_is_rank_order_when_every_idea_is_its_own_cluster() -> None:
    ideas = [scored_idea(n, 10 - n, 5) for n in range(1, 5)]
    assert diverse_order(ideas) == ideas
    for idea in ideas:
        idea.cluster = "i1"
    assert diverse_order(ideas) == ideas
