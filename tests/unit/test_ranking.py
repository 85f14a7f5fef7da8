from __future__ import annotations

import math

from agents.ranking import build_shortlist, combined_score, rank_survivors
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
