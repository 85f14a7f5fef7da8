"""Elo tournament among surviving ideas, judged pairwise in both orders.

Ratings start at 1200 (`Idea.elo`). K comes from the setting `elo_k` (default 32, the classic chess
value for new players: one decisive match moves two equal ideas by 16 points each; with ~5 matches
per idea the ranking settles yet stays responsive). Updates are symmetric: what one idea gains the
other loses, so the sum is conserved.

Each match is asked twice, with the ideas swapped, to cancel the Judge's position bias;
`combine_verdicts` turns the two answers into 1 (first idea wins both), 0.5 (split) or 0.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from agents.schemas import PairwiseVerdict
from agents.state import Idea

ELO_SCALE = 400.0  # the Elo formula's scale: 400 points difference = 10:1 expected odds


def expected_score(rating_a: float, rating_b: float) -> float:
    """Probability-like expected score of A against B."""
    return float(1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / ELO_SCALE)))


def update(rating_a: float, rating_b: float, score_a: float, k: float) -> tuple[float, float]:
    """New ratings after A scored `score_a` (1 win, 0.5 draw, 0 loss) against B; the sum is conserved."""
    if not 0.0 <= score_a <= 1.0:
        raise ValueError(f"score must be in [0, 1], got {score_a}")
    delta = k * (score_a - expected_score(rating_a, rating_b))
    return rating_a + delta, rating_b - delta


def combine_verdicts(first: PairwiseVerdict | None, swapped: PairwiseVerdict | None) -> float | None:
    """Score of idea X from `first` (X shown as A) and `swapped` (X shown as B).

    Both present: 1.0, 0.5 or 0.0. Only one usable answer: its result (position bias not cancelled).
    None: no usable answer, so no match is recorded.
    """
    scores = []
    if first is not None:
        scores.append(1.0 if first.winner == "A" else 0.0)
    if swapped is not None:
        scores.append(1.0 if swapped.winner == "B" else 0.0)
    return sum(scores) / len(scores) if scores else None


def apply_match(a: Idea, b: Idea, score_a: float, k: float) -> None:
    """Update both ideas' ratings and match counts."""
    a.elo, b.elo = update(a.elo, b.elo, score_a, k)
    a.matches += 1
    b.matches += 1


def pair_for_round(
    ideas: Sequence[Idea],
    max_matches: int,
    *,
    max_per_idea: int = 2,
    played: set[frozenset[str]] | None = None,
    rng: random.Random | None = None,
    lineage_first: bool = False,
) -> list[tuple[str, str]]:
    """Choose at most `max_matches` pairs (idea ids) for this round.

    With `lineage_first` (the brief's `evolution` mechanism), parent-child matches come first: each idea made
    from others (`Idea.parents`), in pool order, meets each living parent it has not met yet, as
    (child, parent), within the same per-idea and per-round limits; so an evolved idea must beat what
    it came from to climb (the evolution-then-tournament design of the AI co-scientist, Gottweis et
    al. 2025; see agents/evolution.py).

    Then greedy: the idea with the fewest matches so far (new ideas first) picks the opponent with the
    closest rating among those it has not met, preferring opponents with fewer matches on ties; no
    idea plays more than `max_per_idea` matches this round. A pair is never repeated: pairs in
    `played` (met in earlier rounds) and pairs already chosen this round are skipped, so a round
    may get fewer than `max_matches` pairs, or none. Only living ideas take part.

    Returns (first id, second id) pairs in the order chosen; each pair is one match, asked in both
    orders by the tournament.
    """
    rng = rng or random.Random(0)
    alive = [i for i in ideas if i.alive]
    this_round: dict[str, int] = {i.id: 0 for i in alive}
    taken: set[frozenset[str]] = set(played or ())  # earlier rounds' pairs, then this round's
    pairs: list[tuple[str, str]] = []
    jitter = {i.id: rng.random() for i in alive}

    def take(a: Idea, b: Idea) -> None:
        taken.add(frozenset((a.id, b.id)))
        this_round[a.id] += 1
        this_round[b.id] += 1
        pairs.append((a.id, b.id))

    if lineage_first:
        by_id = {i.id: i for i in alive}
        for child in alive:
            for parent in (by_id.get(p) for p in child.parents):
                if (
                    parent is not None
                    and len(pairs) < max_matches
                    and frozenset((child.id, parent.id)) not in taken
                    and this_round[child.id] < max_per_idea
                    and this_round[parent.id] < max_per_idea
                ):
                    take(child, parent)
    while len(pairs) < max_matches:
        open_ = [i for i in alive if this_round[i.id] < max_per_idea]
        best: tuple[tuple[float, ...], Idea, Idea] | None = None
        for a in sorted(open_, key=lambda i: (i.matches + this_round[i.id], jitter[i.id])):
            for b in open_:
                key = frozenset((a.id, b.id))
                if b.id == a.id or key in taken:
                    continue
                rank = (
                    abs(a.elo - b.elo),
                    float(b.matches + this_round[b.id]),
                    jitter[b.id],
                )
                if best is None or rank < best[0]:
                    best = (rank, a, b)
            if best is not None:
                break
        if best is None:
            break
        _, a, b = best
        take(a, b)
    return pairs
