"""The novelty seam (`NoveltyFilter`) and its implementation `EmbeddingNoveltyFilter`: dedup in code.

After each Generator turn, every new idea (title + summary) is embedded and compared with:
- the run's earlier ideas (all of them except those already dropped as duplicates, so repeating an
  idea the Skeptic killed is still a repeat) and the earlier ideas of the same batch;
- the run's deny-list (short phrases: deny thresholds);
- the run's common answers outside restrict (`RunState.common_answers`): only the deny drop threshold,
  no band for the Judge (`Thresholds.high_only`); like every known item they become the idea's
  nearest known items, which ground the Judge's novelty score;
- the ledger of the brief's namespace (shortlisted / accepted / rejected ideas of earlier runs) and
  the prior-art entries imported into it, given as one `VectorIndex` loaded by the worker.

Known texts shorter than `short_words` words (a title-only prior-art line, a one-line ledger entry)
score like deny items against full ideas (a match is 0.31-0.66, not 0.67+), so they are compared
under the deny thresholds; full texts get the idea thresholds.

Cosine >= high drops (with an English-only embedder, only when both texts are English; other such
pairs are asked like the band's); the band [low, high) asks the Judge "same idea?" through `ask_structured`
(recorded in the transcript); the Judge's "same" drops, "different" or no usable answer keeps.
Each kept idea then gets its cluster (`agents/novelty/clusters.py`, at `cluster_cosine`) from the
same embeddings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import structlog

from agents.calls import CallRecord, RoleAgent, ask_structured
from agents.errors import ModelUnavailable
from agents.novelty.clusters import assign_clusters
from agents.novelty.dedup import (
    Action,
    Lane,
    NoveltyDecision,
    Source,
    Thresholds,
    assess,
    earlier_ideas,
    idea_candidates,
    index_texts,
    resolve_with_verdict,
)
from agents.novelty.embedder import Embedder
from agents.novelty.index import VectorIndex
from agents.prompts.judging import PromptText
from agents.prompts.roles import with_task
from agents.schemas import SameIdeaVerdict
from agents.state import Idea, RunState

log = structlog.get_logger("ideaforge.novelty")

Reviewed = tuple[NoveltyDecision, list[CallRecord]]
"""A final decision (KEEP or DROP) and the Judge's same-idea calls behind it (none if not asked)."""


class NoveltyFilter(Protocol):
    """Decides, after each Generator turn, which new ideas are new enough to keep."""

    async def review(
        self, state: RunState, new_ideas: list[Idea], agents: Mapping[str, RoleAgent]
    ) -> list[Reviewed]:
        """One final decision per new idea, in order; model calls it made ride along to be logged."""
        ...


def short_mask(labels: list[str], short_words: int) -> np.ndarray:
    """True for texts with fewer than `short_words` words."""
    return np.fromiter((len(t.split()) < short_words for t in labels), dtype=np.bool_, count=len(labels))


def ledger_lanes(
    index: VectorIndex | None, ideas: Thresholds, short: Thresholds, short_words: int
) -> list[Lane]:
    """Split a namespace's ledger index into ledger vs prior-art rows, and full vs short texts."""
    if index is None or len(index) == 0:
        return []
    tags = np.asarray(index.tags, dtype=object)
    prior = tags == "prior_art"
    brief = short_mask(index.labels, short_words)
    lanes = []
    for source, rows in ((Source.LEDGER, ~prior), (Source.PRIOR_ART, prior)):
        for bands, mask in ((ideas, rows & ~brief), (short, rows & brief)):
            if mask.any():
                lanes.append(Lane(source, index, bands, mask))
    return lanes


async def ask_same_idea(judge: RoleAgent, question: PromptText) -> tuple[SameIdeaVerdict | None, CallRecord]:
    """Ask the Judge one same-idea question (`NoveltyDecision.question()`): its system part extends
    the Judge's system prompt. Returns the verdict (None: no usable answer) and the call's record;
    raises `ModelUnavailable` when the model cannot be reached. Also used by
    `benchmarks/novelty_calibration.py --judge` to measure the band's decisions."""
    agent = replace(judge, system_prompt=with_task(judge.system_prompt, question.system))
    return await ask_structured(agent, question.user, SameIdeaVerdict)


