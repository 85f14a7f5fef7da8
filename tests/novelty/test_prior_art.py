from __future__ import annotations

import pytest

from agents.novelty.prior_art import PriorArtItem, parse_prior_art


def test_markdown_bullets_and_headings() -> None:
    md = (
        "# Known answers in mobility\n\n"
        "- Ride sharing: people share cars\n"
        "* **Congestion charge** for city centres\n"
        "  that funds buses\n"
        "1. Electric scooters\n\n"
        "## Telemedicine\n"
        "Patients see their doctor over video.\n"
        "No travel needed.\n"
    )
    assert parse_prior_art(md, "known.md") == [
        PriorArtItem(title="Ride sharing", summary="people share cars"),
        PriorArtItem(title="Congestion charge", summary="for city centres that funds buses"),
        PriorArtItem(title="Electric scooters"),
        PriorArtItem(title="Telemedicine", summary="Patients see their doctor over video. No travel needed."),
    ]


def test_text_and_jsonl() -> None:
    txt = "# comment\nSmart thermostats — learn your schedule\n\nRooftop solar\n"
    assert parse_prior_art(txt, "k.txt") == [
        PriorArtItem(title="Smart thermostats", summary="learn your schedule"),
        PriorArtItem(title="Rooftop solar"),
    ]
    jl = '{"title": "Meal kits", "summary": "boxes of ingredients"}\n\n{"text": "Robo-advisors"}\n'
    assert parse_prior_art(jl, "k.jsonl") == [
        PriorArtItem(title="Meal kits", summary="boxes of ingredients"),
        PriorArtItem(title="Robo-advisors"),
    ]
    assert parse_prior_art(jl) == parse_prior_art(jl, "k.jsonl")  # sniffed
    with pytest.raises(ValueError, match="line 1"):
        parse_prior_art("not json\n", "k.jsonl")
    with pytest.raises(ValueError, match="title"):
        parse_prior_art('{"summary": "x"}\n', "k.jsonl")
