"""The structured-answer path: validate, repair, re-ask once, record the failure."""

from __future__ import annotations

import pytest

from agents.calls import ask_structured, parse_json_answer
from agents.schemas import ScoreAnswer
from tests.unit.helpers import replay_agent

GOOD = '{"novelty": 7, "feasibility": 5, "rationale": "plausible and fresh"}'


@pytest.mark.parametrize("structured", [True, False])
async def test_fenced_json_is_repaired(structured: bool) -> None:
    agent = replay_agent("judge", [f"```json\n{GOOD}\n```"], structured)
    value, record = await ask_structured(agent, "Score it", ScoreAnswer)
    assert value is not None and value.novelty == 7
    assert record.ok and record.attempts == 1


@pytest.mark.parametrize("structured", [True, False])
async def test_invalid_answer_is_reasked_once_with_the_error(structured: bool) -> None:
    agent = replay_agent("judge", ['{"novelty": 42, "feasibility": 5, "rationale": "x"}', GOOD], structured)
    value, record = await ask_structured(agent, "Score it", ScoreAnswer)
    assert value is not None and value.feasibility == 5
    assert record.attempts == 2 and record.ok


async def test_two_bad_answers_are_recorded_not_raised() -> None:
    agent = replay_agent("judge", ["I think it is great!", '{"wrong": "shape"}'])
    value, record = await ask_structured(agent, "Score it", ScoreAnswer)
    assert value is None
    assert record.attempts == 2
    assert record.error is not None and "invalid answer" in record.error


def test_parse_json_answer_finds_the_object_in_prose() -> None:
    text = f"Sure! Here is my answer:\n{GOOD}\nHope that helps."
    assert parse_json_answer(text, ScoreAnswer).novelty == 7


def test_record_carries_prompt_hash_and_messages() -> None:
    import asyncio

    agent = replay_agent("judge", [GOOD, GOOD])
    _, first = asyncio.run(ask_structured(agent, "Score idea A", ScoreAnswer))
    _, second = asyncio.run(ask_structured(agent, "Score idea B", ScoreAnswer))
    assert first.prompt[0] == {"role": "system", "content": "You are the judge"}
    assert first.prompt_hash != second.prompt_hash and len(first.prompt_hash) == 16
