from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents.errors import EmbedderMismatch
from agents.novelty.dedup import (
    Action,
    Candidate,
    Source,
    Thresholds,
    apply_decision,
    assess,
    dried_up,
    earlier_ideas,
    idea_candidates,
    index_texts,
    resolve_with_verdict,
    title_words,
)
from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text
from agents.novelty.index import VectorIndex
from agents.schemas import SameIdeaVerdict
from agents.state import Critique, Idea, RoundStats
from tests.novelty.conftest import DENY_BANDS, IDEA_BANDS


def _index(embedder: LocalMiniLMEmbedder, keys: list[str], texts: list[str], namespace: str) -> VectorIndex:
    return index_texts(embedder.model_id, embedder.embed(texts), keys, texts, namespace)


def _text(side: dict[str, str]) -> str:
    return idea_text(side["title"], side["summary"])


def _pair_actions(embedder: LocalMiniLMEmbedder, pairs: list[dict[str, Any]]) -> list[Action]:
    actions = []
    for n, p in enumerate(pairs):
        known = _index(embedder, [f"k{n}"], [_text(p["a"])], "run")
        vec = embedder.embed([_text(p["b"])])
        cand = [Candidate("new", _text(p["b"]))]
        actions.append(assess(cand, vec, embedder.model_id, {Source.RUN: known}, IDEA_BANDS)[0].action)
    return actions


def test_labelled_pairs_with_default_policy(
    embedder: LocalMiniLMEmbedder, idea_pairs: list[dict[str, Any]]
) -> None:
    by_kind: dict[str, list[Action]] = {}
    for kind in ("verbatim", "paraphrase", "same_topic", "unrelated"):
        by_kind[kind] = _pair_actions(embedder, [p for p in idea_pairs if p["kind"] == kind])
    assert all(a is Action.DROP for a in by_kind["verbatim"])  # near-verbatim repeats dropped outright
    caught = sum(a is not Action.KEEP for a in by_kind["paraphrase"]) / len(by_kind["paraphrase"])
    assert caught >= 0.85  # paraphrases reach the Judge or are dropped (measured: 43 of 48)
    assert not any(a is Action.DROP for a in by_kind["same_topic"])  # distinct ideas are never auto-dropped
    assert all(a is Action.KEEP for a in by_kind["unrelated"])


def test_deny_list_item_blocks_its_paraphrase(embedder: LocalMiniLMEmbedder) -> None:
    deny = _index(embedder, ["0", "1"], ["Meal-kit delivery subscriptions", "Rooftop solar panels"], "deny")
    texts = [
        "Weekly boxes of recipe ingredients. Pre-portioned ingredients and recipe cards are delivered to "
        "your door every week so you can cook dinner at home.",
        "Upcycled brewery grain flour. Spent grain from breweries is dried and milled into a high-protein "
        "flour for bakeries.",
    ]
    cands = [Candidate("i1", texts[0]), Candidate("i2", texts[1])]
    d1, d2 = assess(
        cands,
        embedder.embed(texts),
        embedder.model_id,
        {Source.DENY: deny},
        IDEA_BANDS,
        {Source.DENY: DENY_BANDS},
    )
    assert d1.action is not Action.KEEP and d1.nearest is not None
    assert d1.nearest.source is Source.DENY and d1.nearest.ref == "deny:0"
    assert d2.action is Action.KEEP
    final = resolve_with_verdict(d1, SameIdeaVerdict(same=True, reason="a meal kit"))
    idea = Idea(id="i1", title="Weekly boxes", summary="...", round=1)
    apply_decision(idea, final)
    assert idea.dropped and idea.dropped.startswith("duplicate: ") and "deny-list" in idea.dropped
    assert idea.duplicate_of == "deny:0"
    assert idea.novelty_distance is not None and 0 < idea.novelty_distance < 0.6


