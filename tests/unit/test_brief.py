from __future__ import annotations

import pytest

from agents.brief import Strategy, parse_brief
from agents.errors import InvalidBrief


def test_defaults_and_normalisation() -> None:
    brief = parse_brief({"topic": "  cafeteria waste  ", "strategy": "MIX", "concepts": ["a", "b"]})
    assert brief.topic == "cafeteria waste"
    assert brief.strategy is Strategy.MIX
    assert brief.rounds == 2 and brief.ideas_per_round == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topic": ""}, "topic must not be empty"),
        ({"topic": "   \n "}, "topic must not be empty"),
        ({"topic": "x" * 2001}, "limit is 2000"),
        ({"topic": "bell\x07"}, "control characters"),
        ({"topic": "t", "strategy": "brainstorm"}, "unknown strategy 'brainstorm'"),
        ({"topic": "t", "rounds": 0}, "rounds"),
        ({"topic": "t", "rounds": -1}, "rounds"),
        ({"topic": "t", "rounds": 10**6}, "rounds"),
        ({"topic": "t", "ideas_per_round": 0}, "ideas_per_round"),
        ({"topic": "t", "ideas_per_round": 21}, "ideas_per_round"),
        ({"topic": "t", "deny": "composting"}, "deny"),
        ({"topic": "t", "colour": "red"}, "unknown key 'colour'"),
        ({"topic": "t", "strategy": "mix", "concepts": ["only one"]}, "at least two concepts"),
        ({"topic": "t", "namespace": "no spaces allowed"}, "namespace"),
    ],
)
def test_invalid_briefs_name_the_problem(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidBrief) as info:
        parse_brief(data)
    assert message in str(info.value)


def test_brief_must_be_a_mapping() -> None:
    with pytest.raises(InvalidBrief, match="mapping"):
        parse_brief(["topic"])
