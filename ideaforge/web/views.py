"""JSON shapes the API and the dashboard share (built on `render.run_summary`).

Costs are the run's stored ones (USD, counted per model request as it returned): a float, or None
(JSON null) when some request's price was unknown; the pages show that as "unknown", never $0.
"""

from __future__ import annotations

from typing import Any

from agents.shortlist import Shortlist
from agents.state import RunState, TranscriptEvent
from ideaforge.render import _content_summary, run_summary


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def run_detail(state: RunState) -> dict[str, Any]:
    """The summary plus usage and cost per role, the idea pool, the deny-list and errors."""
    usage = {
        role: {
            "calls": u.calls,
            "failures": u.failures,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "tokens": u.total_tokens,
            "cost_usd": None if u.unpriced_calls else _usd(u.cost_usd),
        }
        for role, u in state.usage.items()
    }
    unapplied = {  # charged for turns that never committed (a crash, a retry, a lost CAS)
        role: {"tokens": u.total_tokens, "cost_usd": None if u.unpriced_calls else _usd(u.cost_usd)}
        for role, u in state.unapplied.items()
        if u.total_tokens
    }
    return {
        **run_summary(state),
        "ideas_per_round": state.brief.ideas_per_round,
        "usage_by_role": usage,
        "unapplied_by_role": unapplied,
        "terminal": state.terminal,
        "deny": state.deny,
        "common_answers": state.common_answers,
        "errors": state.errors,
        "ideas": [idea.model_dump(mode="json") for idea in state.ideas],
        "steers": [s.model_dump(mode="json") for s in state.steers],
    }


def event_json(event_id: str, event: TranscriptEvent) -> dict[str, Any]:
    """One transcript event with its stream id and a one-line summary of the answer."""
    return {"id": event_id, **event.model_dump(mode="json"), "summary": _content_summary(event)[:300]}


def shortlist_json(shortlist: Shortlist, final: bool) -> dict[str, Any]:
    """A shortlist as `Ideaforge.current_shortlist` gives it: `final` false while the run goes on
    (the current ranking, provisional)."""
    return {"final": final, **shortlist.model_dump(mode="json")}
