"""Ranking: how survivors are ordered and which reach the shortlist.

Absolute ranking: `combined = sqrt(novelty * feasibility)` (the geometric mean, so an idea must
be both new and workable to rank high: 9x2 scores 4.2, 6x6 scores 6.0). Ties break by novelty,
then feasibility, then the earlier idea. Once every candidate has played at least
`ELO_MIN_MATCHES` pairwise matches, ideas are ranked by Elo instead, with the absolute score as
the tie-break. Ideas the Skeptic marked fatal, duplicates and unscored ideas never make the list.
"""

from __future__ import annotations

import math
import time

from pydantic import BaseModel, Field

from agents.state import Idea, RunState, Score

ELO_MIN_MATCHES = 2


def combined_score(score: Score) -> float:
    return math.sqrt(score.novelty * score.feasibility)


class ShortlistEntry(BaseModel):
    rank: int
    idea_id: str
    title: str
    summary: str
    angle: str | None = None
    round: int
    origin: str
    parents: list[str] = Field(default_factory=list)
    novelty: int
    feasibility: int
    combined: float
    elo: float
    matches: int
    rationale: str
    objection: str | None = None
    novelty_distance: float | None = None
    verdict: str | None = None


class Shortlist(BaseModel):
    """Stable JSON contract: `ideas` are ranked best first."""

    run_id: str
    topic: str
    status: str
    stop_reason: str | None
    ranked_by: str  # "elo" or "score"
    generated: int
    dropped: int
    created_at: float
    ideas: list[ShortlistEntry]


def _key(idea: Idea, by_elo: bool) -> tuple[float, ...]:
    assert idea.score is not None
    base = (combined_score(idea.score), idea.score.novelty, idea.score.feasibility)
    return (idea.elo, *base) if by_elo else base


def candidates(state: RunState) -> list[Idea]:
    return [i for i in state.alive_ideas() if i.score is not None and not (i.critique and i.critique.fatal)]


def ranks_by_elo(ideas: list[Idea]) -> bool:
    return len(ideas) > 1 and all(i.matches >= ELO_MIN_MATCHES for i in ideas)


def rank_survivors(state: RunState) -> list[Idea]:
    ideas = candidates(state)
    by_elo = ranks_by_elo(ideas)
    order = {idea.id: n for n, idea in enumerate(state.ideas)}
    return sorted(ideas, key=lambda i: (*(-v for v in _key(i, by_elo)), order[i.id]))


def build_shortlist(state: RunState, now: float | None = None) -> Shortlist:
    ranked = rank_survivors(state)
    by_elo = ranks_by_elo(ranked)
    entries = []
    for rank, idea in enumerate(ranked[: state.brief.shortlist_size], start=1):
        assert idea.score is not None
        entries.append(
            ShortlistEntry(
                rank=rank,
                idea_id=idea.id,
                title=idea.title,
                summary=idea.summary,
                angle=idea.angle,
                round=idea.round,
                origin=idea.origin,
                parents=idea.parents,
                novelty=idea.score.novelty,
                feasibility=idea.score.feasibility,
                combined=round(combined_score(idea.score), 2),
                elo=round(idea.elo, 1),
                matches=idea.matches,
                rationale=idea.score.rationale,
                objection=idea.critique.strongest_objection if idea.critique else None,
                novelty_distance=idea.novelty_distance,
                verdict=idea.verdict.decision if idea.verdict else None,
            )
        )
    return Shortlist(
        run_id=state.run_id,
        topic=state.brief.topic,
        status=state.status.value,
        stop_reason=state.stop_reason.value if state.stop_reason else None,
        ranked_by="elo" if by_elo else "score",
        generated=len(state.ideas),
        dropped=sum(1 for i in state.ideas if not i.alive),
        created_at=now if now is not None else time.time(),
        ideas=entries,
    )