def test_repeats_within_one_batch_and_against_the_run(embedder: LocalMiniLMEmbedder) -> None:
    old = Idea(
        id="i1",
        title="Bus lanes enforced by the buses",
        summary="Cameras mounted on city buses photograph cars parked in bus lanes and fine them.",
        round=1,
    )
    dup = Idea(id="i0", title="Solar roads", summary="Roads paved.", round=1, dropped="x", duplicate_of="i9")
    fatal = Idea(id="i2", title="Sky kelp", summary="Kelp grown in clouds.", round=1, dropped="fatal flaw: x")
    fatal.critique = Critique(flaws=["x"], strongest_objection="x", fatal=True)
    earlier = earlier_ideas([old, dup, fatal], new_ids=set())
    assert [i.id for i in earlier] == ["i1", "i2"]  # a repeat of a killed idea is still a repeat
    known = idea_candidates(earlier[:1])
    index = _index(embedder, [c.idea_id for c in known], [c.text for c in known], "run")
    texts = [
        "Bus lanes enforced by buses themselves. Cameras on city buses photograph cars parked in the lane.",
        "Seaweed feed additive that cuts cow methane. A red seaweed supplement in cattle feed cuts methane.",
        "Seaweed feed additive to cut cow methane. A red seaweed supplement added to cattle feed cuts it.",
    ]
    cands = [Candidate(f"n{i}", t) for i, t in enumerate(texts)]
    d = assess(
        cands, embedder.embed(texts), embedder.model_id, {Source.RUN: index, Source.LEDGER: None}, IDEA_BANDS
    )
    assert d[0].action is Action.DROP and d[0].nearest is not None and d[0].nearest.ref == "i1"
    assert d[1].action is Action.KEEP and d[1].nearest is not None and d[1].nearest.ref == "i1"  # n0 dropped
    assert d[2].action is Action.DROP and d[2].nearest is not None and d[2].nearest.ref == "n1"
    assert "cosine" in d[2].reason and d[2].novelty_distance < 0.2


def test_vectors_of_different_models_are_never_compared(embedder: LocalMiniLMEmbedder) -> None:
    other = VectorIndex("openai:text-embedding-3-small", embedder.dim)
    other.add(["x"], np.ones((1, embedder.dim), dtype=np.float32), "openai:text-embedding-3-small")
    vec = embedder.embed(["anything"])
    with pytest.raises(EmbedderMismatch):
        assess([Candidate("n", "anything")], vec, embedder.model_id, {Source.LEDGER: other}, IDEA_BANDS)
    with pytest.raises(EmbedderMismatch):
        other.add(["y"], vec, embedder.model_id)


def test_judge_question_and_resolution() -> None:
    from agents.novelty.dedup import Neighbour, NoveltyDecision

    d = NoveltyDecision(
        idea_id="n",
        text="New idea.",
        action=Action.ASK_JUDGE,
        nearest=Neighbour(source=Source.LEDGER, key="e1", text="Old idea.", similarity=0.7, tag="rejected"),
        novelty_distance=0.3,
        reason="r",
    )
    q = d.question()
    assert q is not None and "New idea." in q.user and "Old idea." in q.user and "same" in q.user
    assert resolve_with_verdict(d, SameIdeaVerdict(same=False, reason="different")).action is Action.KEEP
    assert resolve_with_verdict(d, None).action is Action.KEEP
    dropped = resolve_with_verdict(d, SameIdeaVerdict(same=True, reason="same"))
    assert (
        dropped.action is Action.DROP and dropped.nearest is not None and dropped.nearest.ref == "ledger:e1"
    )
    idea = Idea(id="n", title="t", summary="s", round=1)
    with pytest.raises(ValueError):
        apply_decision(idea, d)


def test_thresholds_validate() -> None:
    with pytest.raises(ValueError):
        Thresholds(high=0.5, low=0.6)
    th = Thresholds(high=0.8, low=0.55)
    assert [th.action(s) for s in (0.9, 0.8, 0.6, 0.55, 0.2)] == [
        Action.DROP,
        Action.DROP,
        Action.ASK_JUDGE,
        Action.ASK_JUDGE,
        Action.KEEP,
    ]


def test_title_words_ignore_case_punctuation_and_stop_words() -> None:
    assert (
        title_words("A Market for the Leftovers!")
        == title_words("market, leftovers")
        == {"market", "leftovers"}
    )


def test_dried_up_stop_rule() -> None:
    def rounds(*yields: tuple[int, int]) -> list[RoundStats]:
        return [RoundStats(round=i + 1, generated=g, kept=k) for i, (g, k) in enumerate(yields)]

    assert dried_up(rounds((5, 5), (5, 1), (5, 0)), min_yield=0.3, patience=2)
    assert not dried_up(rounds((5, 1), (5, 4), (5, 0)), min_yield=0.3, patience=2)
    assert not dried_up(rounds((5, 0)), min_yield=0.3, patience=2)
    assert dried_up(rounds((5, 1), (0, 0), (5, 1)), min_yield=0.3, patience=2)  # empty rounds don't count
