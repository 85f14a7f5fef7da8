"""The novelty seam: after each Generator turn, decide which new ideas are new enough to keep.

`TitleOverlapFilter` is the dependency-free default (word overlap of titles). The embedding
filter of the novelty engine implements the same Protocol.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from agents.calls import CallRecord, RoleAgent
from agents.state import Idea, RunState

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "and",
        "or",
        "with",
        "by",
        "via",
        "from",
        "at",
        "as",
        "into",
        "using",
        "use",
        "based",
        "new",
    ]
)


@dataclass
class NoveltyDecision:
    idea_id: str
    keep: bool
    novelty_distance: float | None = None
    duplicate_of: str | None = None  # an idea id, or "deny: <text>", or "ledger: <id>"
    reason: str | None = None
    calls: list[CallRecord] = field(default_factory=list)


class NoveltyFilter(Protocol):
    async def review(
        self, state: RunState, new_ideas: list[Idea], agents: Mapping[str, RoleAgent]
    ) -> list[NoveltyDecision]: ...


def title_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class TitleOverlapFilter:
    """Drops an idea whose title shares most of its words with an earlier idea or a deny item."""

    def __init__(self, threshold: float = 0.75) -> None:
        self.threshold = threshold

    async def review(
        self, state: RunState, new_ideas: list[Idea], agents: Mapping[str, RoleAgent]
    ) -> list[NoveltyDecision]:
        new_ids = {i.id for i in new_ideas}
        known: list[tuple[str, frozenset[str]]] = [
            (i.id, title_words(i.title)) for i in state.ideas if i.id not in new_ids
        ]
        known += [(f"deny: {d}", title_words(d)) for d in state.deny]
        decisions = []
        for idea in new_ideas:
            words = title_words(idea.title)
            best_id, best = None, 0.0
            for other_id, other in known:
                sim = jaccard(words, other)
                if sim > best:
                    best_id, best = other_id, sim
            keep = best < self.threshold
            decisions.append(
                NoveltyDecision(
                    idea_id=idea.id,
                    keep=keep,
                    novelty_distance=round(1.0 - best, 3),
                    duplicate_of=None if keep else best_id,
                    reason=None if keep else f"title overlaps {best:.0%} with {best_id}",
                )
            )
            known.append((idea.id, words))
        return decisions
