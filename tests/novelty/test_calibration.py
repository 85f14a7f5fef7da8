"""The dedup bands on real model output (tests/data/real_*_pairs.jsonl) and the two cases of issue 14.

The real pairs come from the embedded model (`benchmarks/novelty_collect.py`), labelled by hand under
the rule in each file's header; `python -m benchmarks.novelty_calibration` prints the full tables.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from agents.novelty.dedup import Action, Candidate, Source, assess, index_texts
from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text
from agents.prompts.judging import same_idea_prompt
from tests.novelty.conftest import DATA, DENY_BANDS, IDEA_BANDS


def _rows(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x.strip()]
    return lines[0], lines[1:]


def _text(side: str | dict[str, str]) -> str:
    return side if isinstance(side, str) else idea_text(side["title"], side["summary"])


def _cosines(embedder: LocalMiniLMEmbedder, pairs: list[dict[str, Any]]) -> np.ndarray:
    a = embedder.embed([_text(p["a"]) for p in pairs])
    b = embedder.embed([_text(p["b"]) for p in pairs])
    return np.asarray(np.sum(a * b, axis=1))


def _deny_decision(embedder: LocalMiniLMEmbedder, known: str, idea: str) -> tuple[Action, float]:
    """The default filter's decision for one idea against a one-item deny-list."""
    deny = index_texts(embedder.model_id, embedder.embed([known]), ["0"], [known], "deny")
    d = assess(
        [Candidate("i1", idea)],
        embedder.embed([idea]),
        embedder.model_id,
        {Source.DENY: deny},
        IDEA_BANDS,
        {Source.DENY: DENY_BANDS},
    )[0]
    assert d.nearest is not None
    return d.action, d.nearest.similarity


@pytest.mark.parametrize("name", ["real_idea_pairs.jsonl", "real_deny_pairs.jsonl"])
def test_real_pair_files_name_their_source_and_labelling_rule(name: str) -> None:
    header, pairs = _rows(name)
    assert {"model", "date", "rule", "made_by"} <= set(header["_about"])
    assert all(p["model"] and p["date"] and p["topic"] and isinstance(p["same"], bool) for p in pairs)
    assert not all(p["same"] for p in pairs)


def test_enough_real_pairs_with_hard_ones_near_the_bands(embedder: LocalMiniLMEmbedder) -> None:
    _, ideas = _rows("real_idea_pairs.jsonl")
    _, known = _rows("real_deny_pairs.jsonl")
    assert len(ideas) + len(known) >= 150
    assert sum(p["same"] for p in known) >= 8  # real matches of a known answer or a derived deny item
    sims = _cosines(embedder, known)
    different = np.array([not p["same"] for p in known])
    # a labelled-different pair inside the old deny drop zone (>= 0.55), as in the issue, and matches
    # spread over the band below it
    assert int(np.sum(different & (sims >= 0.55))) >= 1
    assert int(np.sum(~different & (sims >= 0.40) & (sims < 0.55))) >= 2


def test_default_bands_make_no_false_auto_drop_on_real_output(embedder: LocalMiniLMEmbedder) -> None:
    for name, bands in (("real_idea_pairs.jsonl", IDEA_BANDS), ("real_deny_pairs.jsonl", DENY_BANDS)):
        _, pairs = _rows(name)
        sims = _cosines(embedder, pairs)
        for p, s in zip(pairs, sims, strict=True):
            if not p["same"]:
                assert bands.action(float(s)) is not Action.DROP, (name, p["a"], p["b"]["title"], float(s))


def test_real_known_answer_matches_reach_the_judge_or_drop(embedder: LocalMiniLMEmbedder) -> None:
    _, pairs = _rows("real_deny_pairs.jsonl")
    same = [p for p in pairs if p["same"]]
    sims = _cosines(embedder, same)
    caught = sum(DENY_BANDS.action(float(s)) is not Action.KEEP for s in sims)
    assert caught / len(same) >= 0.75  # measured by benchmarks/novelty_calibration.py (README table)


def test_issue_false_drop_is_not_auto_dropped(embedder: LocalMiniLMEmbedder) -> None:
    """Issue 14: "Implement online communities and forums" was auto-dropped as a duplicate of the
    (off-topic) derived deny item "Introduce more diverse programming projects for teens" at cosine
    0.606. The issue gives the title and the cosine; the summary here is reconstructed to land in the
    same zone (>= the old deny drop threshold 0.55)."""
    assert DENY_BANDS.action(0.606) is not Action.DROP
    idea = idea_text(
        "Implement online communities and forums",
        "Create online communities and forums where teens can share their programming projects, ask "
        "questions and get feedback from peers.",
    )
    action, cosine = _deny_decision(embedder, "Introduce more diverse programming projects for teens", idea)
    assert cosine >= 0.55  # the old default would have dropped it unasked
    assert action is Action.ASK_JUDGE


def test_issue_compost_near_miss_is_caught(embedder: LocalMiniLMEmbedder) -> None:
    """Issue 14: "Compost the cafeteria's food scraps" scored 0.537-0.540 against the known answer
    "Composting food scraps"; it must reach the Judge or be dropped, never be kept unasked."""
    assert all(DENY_BANDS.action(c) is not Action.KEEP for c in (0.537, 0.540))
    idea = idea_text(
        "Compost the cafeteria's food scraps",
        "Collect the food scraps from the kitchen and the plates and compost them for the campus gardens.",
    )
    action, cosine = _deny_decision(embedder, "Composting food scraps", idea)
    assert 0.5 <= cosine < 0.6
    assert action in (Action.ASK_JUDGE, Action.DROP)


def test_same_idea_question_counts_an_applied_known_answer_as_the_same() -> None:
    """The Judge's question names the case the embedded Judge got wrong (a known answer applied to a
    place): it must say that this is the same idea, and show the known item as B."""
    q = same_idea_prompt("Compost the cafeteria's food scraps.", "Composting food scraps", "a deny-list item")
    assert "applied to" in q.system and "applied" in q.user
    assert q.user.index("Compost the cafeteria") < q.user.index("Composting food scraps")
