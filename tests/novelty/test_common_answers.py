"""The common answers in the novelty filter: outside restrict they drop an idea only at or above the
deny drop threshold (no "same idea?" band for the Judge), and they always ground the Judge as the
idea's nearest known items (real MiniLM embeddings; the Judge is a replayed answer)."""

from __future__ import annotations

from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text
from agents.novelty.filter import EmbeddingNoveltyFilter
from agents.prompts.requests import judge_request
from agents.state import Idea
from tests.novelty.conftest import DENY_BANDS, IDEA_BANDS
from tests.unit.helpers import make_state, replay_agent

COMMON = ["composting", "donate leftovers to food banks", "smaller plates", "menu planning"]
SHELF = ("Leftover meal swap shelf", "Students leave sealed leftover meals on a shared shelf for others to take.")
COPY = ("Composting", "Composting.")


def _filter(embedder: LocalMiniLMEmbedder) -> EmbeddingNoveltyFilter:
    return EmbeddingNoveltyFilter(
        embedder=embedder,
        thresholds=IDEA_BANDS,
        deny_thresholds=DENY_BANDS,
        short_words=12,
        max_concurrency=2,
        cluster_cosine=0.45,
    )


def _idea(n: int, title: str, summary: str) -> Idea:
    return Idea(id=f"i{n}", title=title, summary=summary, round=1)


async def test_common_answers_drop_only_at_the_high_threshold_and_ground_the_judge(
    embedder: LocalMiniLMEmbedder,
) -> None:
    vectors = embedder.embed([idea_text(*SHELF), COMMON[1]])
    shelf_cosine = float(vectors[0] @ vectors[1])
    assert DENY_BANDS.low <= shelf_cosine < DENY_BANDS.high  # in the deny-list's "same idea?" band

    state = make_state(strategy="question")
    state.common_answers = list(COMMON)
    ideas = [_idea(1, *SHELF), _idea(2, *COPY)]
    judge = replay_agent("judge", ['{"same": true, "reason": "same"}'])
    reviewed = await _filter(embedder).review(state, ideas, {"judge": judge})
    (shelf, shelf_calls), (copy, copy_calls) = reviewed
    assert shelf.action.value == "keep" and shelf_calls == []  # no question to the Judge
    assert copy.action.value == "drop" and copy_calls == []
    assert copy.nearest is not None and copy.nearest.ref == "common:0"
    assert "a common answer" in copy.reason

    known = shelf.known()
    assert known[0].source == "common" and known[0].text == COMMON[1]
    assert abs(known[0].cosine - shelf_cosine) < 1e-3
    ideas[0].nearest_known = known
    request = judge_request(state, ideas[0])
    assert f"- {COMMON[1]} (a common answer (a known answer to this topic), cosine {shelf_cosine:.2f})" in request


async def test_the_same_items_as_a_deny_list_send_the_band_to_the_judge(embedder: LocalMiniLMEmbedder) -> None:
    state = make_state(strategy="restrict")
    state.deny = list(COMMON)
    judge = replay_agent("judge", ['{"same": true, "reason": "the same shelf of leftovers"}'])
    [(shelf, calls)] = await _filter(embedder).review(state, [_idea(1, *SHELF)], {"judge": judge})
    assert len(calls) == 1 and shelf.action.value == "drop"
    assert shelf.nearest is not None and shelf.nearest.ref == "deny:1"
