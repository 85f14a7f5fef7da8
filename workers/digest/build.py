"""Collect the runs finished in a window and compare their shortlists with earlier nights.

"New" and "repeat" use a normalized title (lower-case words without stop words, as a set) against
the shortlists of every earlier run in the same idea-ledger namespace. Ideas the run's own novelty
filter dropped as duplicates are listed as repeats too. The runs and shortlists come from the store.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from agents.novelty.dedup import title_words
from agents.shortlist import Shortlist
from agents.state import TERMINAL_STATUSES, RunState
from workers.store.runs import RunStore

DIGEST_VERSION = 1


def normalize_title(title: str) -> frozenset[str]:
    return title_words(title)


class DigestIdea(BaseModel):
    rank: int
    idea_id: str
    title: str
    summary: str
    novelty: int
    feasibility: int
    combined: float
    objection: str | None = None
    new: bool
    seen_before_in: str | None = None  # run id of the earliest shortlist that had it


class Repeat(BaseModel):
    title: str
    why: str


class DigestRun(BaseModel):
    run_id: str
    topic: str
    strategy: str
    schedule: str | None
    slot: str | None
    status: str
    stop_reason: str | None
    stop_detail: str | None
    created_at: float
    finished_at: float | None
    rounds: int
    tokens: int
    tokens_by_role: dict[str, int]
    tokens_unapplied: int = 0  # charged for turns that never committed; part of `tokens`
    cost_usd: float | None  # USD; None = unknown (some model request had no known price)
    generated: int
    shortlist: list[DigestIdea] = Field(default_factory=list)
    new: list[str] = Field(default_factory=list)  # titles that did not appear on earlier shortlists
    repeats: list[Repeat] = Field(default_factory=list)


class Digest(BaseModel):
    """Stable JSON contract of `ideaforge digest --format json`."""

    version: int = DIGEST_VERSION
    since: float
    until: float
    generated_at: float
    runs: list[DigestRun]

    @property
    def totals(self) -> dict[str, Any]:
        return {
            "runs": len(self.runs),
            "shortlisted": sum(len(r.shortlist) for r in self.runs),
            "new": sum(len(r.new) for r in self.runs),
            "repeats": sum(len(r.repeats) for r in self.runs),
            "tokens": sum(r.tokens for r in self.runs),
            "cost_usd": total_cost([r.cost_usd for r in self.runs]),
        }


def total_cost(costs: list[float | None]) -> float | None:
    """The sum in USD (rounded to 6 places), or None (unknown) when any part is unknown."""
    if any(c is None for c in costs):
        return None
    return round(sum(c for c in costs if c is not None), 6)


def _seen_titles(earlier: list[RunState], shortlists: dict[str, Shortlist]) -> dict[frozenset[str], str]:
    """Normalized title → id of the earliest run whose shortlist had it."""
    seen: dict[frozenset[str], str] = {}
    for run in sorted(earlier, key=lambda r: r.created_at):
        shortlist = shortlists.get(run.run_id)
        for entry in shortlist.ideas if shortlist else []:
            seen.setdefault(normalize_title(entry.title), run.run_id)
    return seen


def digest_run(run: RunState, shortlists: dict[str, Shortlist], earlier: list[RunState]) -> DigestRun:
    """One run's digest entry; `earlier` are the runs created before it (any namespace)."""
    seen = _seen_titles([r for r in earlier if r.brief.namespace == run.brief.namespace], shortlists)
    shortlist = shortlists.get(run.run_id)
    ideas: list[DigestIdea] = []
    for e in shortlist.ideas if shortlist else []:
        first = seen.get(normalize_title(e.title))
        ideas.append(
            DigestIdea(
                rank=e.rank,
                idea_id=e.idea_id,
                title=e.title,
                summary=e.summary,
                novelty=e.novelty,
                feasibility=e.feasibility,
                combined=e.combined,
                objection=e.objection,
                new=first is None,
                seen_before_in=first,
            )
        )
    repeats = [
        Repeat(title=i.title, why=f"on the shortlist of run {i.seen_before_in}") for i in ideas if not i.new
    ]
    repeats += [
        Repeat(title=idea.title, why=f"dropped by the filter ({idea.dropped})")
        for idea in run.ideas
        if idea.dropped and idea.dropped.startswith("duplicate")
    ]
    return DigestRun(
        run_id=run.run_id,
        topic=run.brief.topic,
        strategy=run.brief.strategy.value,
        schedule=run.brief.schedule,
        slot=run.brief.schedule_slot,
        status=run.status.value,
        stop_reason=run.stop_reason.value if run.stop_reason else None,
        stop_detail=run.stop_detail,
        created_at=run.created_at,
        finished_at=run.finished_at,
        rounds=run.round,
        tokens=run.total_tokens,
        tokens_by_role={role: u.total_tokens for role, u in run.usage.items()},
        tokens_unapplied=sum(u.total_tokens for u in run.unapplied.values()),
        cost_usd=total_cost([run.cost_usd]),
        generated=len(run.ideas),
        shortlist=ideas,
        new=[i.title for i in ideas if i.new],
        repeats=repeats,
    )


def build_digest(store: RunStore, since: float, until: float | None = None) -> Digest:
    """Every run that finished in [since, until] (epoch seconds; `until` defaults to now), oldest
    first, compared with the shortlists of runs created before it."""
    until = until if until is not None else time.time()
    runs = store.created_until(until)
    finished = sorted(
        (
            r
            for r in runs
            if r.status in TERMINAL_STATUSES and r.finished_at is not None and since <= r.finished_at <= until
        ),
        key=lambda r: r.finished_at or 0.0,
    )
    shortlists = store.shortlists([r.run_id for r in runs if r.terminal])
    out = []
    for run in finished:
        earlier = [r for r in runs if r.created_at < run.created_at]
        out.append(digest_run(run, shortlists, earlier))
    return Digest(since=since, until=until, generated_at=time.time(), runs=out)
