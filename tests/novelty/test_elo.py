from __future__ import annotations

import random

import pytest

from agents.novelty.elo import (
    apply_match,
    combine_verdicts,
    expected_score,
    pair_for_round,
    update,
)
from agents.prompts.judging import pairwise_prompt
from agents.ranking import rank_ideas
from agents.schemas import PairwiseVerdict
from agents.state import Idea, Score
from config.settings import Settings

K = Settings.model_fields["elo_k"].default  # the default K (32)
START = Idea.model_fields["elo"].default  # every idea starts at 1200


def _idea(n: int, elo: float = START, matches: int = 0, **kw: object) -> Idea:
    return Idea(id=f"i{n}", title=f"t{n}", summary="s", round=1, elo=elo, matches=matches, **kw)  # type: ignore[arg-type]


def test_expected_score_and_known_updates() -> None:
    assert expected_score(1200, 1200) == pytest.approx(0.5)
    assert expected_score(1600, 1200) == pytest.approx(1 / (1 + 10**-1))
    assert expected_score(1300, 1200) + expected_score(1200, 1300) == pytest.approx(1.0)
    assert update(1200, 1200, 1.0, K) == pytest.approx((1200 + K / 2, 1200 - K / 2))
    assert update(1200, 1200, 0.5, K) == pytest.approx((1200, 1200))
    a, _ = update(1400, 1200, 0.0, K)
    assert a == pytest.approx(1400 - K * expected_score(1400, 1200))
    with pytest.raises(ValueError):
        update(1200, 1200, 1.5, K)


def test_updates_are_symmetric_and_conserve_the_sum() -> None:
    rng = random.Random(1)
    ratings = [START] * 6
    for _ in range(500):
        i, j = rng.sample(range(6), 2)
        ratings[i], ratings[j] = update(ratings[i], ratings[j], rng.choice([0.0, 0.5, 1.0]), K)
    assert sum(ratings) == pytest.approx(6 * START)
    a1, b1 = update(1250, 1180, 1.0, K)
    b2, a2 = update(1180, 1250, 0.0, K)
    assert (a1, b1) == pytest.approx((a2, b2))


def test_combine_both_orders() -> None:
    a, b = PairwiseVerdict(winner="A", reason=""), PairwiseVerdict(winner="B", reason="")
    assert combine_verdicts(a, b) == 1.0  # X first wins, X second wins
    assert combine_verdicts(b, a) == 0.0
    assert combine_verdicts(a, a) == 0.5  # the Judge always picked the first shown: position bias cancels
    assert combine_verdicts(None, b) == 1.0
    assert combine_verdicts(None, None) is None


def test_apply_match_and_ranking() -> None:
    x, y = _idea(1), _idea(2)
    apply_match(x, y, 1.0, K)
    assert (x.elo, y.elo, x.matches, y.matches) == (1216.0, 1184.0, 1, 1)
    ideas = [
        _idea(1, 1250, 3, score=Score(novelty=5, feasibility=5, rationale="")),
        _idea(2, 1190, 3, score=Score(novelty=9, feasibility=9, rationale="")),
        _idea(3, 1300, 1, dropped="dup"),
    ]
    ranked, by_elo = rank_ideas(ideas, min_matches=3)
    assert by_elo and [i.id for i in ranked] == ["i1", "i2"]
    ranked, by_elo = rank_ideas(ideas, min_matches=4)
    assert not by_elo and [i.id for i in ranked] == ["i2", "i1"]


def test_pairing_is_bounded_and_favours_new_and_close_ideas() -> None:
    ideas = [_idea(0, 1400, 6), _idea(1, 1210, 6), _idea(2, 1200, 0), _idea(3, 1195, 6), _idea(4, 1000, 6)]
    ideas.append(_idea(5, 1300, 0, dropped="dup"))
    pairs = pair_for_round(ideas, max_matches=3, max_per_idea=2)
    assert len(pairs) == 3
    assert all(a != b for a, b in pairs) and len({frozenset(p) for p in pairs}) == 3
    assert all("i5" not in p for p in pairs)
    assert set(pairs[0]) in ({"i2", "i1"}, {"i2", "i3"})  # the new idea first, against a close rating
    counts = {i.id: sum(i.id in p for p in pairs) for i in ideas}
    assert max(counts.values()) <= 2 and counts["i2"] == 2
    played = {frozenset(("i2", "i1")), frozenset(("i2", "i3"))}
    again = pair_for_round(ideas, max_matches=1, played=played)
    assert frozenset(again[0]) not in played
    assert pair_for_round(ideas[:1], max_matches=5) == []
    many = pair_for_round([_idea(n) for n in range(10)], max_matches=100, max_per_idea=3)
    assert len(many) == 15  # 10 ideas x 3 matches / 2


def test_pairwise_prompt_mentions_both_and_schema() -> None:
    p = pairwise_prompt("first idea", "second idea", topic="cities")
    assert "first idea" in p.user and "second idea" in p.user and '"winner"' in p.user
    assert p.user.index("first idea") < p.user.index("second idea") and "feasible" in p.system
    assert PairwiseVerdict.model_validate_json('{"winner": "B", "reason": "x", "extra": 1}').winner == "B"
