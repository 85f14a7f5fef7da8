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
        # a lone surrogate: what a non-UTF-8 terminal's undecodable byte becomes
        ({"topic": "caf\udce9 waste"}, "topic contains a character that is not valid Unicode"),
        ({"topic": "t", "deny": ["ok", "\ud800"]}, "not valid Unicode"),
        ({"topic": "t", "concepts": ["a", "b\udcff"]}, "not valid Unicode"),
        # counts are whole numbers, never a bool, a float or a numeric string
        ({"topic": "t", "rounds": True}, "rounds: Input should be a valid integer"),
        ({"topic": "t", "ideas_per_round": False}, "ideas_per_round"),
        ({"topic": "t", "shortlist_size": "3"}, "shortlist_size"),
        ({"topic": "t", "rounds": 2.0}, "rounds"),
        ({"topic": "t", "budget": {"max_tokens": True}}, "budget.max_tokens"),
        # a budget is a finite number: Infinity or NaN is refused, not stored as "no budget"
        (
            {"topic": "t", "budget": {"max_cost_usd": float("inf")}},
            "budget.max_cost_usd: Input should be a finite",
        ),
        ({"topic": "t", "budget": {"max_seconds": float("nan")}}, "budget.max_seconds"),
        ({"topic": "t", "budget": {"max_cost_usd": True}}, "budget.max_cost_usd"),
    ],
)
def test_invalid_briefs_name_the_problem(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidBrief) as info:
        parse_brief(data)
    assert message in str(info.value)


def test_a_budget_may_be_given_as_a_whole_number() -> None:
    budget = parse_brief({"topic": "t", "budget": {"max_cost_usd": 2, "max_seconds": 60}}).budget
    assert budget.max_cost_usd == 2.0 and budget.max_seconds == 60.0


def test_brief_must_be_a_mapping() -> None:
    with pytest.raises(InvalidBrief, match="mapping"):
        parse_brief(["topic"])


def test_a_file_that_is_no_brief_is_not_echoed_back() -> None:
    """`submit --file /etc/shadow` printed every line of the file back as an unknown key."""
    lines = {f"user{i}:$6$secrethash{i}" * 5: "x" for i in range(40)}
    with pytest.raises(InvalidBrief) as info:
        parse_brief({"topic": "t", **lines})
    message = str(info.value)
    assert message.count("unknown key") == 5 and "and 35 more problems" in message
    assert len(message) < 800 and "secrethash39" not in message


@pytest.mark.parametrize("field", ["topic", "deny", "concepts"])
def test_a_bidirectional_control_character_is_refused_in_every_text_field(field: str) -> None:
    """U+202E (right-to-left override) can make a title read other than it is stored."""
    text = "Ways to reduce \u202eetsaw\u202c food waste"
    body: dict = {"topic": "Ways to reduce food waste", "strategy": "mix"}
    body[field] = text if field == "topic" else [text, "another item"]
    with pytest.raises(InvalidBrief, match="bidirectional control character"):
        parse_brief(body)
