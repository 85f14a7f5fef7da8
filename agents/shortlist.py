"""The shortlist: a stopped run's best ideas, ranked (part of the shared vocabulary).

Built by `agents.ranking.build_shortlist` inside the compare-and-set commit that stops a run, and
stored under `{p}:run:{id}:shortlist`. This JSON shape is the public contract of
`ideaforge shortlist --format json`, `GET /runs/{id}/shortlist` and `Ideaforge.get_shortlist`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from agents.state import Operator, operator_from_origin


class ShortlistEntry(BaseModel):
    rank: int
    idea_id: str
    title: str
    summary: str
    angle: str | None = None
    round: int
    origin: str  # "fresh" or "evolved" (derived from `operator`)
    operator: Operator = "new"  # lineage: how it was made from `parents` (agents/state.py `Operator`)
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
    cluster: str | None = None  # id of the idea that founded its cluster (None: filtered before clusters)
    author: str = "generator"  # `Idea.author`: "generator", or "human:<name>" for a person's idea (steering)

    @model_validator(mode="before")
    @classmethod
    def _older_lineage(cls, data: object) -> object:
        return operator_from_origin(data)


class Shortlist(BaseModel):
    """Stable JSON contract: `ideas` are ranked best first."""

    run_id: str
    topic: str
    status: str
    stop_reason: str | None
    stop_detail: str | None = None  # why the run stopped, in words (e.g. a failed run's model error)
    ranked_by: str  # "elo" or "score"
    generated: int
    dropped: int
    created_at: float
    ideas: list[ShortlistEntry]
