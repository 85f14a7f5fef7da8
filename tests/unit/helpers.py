"""Small builders for unit tests (no Redis)."""

from __future__ import annotations

import time
from typing import Any

from autogen_ext.models.replay import ReplayChatCompletionClient

from agents.brief import parse_brief
from agents.calls import Prices, RoleAgent
from agents.state import Critique, Idea, RunState, Score, new_run_state

MODEL_INFO: dict[str, Any] = {
    "vision": False,
    "function_calling": False,
    "json_output": True,
    "structured_output": True,
    "family": "unknown",
}


def make_state(**brief: Any) -> RunState:
    brief.setdefault("topic", "Ways to reduce food waste in university cafeterias")
    b = parse_brief(brief)
    return new_run_state(b, "abc123", time.time())


def scored_idea(n: int, novelty: int, feasibility: int, *, fatal: bool = False, round_no: int = 1) -> Idea:
    return Idea(
        id=f"i{n}",
        title=f"Idea number {n} about something",
        summary=f"Summary of idea {n}, concrete enough.",
        round=round_no,
        critique=Critique(flaws=["a flaw"], strongest_objection=f"objection {n}", fatal=fatal),
        score=Score(novelty=novelty, feasibility=feasibility, rationale="because"),
    )


def replay_agent(role: str, answers: list[str], structured: bool = True) -> RoleAgent:
    client = ReplayChatCompletionClient(answers, model_info={**MODEL_INFO, "structured_output": structured})
    return RoleAgent(role, f"You are the {role}", client, "replay", 0.2, structured, Prices(0.0, 0.0))
