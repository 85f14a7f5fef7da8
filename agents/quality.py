"""Idea-quality metrics for `ideaforge eval` (issue 14): pure functions over judgements and unit-length
embeddings, no I/O. Each function's docstring is the metric's definition the eval report quotes.

Embeddings are rows of a float matrix, L2-normalised (as `agents.novelty.embedder` returns them), so
a dot product is the cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Side = Literal["A", "B"]

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def pair_score(pipeline_first: Side, pipeline_second: Side) -> float:
    """One pipeline × baseline pair judged in both orders, scored for the pipeline.

    `pipeline_first`: the judge's pick when the pipeline idea was shown as A; `pipeline_second`: its
    pick when the pipeline idea was shown as B. Returns 1.0 when both orders prefer the pipeline idea,
    0.0 when both prefer the baseline idea, 0.5 when the pick followed the position (a tie: the
    judge's position bias cancels out instead of deciding).
    """
    wins = (pipeline_first == "A") + (pipeline_second == "B")
    return wins / 2


@dataclass(frozen=True)
class WinRate:
    """A win rate in [0, 1] with its 95% bootstrap interval [low, high]; `topics`: topics with at
    least one judged pair; `pairs`: judged pairs in all. rate/low/high are None without any pair."""

    rate: float | None
    low: float | None
    high: float | None
    topics: int
    pairs: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: rate, low, high, topics, pairs."""
        return {
            "rate": self.rate, "low": self.low, "high": self.high, "topics": self.topics, "pairs": self.pairs
        }


def win_rate(
    scores_by_topic: Sequence[Sequence[float]], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> WinRate:
    """The pipeline's pooled win rate over all pairs (mean of `pair_score`s), with a 95% percentile
    bootstrap interval that resamples *topics* with replacement (pairs within a topic share ideas and
    a judge context, so they are not independent); each resample pools its topics' pairs again.

    `scores_by_topic`: one list of pair scores in [0, 1] per topic (empty lists are skipped).
    Deterministic for a given `seed`. With one topic the interval is the point (no spread over topics).
    """
    topics = [np.asarray(s, dtype=float) for s in scores_by_topic if len(s)]
    pairs = sum(len(t) for t in topics)
    if not topics:
        return WinRate(None, None, None, 0, 0)
    rate = float(np.concatenate(topics).mean())
    rng = np.random.default_rng(seed)
    sums = np.array([t.sum() for t in topics])
    counts = np.array([len(t) for t in topics])
    picks = rng.integers(0, len(topics), size=(resamples, len(topics)))
    rates = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(rates, [tail, 100 - tail])
    return WinRate(round(rate, 4), round(float(low), 4), round(float(high), 4), len(topics), pairs)


@dataclass(frozen=True)
class KnownDistance:
    """`share_near`: share of ideas whose nearest known answer has cosine >= the deny threshold;
    `mean_nearest`: mean over ideas of that nearest-known cosine. None when there are no ideas or no
    known answers."""

    share_near: float | None
    mean_nearest: float | None


def known_distance(ideas: Matrix, known: Matrix, deny_threshold: float) -> KnownDistance:
    """Distance to the known: for each idea (row of `ideas`, shape (n, d)) its highest cosine to any
    known answer (rows of `known`, shape (k, d)); the share at or above `deny_threshold` (the deny
    filter's auto-drop cosine) and the mean of those nearest cosines. Lower is further from the known.
    """
    if len(ideas) == 0 or len(known) == 0:
        return KnownDistance(None, None)
    nearest = (ideas @ known.T).max(axis=1)
    return KnownDistance(
        round(float((nearest >= deny_threshold).mean()), 4), round(float(nearest.mean()), 4)
    )


def mean_pairwise_cosine(ideas: Matrix) -> float | None:
    """Diversity (lower is more diverse): the mean cosine over all unordered pairs of distinct ideas;
    None with fewer than two ideas."""
    n = len(ideas)
    if n < 2:
        return None
    sims = ideas @ ideas.T
    upper = sims[np.triu_indices(n, k=1)]
    return round(float(upper.mean()), 4)


def clusters(ideas: Matrix, threshold: float) -> list[int]:
    """Single-link clustering at `threshold`: two ideas are linked when their cosine is >= threshold
    (the idea filter's auto-drop cosine, `novelty_high`), and a cluster is a connected component of
    those links. Returns one cluster label per idea, labels 0, 1, ... in order of first appearance."""
    n = len(ideas)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n:
        sims = ideas @ ideas.T
        for i, j in zip(*np.nonzero(np.triu(sims >= threshold, k=1)), strict=True):
            parent[root(int(i))] = root(int(j))
    labels: dict[int, int] = {}
    return [labels.setdefault(root(i), len(labels)) for i in range(n)]


def yield_curve(rounds: Sequence[tuple[int, int]]) -> list[float | None]:
    """Unique yield per round: kept / generated for each (generated, kept) pair, None for a round
    that generated nothing."""
    return [round(kept / generated, 4) if generated else None for generated, kept in rounds]


def per_kept(total: float, kept: int) -> float | None:
    """A cost (tokens, seconds) per kept idea; None when nothing was kept."""
    return round(total / kept, 2) if kept else None


def project_2d(points: Matrix) -> npt.NDArray[np.float64]:
    """The 2-D map: the rows projected on their first two principal components (centred SVD), shape
    (n, 2); zeros where there are fewer than two distinct points."""
    if len(points) < 2:
        return np.zeros((len(points), 2))
    centred = points.astype(np.float64) - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out: npt.NDArray[np.float64] = centred @ vt[:2].T
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((len(points), 2 - out.shape[1]))])
    return out
