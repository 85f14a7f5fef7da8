"""Dedup and novelty in code: each new idea against the run, the deny-list, the ledger and prior art.

Policy (two thresholds, calibrated by `python -m benchmarks.novelty_calibration`):
- cosine >= `high`: dropped automatically as a duplicate of its nearest neighbour, if both texts are
  English or the embedder is multilingual (`agents/novelty/language.py` says why); otherwise the Judge
  is asked, as in the band;
- `low` <= cosine < `high`: the Judge is asked a pairwise "same idea?" question (`agents/prompts/judging.py`);
- below `low`: kept.
Each decision keeps the nearest neighbour (source, key, text, cosine) and a readable reason, and
every neighbour it looked at (`neighbours`, most similar first): the known ones become
`Idea.nearest_known` (grounding the Judge's novelty score), the run's own nearest idea decides its
cluster (`agents/novelty/clusters.py`).
Vectors are only compared within one embedder's space (`VectorIndex` raises `EmbedderMismatch`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, model_validator

from agents.novelty.embedder import Matrix, idea_text
from agents.novelty.index import VectorIndex
from agents.novelty.language import is_english
from agents.prompts.judging import KNOWN_IDEA_LABELS, PromptText, same_idea_prompt
from agents.schemas import SameIdeaVerdict
from agents.state import Idea, KnownItem, RoundStats
from config.settings import Cosine, check_band


class Source(StrEnum):
    RUN = "run"  # the run's own ideas (earlier ones, and earlier ones of the same batch)
    DENY = "deny"  # the run's deny-list: the known, common answers
    COMMON = "common"  # the common answers derived for a run not in restrict (`RunState.common_answers`)
    LEDGER = "ledger"  # ideas from earlier runs (shortlisted, accepted, rejected)
    PRIOR_ART = "prior_art"  # an imported corpus of known ideas


NEAREST_KNOWN = 3
"""Nearest known items a decision keeps per source index, and an idea stores (`Idea.nearest_known`)."""


class Action(StrEnum):
    KEEP = "keep"
    ASK_JUDGE = "ask_judge"
    DROP = "drop"


_SEVERITY = {Action.KEEP: 0, Action.ASK_JUDGE: 1, Action.DROP: 2}


class Thresholds(BaseModel):
    """Cosine thresholds: >= high drops, [low, high) asks the Judge, < low keeps.

    The values come from settings (`novelty_high`/`novelty_low`, `novelty_deny_high`/`novelty_deny_low`).
    """

    model_config = ConfigDict(frozen=True)

    high: Cosine
    low: Cosine

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        check_band(self.low, self.high)
        return self

    def high_only(self) -> Thresholds:
        """The same drop threshold with no band for the Judge (`low` = `high`): for the common
        answers of a run not in restrict, which drop an idea only at or above `high`."""
        return Thresholds(high=self.high, low=self.high)

    def action(self, similarity: float) -> Action:
        if similarity >= self.high:
            return Action.DROP
        if similarity >= self.low:
            return Action.ASK_JUDGE
        return Action.KEEP


class Neighbour(BaseModel):
    """The known thing a new idea is closest to."""

    source: Source
    key: str
    text: str
    similarity: float
    tag: str = ""  # e.g. the ledger entry's kind: shortlisted | accepted | rejected | prior_art
    thresholds: Thresholds | None = None  # set by a `Lane` with its own thresholds (e.g. short texts)

    @property
    def ref(self) -> str:
        """A stable reference for `Idea.duplicate_of`: the idea id for the run, else `source:key`."""
        return self.key if self.source is Source.RUN else f"{self.source.value}:{self.key}"


class NoveltyDecision(BaseModel):
    """What the filter decided for one new idea, and why."""

    idea_id: str
    text: str
    action: Action
    nearest: Neighbour | None = None  # the neighbour behind the action (the most similar one if kept)
    novelty_distance: float = 1.0  # 1 - max cosine to anything known, clipped to [0, 1]
    reason: str = ""
    neighbours: list[Neighbour] = []  # every neighbour compared, most similar first
    cluster: str | None = None  # set for a kept idea by `agents.novelty.clusters.assign_clusters`

    def known(self, k: int = NEAREST_KNOWN) -> list[KnownItem]:
        """The `k` most similar known items (deny-list, common answers, ledger, prior art), most similar
        first; plus, for a DROP whose neighbour is a run idea, that idea (source "run"): a person's
        idea is kept anyway (`agents/steering.py`), and the Judge must see what it repeats."""
        known = [n for n in self.neighbours if n.source is not Source.RUN][:k]
        match = self.nearest
        if self.action is Action.DROP and match is not None and match.source is Source.RUN:
            known = sorted([match, *known], key=lambda n: -n.similarity)
        return [KnownItem(text=n.text, source=n.source.value, cosine=round(n.similarity, 3)) for n in known]

    def question(self) -> PromptText | None:
        """The Judge's same-idea prompt when the decision is ASK_JUDGE."""
        if self.action is not Action.ASK_JUDGE or self.nearest is None:
            return None
        return same_idea_prompt(self.text, self.nearest.text, KNOWN_IDEA_LABELS[self.nearest.source.value])