@dataclass
class EmbeddingNoveltyFilter:
    """The production `NoveltyFilter`. Bands and limits come from settings (`workers/runtime.py`):
    `thresholds` for full ideas, `deny_thresholds` for deny items and texts under `short_words` words,
    `max_concurrency` same-idea questions in flight, `cluster_cosine` joins a kept idea to its nearest
    run idea's cluster; `ledger` is the brief's namespace (or None)."""

    embedder: Embedder
    thresholds: Thresholds
    deny_thresholds: Thresholds
    short_words: int
    max_concurrency: int
    cluster_cosine: float
    ledger: VectorIndex | None = None

    async def review(
        self, state: RunState, new_ideas: list[Idea], agents: Mapping[str, RoleAgent]
    ) -> list[Reviewed]:
        started = time.perf_counter()
        cands = idea_candidates(new_ideas)
        known = idea_candidates(earlier_ideas(state.ideas, {i.id for i in new_ideas}))
        deny = [d.strip() for d in state.deny if d.strip()]
        common = [c.strip() for c in state.common_answers if c.strip()]
        texts = [c.text for c in cands] + [c.text for c in known] + deny + common
        vectors = await asyncio.to_thread(self.embedder.embed, texts)
        embed_ms = (time.perf_counter() - started) * 1000
        model = self.embedder.model_id
        n, m = len(cands), len(known)
        run = index_texts(
            model, vectors[n : n + m], [c.idea_id for c in known], [c.text for c in known], "run"
        )
        d = n + m + len(deny)
        deny_idx = index_texts(model, vectors[n + m : d], [str(k) for k in range(len(deny))], deny, "deny")
        common_idx = index_texts(model, vectors[d:], [str(k) for k in range(len(common))], common, "common")
        decisions = assess(
            cands,
            vectors[:n],
            model,
            {Source.RUN: run, Source.DENY: deny_idx, Source.COMMON: common_idx},
            self.thresholds,
            {Source.DENY: self.deny_thresholds, Source.COMMON: self.deny_thresholds.high_only()},
            lanes=ledger_lanes(self.ledger, self.thresholds, self.deny_thresholds, self.short_words),
            multilingual=self.embedder.multilingual,
        )
        finals = await self._ask_judge(state, decisions, agents)
        clustered = assign_clusters(state, [d for d, _ in finals], self.cluster_cosine)
        finals = [(d, calls) for d, (_, calls) in zip(clustered, finals, strict=True)]
        log.info(
            "novelty.filter",
            new=n,
            run=m,
            deny=len(deny),
            common=len(common),
            ledger=len(self.ledger) if self.ledger is not None else 0,
            asked=sum(1 for d in decisions if d.action is Action.ASK_JUDGE),
            dropped=sum(1 for d, _ in finals if d.action is Action.DROP),
            embed_ms=round(embed_ms, 1),
            total_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return finals

    async def _ask_judge(
        self, state: RunState, decisions: list[NoveltyDecision], agents: Mapping[str, RoleAgent]
    ) -> list[Reviewed]:
        asks = [d for d in decisions if d.action is Action.ASK_JUDGE]
        if not asks:
            return [(d, []) for d in decisions]
        judge = agents["judge"]
        gate = asyncio.Semaphore(max(1, self.max_concurrency))

        async def one(d: NoveltyDecision) -> Reviewed:
            question = d.question()
            assert question is not None
            async with gate:
                try:
                    verdict, record = await ask_same_idea(judge, question)
                except ModelUnavailable as exc:
                    kept = d.model_copy(
                        update={
                            "action": Action.KEEP,
                            "reason": f"{d.reason}; the Judge was unavailable ({exc})",
                        }
                    )
                    return kept, []
            return resolve_with_verdict(d, verdict), [record]

        answered = dict(
            zip([d.idea_id for d in asks], await asyncio.gather(*(one(d) for d in asks)), strict=True)
        )
        return [answered.get(d.idea_id, (d, [])) for d in decisions]
