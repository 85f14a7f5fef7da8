"""The eval metrics (agents/quality.py) on fixed fixtures, with asserted values."""

from __future__ import annotations

import numpy as np
import pytest

from agents import quality


def unit(*rows: list[float]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("first", "second", "score"),
    [("A", "B", 1.0), ("B", "A", 0.0), ("A", "A", 0.5), ("B", "B", 0.5)],
)
def test_pair_score_counts_a_position_following_pick_as_a_tie(first: str, second: str, score: float) -> None:
    assert quality.pair_score(first, second) == score  # type: ignore[arg-type]


def test_win_rate_pools_pairs_and_bootstraps_over_topics() -> None:
    wr = quality.win_rate([[1.0, 1.0, 0.5], [0.0, 0.0], []], seed=0)
    assert (wr.rate, wr.topics, wr.pairs) == (0.5, 2, 5)
    # resampling topics: both from topic 1 gives 2.5/3, both from topic 2 gives 0
    assert wr.low == 0.0 and wr.high == pytest.approx(2.5 / 3, abs=1e-4)
    assert quality.win_rate([[1.0, 0.0]]).as_dict() == {"rate": 0.5, "low": 0.5, "high": 0.5, "topics": 1, "pairs": 2}
    assert quality.win_rate([[], []]).rate is None


def test_known_distance_share_and_mean_nearest() -> None:
    ideas = unit([1, 0], [0, 1], [1, 1])
    known = unit([1, 0])
    kd = quality.known_distance(ideas, known, deny_threshold=0.55)
    assert kd.share_near == pytest.approx(2 / 3, abs=1e-4)  # [1,0] at 1.0 and [1,1] at 0.7071
    assert kd.mean_nearest == pytest.approx((1 + 0 + 0.7071) / 3, abs=1e-4)
    assert quality.known_distance(ideas, unit([1, 0])[:0], 0.55) == quality.KnownDistance(None, None)


def test_diversity_mean_pairwise_cosine_and_single_link_clusters() -> None:
    ideas = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1], [0, 0.1, 0.9])
    assert quality.mean_pairwise_cosine(ideas[:3]) == pytest.approx((0.9939 + 0 + 0.1104) / 3, abs=1e-3)
    assert quality.clusters(ideas, 0.8) == [0, 0, 1, 2, 2]
    assert quality.clusters(ideas, 0.999) == [0, 1, 2, 3, 4]
    chain = unit([1, 0], [1, 0.6], [1, 1.6])  # single link: a-b and b-c link, a-c does not
    assert quality.clusters(chain, 0.85) == [0, 0, 0]
    assert quality.mean_pairwise_cosine(ideas[:1]) is None and quality.clusters(ideas[:0], 0.8) == []


def test_yield_curve_and_costs_per_kept_idea() -> None:
    assert quality.yield_curve([(4, 2), (3, 0), (0, 0)]) == [0.5, 0.0, None]
    assert quality.per_kept(1500, 4) == 375.0 and quality.per_kept(10.0, 0) is None


def test_project_2d_keeps_the_widest_spread() -> None:
    pts = unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    xy = quality.project_2d(pts)
    assert xy.shape == (3, 2)
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    assert d[0, 1] == pytest.approx(np.sqrt(2), abs=1e-6)  # distances of an equilateral triangle kept
    assert quality.project_2d(pts[:1]).shape == (1, 2)