@dataclass(frozen=True)
class Lane:
    """Some rows of an index compared under their own thresholds.

    Used to split one ledger index into sources (ledger ideas vs prior art) and into full ideas vs
    short, title-only texts, which score like deny items and so get the deny thresholds.
    `rows` is a boolean mask over the index's rows (None: all rows).
    """

    source: Source
    index: VectorIndex
    thresholds: Thresholds | None = None
    rows: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class Candidate:
    idea_id: str
    text: str


def _reason(action: Action, n: Neighbour, th: Thresholds) -> str:
    where = KNOWN_IDEA_LABELS[n.source.value] + (f" [{n.tag}]" if n.tag else "")
    quoted = n.text if len(n.text) <= 120 else n.text[:117] + "..."
    if action is Action.DROP:
        return f"duplicate of {where} {n.ref} {quoted!r} (cosine {n.similarity:.3f} >= {th.high})"
    if action is Action.ASK_JUDGE and n.similarity >= th.high:
        return (
            f"possibly the same as {where} {n.ref} {quoted!r} (cosine {n.similarity:.3f} >= {th.high}, "
            "but not both texts are English and the embedder is English-only); ask the Judge"
        )
    if action is Action.ASK_JUDGE:
        return f"possibly the same as {where} {n.ref} {quoted!r} (cosine {n.similarity:.3f}); ask the Judge"
    return f"novel: nearest is {where} {n.ref} (cosine {n.similarity:.3f} < {th.low})"


def assess(
    candidates: Sequence[Candidate],
    vectors: Matrix,
    model_id: str,
    sources: Mapping[Source, VectorIndex | None],
    thresholds: Thresholds,
    per_source: Mapping[Source, Thresholds] | None = None,
    lanes: Sequence[Lane] = (),
    *,
    multilingual: bool = False,
) -> list[NoveltyDecision]:
    """Decide for each candidate (in order) against every source and the earlier, not-dropped candidates.

    `thresholds` apply to every source without its own bands in `per_source` (e.g. the deny-list's).

    `lanes` add masked parts of further indexes, each with its own thresholds (one similarity
    product per distinct index, however many lanes share it).

    `multilingual`: whether the embedder `model_id` places texts of any language in one space. If
    not, a cosine at or above a drop threshold drops only when both texts are English (`is_english`);
    other such pairs become ASK_JUDGE.

    Raises `EmbedderMismatch` if any non-empty source holds vectors of another model.
    """
    vecs = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    if vecs.shape[0] != len(candidates):
        raise ValueError(f"{len(candidates)} candidates for {vecs.shape[0]} vectors")
    per_source = per_source or {}
    best: list[list[Neighbour]] = [[] for _ in candidates]
    for source, index in sources.items():
        if index is None:
            continue
        index.check(model_id, vecs.shape[1])
        for i, hits in enumerate(index.search(vecs, model_id, k=NEAREST_KNOWN)):
            best[i].extend(
                Neighbour(source=source, key=hit.key, text=hit.label, similarity=hit.score, tag=hit.tag)
                for hit in hits
            )
    products: dict[int, Matrix] = {}
    for lane in lanes:
        if len(lane.index) == 0 or (lane.rows is not None and not lane.rows.any()):
            continue
        sims = products.get(id(lane.index))
        if sims is None:
            sims = products[id(lane.index)] = lane.index.similarities(vecs, model_id)
        masked = sims if lane.rows is None else np.where(lane.rows[None, :], sims, -np.inf)
        top = np.argmax(masked, axis=1)
        for i, j in enumerate(top):
            best[i].append(
                Neighbour(
                    source=lane.source,
                    key=lane.index.keys[j],
                    text=lane.index.labels[j],
                    similarity=float(masked[i, j]),
                    tag=lane.index.tags[j],
                    thresholds=lane.thresholds,
                )
            )
    batch_sims = vecs @ vecs.T
    decisions: list[NoveltyDecision] = []
    for i, cand in enumerate(candidates):
        neighbours = list(best[i])
        earlier = [j for j in range(i) if decisions[j].action is not Action.DROP]
        if earlier:
            j = max(earlier, key=lambda j: float(batch_sims[i, j]))
            neighbours.append(
                Neighbour(
                    source=Source.RUN,
                    key=candidates[j].idea_id,
                    text=candidates[j].text,
                    similarity=float(batch_sims[i, j]),
                )
            )
        decisions.append(_decide(cand, neighbours, thresholds, per_source, multilingual))
    return decisions


