"""JSON shapes the API and the dashboard share (a run's own shapes, `run_summary` and `run_detail`,
are in `ideaforge/render.py`, shared with the CLI).

Costs are the run's stored ones (USD, counted per model request as it returned): a float, or None
(JSON null) when some request's price was unknown; the pages show that as "unknown", never $0.
"""

from __future__ import annotations

from typing import Any

from agents.shortlist import Shortlist
from agents.state import TranscriptEvent
from ideaforge.render import _content_summary


def event_json(event_id: str, event: TranscriptEvent) -> dict[str, Any]:
    """One transcript event with its stream id and a one-line summary of the answer."""
    return {"id": event_id, **event.model_dump(mode="json"), "summary": _content_summary(event)[:300]}


def shortlist_json(shortlist: Shortlist, final: bool) -> dict[str, Any]:
    """A shortlist as `Ideaforge.current_shortlist` gives it: `final` false while the run goes on
    (the current ranking, provisional)."""
    return {"final": final, **shortlist.model_dump(mode="json")}
