"""JSON shapes the API and the dashboard share (built on `render.run_summary`)."""

from __future__ import annotations

from typing import Any

from agents.ranking import build_shortlist
from agents.shortlist import Shortlist
from agents.state import RunState, TranscriptEvent
from config.settings import Settings
from ideaforge.render import _content_summary, run_summary


def _usd(cost: float | None) -> float | None:
    return None if cost is None else round(cost, 6)


def run_row(state: RunState, settings: Settings) -> dict[str, Any]:
    """A run in listings: `render.run_summary` plus its cost (USD; None = unknown)."""
    return {**run_summary(state), "cost_usd": _usd(state.cost_usd)}


def run_detail(state: RunState, settings: Settings) -> dict[str, Any]:
    """The summary plus usage and cost per role, the idea pool, the deny-list and errors."""
    usage = {
        role: {
            "calls": u.calls,
            "failures": u.failures,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "tokens": u.total_tokens,
            "cost_usd": None if u.unpriced_calls else round(u.cost_usd, 6),
        }
        for role, u in state.usage.items()
    }
    return {
        **run_summary(state),
        "ideas_per_round": state.brief.ideas_per_round,
        "usage_by_role": usage,
        "cost_usd": _usd(state.cost_usd),
        "terminal": state.terminal,
        "deny": state.deny,
        "errors": state.errors,
        "ideas": [idea.model_dump(mode="json") for idea in state.ideas],
    }


def event_json(event_id: str, event: TranscriptEvent) -> dict[str, Any]:
    """One transcript event with its stream id and a one-line summary of the answer."""
    return {"id": event_id, **event.model_dump(mode="json"), "summary": _content_summary(event)[:300]}


def shortlist_json(state: RunState, stored: Shortlist | None, min_matches: int) -> dict[str, Any]:
    """The stored shortlist once the run stopped; until then the current ranking, marked provisional."""
    shortlist = stored if stored is not None else build_shortlist(state, min_matches=min_matches)
    return {"final": stored is not None, **shortlist.model_dump(mode="json")}