def _decide(
    cand: Candidate,
    neighbours: list[Neighbour],
    default: Thresholds,
    per_source: Mapping[Source, Thresholds],
    multilingual: bool,
) -> NoveltyDecision:
    if not neighbours:
        return NoveltyDecision(
            idea_id=cand.idea_id,
            text=cand.text,
            action=Action.KEEP,
            reason="novel: nothing known to compare with",
        )

    def bands(n: Neighbour) -> Thresholds:
        return n.thresholds or per_source.get(n.source, default)

    def rate(n: Neighbour) -> Action:
        act = bands(n).action(n.similarity)
        if act is Action.DROP and not multilingual and not (is_english(cand.text) and is_english(n.text)):
            return Action.ASK_JUDGE  # an English-only embedder's cosine says little about these texts
        return act

    rated = [(rate(n), n) for n in neighbours]
    action, chosen = max(rated, key=lambda an: (_SEVERITY[an[0]], an[1].similarity))
    closest = max(n.similarity for n in neighbours)
    th = bands(chosen)
    return NoveltyDecision(
        idea_id=cand.idea_id,
        text=cand.text,
        action=action,
        nearest=chosen,
        novelty_distance=round(1.0 - min(max(closest, 0.0), 1.0), 6),
        reason=_reason(action, chosen, th),
        neighbours=sorted(neighbours, key=lambda n: -n.similarity),
    )


def resolve_with_verdict(decision: NoveltyDecision, verdict: SameIdeaVerdict | None) -> NoveltyDecision:
    """Turn an ASK_JUDGE decision into DROP (same) or KEEP (different, or no usable answer: fail open)."""
    if decision.action is not Action.ASK_JUDGE:
        return decision
    if verdict is None:
        action, note = Action.KEEP, "the Judge gave no usable answer, kept"
    elif verdict.same:
        action, note = Action.DROP, f"the Judge: same idea ({verdict.reason})"
    else:
        action, note = Action.KEEP, f"the Judge: different ({verdict.reason})"
    return decision.model_copy(update={"action": action, "reason": f"{decision.reason}; {note}"})


def apply_decision(idea: Idea, decision: NoveltyDecision) -> None:
    """Record a final decision on the idea: its novelty distance, nearest known items
    (`decision.known()`), cluster and, if dropped, why and of what.

    A drop sets `idea.duplicate_of` (the neighbour's `ref`) and `idea.dropped` ("duplicate: <reason>").
    Raises ValueError for another idea's decision or an unresolved ASK_JUDGE.
    """
    if decision.idea_id != idea.id:
        raise ValueError(f"decision for {decision.idea_id} applied to {idea.id}")
    if decision.action is Action.ASK_JUDGE:
        raise ValueError("resolve the Judge's question before applying the decision")
    idea.novelty_distance = decision.novelty_distance
    idea.nearest_known = decision.known()
    idea.cluster = decision.cluster
    if decision.action is Action.DROP and decision.nearest is not None:
        idea.duplicate_of = decision.nearest.ref
        idea.dropped = f"duplicate: {decision.reason}"


def earlier_ideas(ideas: Sequence[Idea], new_ids: set[str]) -> list[Idea]:
    """The run's ideas a new batch is compared with: all but the batch and those already dropped as
    duplicates (an idea the Skeptic killed still counts: proposing it again is a repeat)."""
    return [i for i in ideas if i.id not in new_ids and i.duplicate_of is None]


def idea_candidates(ideas: Sequence[Idea]) -> list[Candidate]:
    """Each idea as the text that is embedded (`idea_text(title, summary)`)."""
    return [Candidate(idea.id, idea_text(idea.title, idea.summary)) for idea in ideas]


def index_texts(
    model_id: str,
    vectors: Matrix,
    keys: list[str],
    texts: list[str],
    namespace: str,
    tags: list[str] | None = None,
) -> VectorIndex:
    """A fresh index of already embedded texts (the run's ideas, or its deny-list keyed `0`, `1`, ...).

    `vectors` is (len(texts), dim) from the embedder `model_id`; no texts gives an empty index of
    width `vectors.shape[1]`.
    """
    index = VectorIndex(model_id, int(vectors.shape[1]), namespace=namespace)
    if texts:
        index.add(keys, vectors, model_id, labels=texts, tags=tags)
    return index


_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script (an Arabic title has words too)
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


def title_words(text: str) -> frozenset[str]:
    """A title as a set of lower-case words (any script) without English stop words (exact repeats of a
    title, reworded)."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def dried_up(rounds: Sequence[RoundStats], min_yield: float, patience: int) -> bool:
    """True when the unique yield stayed under `min_yield` for the last `patience` finished rounds."""
    if patience < 1:
        raise ValueError("patience must be >= 1")
    recent = [r for r in rounds if r.generated > 0][-patience:]
    return len(recent) == patience and all(r.unique_yield < min_yield for r in recent)
