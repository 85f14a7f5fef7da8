"""The eval's calls (agents/eval_arms.py) on scripted answers: position bias cancels, the baseline."""

from __future__ import annotations

import asyncio
import json

from agents.eval_arms import EvalIdea, ask_baseline, judge_pairs, sample_pairs
from agents.quality import win_rate
from tests.unit.helpers import replay_agent

IDEAS = [EvalIdea(title=f"Idea number {k}", summary=f"A summary of idea {k}, long enough.") for k in range(3)]


def test_a_judge_that_always_picks_the_first_position_scores_every_pair_a_tie() -> None:
    always_a = json.dumps({"more_novel": "A", "more_feasible": "A", "reason": "first"})
    judge = replay_agent("judge", [always_a] * 8)
    pairs = asyncio.run(
        judge_pairs(judge, "a topic", IDEAS[:2], IDEAS[1:], [(0, 0), (0, 1), (1, 0), (1, 1)], 1)
    )
    assert [(p.novelty, p.feasibility, p.error) for p in pairs] == [(0.5, 0.5, None)] * 4
    assert win_rate([[p.novelty for p in pairs if p.novelty is not None]]).rate == 0.5


def test_a_missing_verdict_leaves_the_pair_out_with_its_error() -> None:
    judge = replay_agent(
        "judge", ["not json", "still not json", json.dumps({"more_novel": "B", "more_feasible": "A"})]
    )
    [pair] = asyncio.run(judge_pairs(judge, "a topic", IDEAS, IDEAS, [(0, 1)], 1))
    assert pair.novelty is None and pair.feasibility is None and pair.error


def test_the_baseline_asks_once_and_reports_its_cap_and_ideas() -> None:
    answer = json.dumps(
        {"ideas": [{"title": i.title, "summary": i.summary, "angle": "", "builds_on": []} for i in IDEAS]}
    )
    result = asyncio.run(ask_baseline(replay_agent("generator", [answer]), "a topic", 3))
    assert (result.asked, [i.title for i in result.ideas], result.error) == (
        3,
        [i.title for i in IDEAS],
        None,
    )
    assert result.model == "replay" and result.cap_tokens is None
    # an answer with more ideas than asked keeps the first `count` (the embedded model did so)
    fewer = asyncio.run(ask_baseline(replay_agent("generator", [answer]), "a topic", 1))
    assert (fewer.asked, [i.title for i in fewer.ideas]) == (1, [IDEAS[0].title])


def test_sample_pairs_is_seeded_distinct_and_capped() -> None:
    assert sample_pairs(3, 5, 9, seed=1) == sample_pairs(3, 5, 9, seed=1)
    assert len(set(sample_pairs(3, 5, 9, seed=1))) == 9
    assert sample_pairs(2, 2, 9, seed=0) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert sample_pairs(0, 5, 9, seed=0) == []
