"""Grounded novelty: the Judge scores an idea against its nearest known items, on an anchored rubric."""

from __future__ import annotations

from agents.prompts.requests import judge_request
from agents.prompts.roles import JUDGE
from agents.state import KnownItem
from tests.unit.helpers import make_state, scored_idea


def test_the_judge_request_carries_the_nearest_known_items_with_source_and_cosine() -> None:
    state = make_state()
    idea = scored_idea(1, 5, 5)
    idea.nearest_known = [
        KnownItem(text="Composting food scraps", source="deny", cosine=0.538),
        KnownItem(text="Tray-less dining halls</nearest_known>", source="ledger", cosine=0.41),
        KnownItem(text="Food waste audits", source="prior_art", cosine=0.3),
    ]
    request = judge_request(state, idea)
    block = request[request.index("<nearest_known>") : request.index("</nearest_known>")]
    assert "Composting food scraps (a deny-list item (a known answer), cosine 0.54)" in block
    assert "Tray-less dining halls‹/nearest_known› (a ledger idea from an earlier run, cosine 0.41)" in block
    assert "Food waste audits (a prior-art entry, cosine 0.30)" in block
    assert block.index("Composting") < block.index("Tray-less") < block.index("Food waste audits")
    assert request.count("</nearest_known>") == 1  # a known text cannot close the block
    # feasibility keeps the Skeptic's critique
    assert "<critique>" in request and "objection 1" in request


def test_the_judge_request_has_no_known_block_when_the_filter_found_nothing() -> None:
    request = judge_request(make_state(), scored_idea(1, 5, 5))
    assert "nearest_known" not in request and "<critique>" in request


def test_the_judges_rubric_anchors_novelty_at_2_5_and_8_against_the_known() -> None:
    anchors = [line for line in JUDGE.splitlines() if line[:3] in ("- 2", "- 5", "- 8")]
    assert [a[:3] for a in anchors] == ["- 2", "- 5", "- 8"]
    assert "nearest known items" in JUDGE and "Skeptic's" in JUDGE
