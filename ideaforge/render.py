"""How runs, transcripts and shortlists look in a terminal, in Markdown and in JSON."""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import BaseModel, ValidationError
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agents.schemas import (
    CommonAnswers,
    ConceptPairs,
    CritiqueAnswer,
    IdeaBatch,
    ScoreAnswer,
    UnaskedQuestions,
)
from agents.shortlist import Shortlist
from agents.state import RunState, TranscriptEvent
from agents.text import md_text

__all__ = ["escape"]

# C0 and C1 controls but tab and newline (ESC starts CSI/OSC sequences; 0x9b is an 8-bit CSI), DEL,
# and the bidirectional overrides that reorder what a terminal shows
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Model (or other untrusted) text made safe for a terminal: each control character but tab
    and newline is written as its escape (`\\x1b`, `\\u202e`), so an `ESC[2J` in a title cannot
    clear the screen and an OSC sequence cannot retitle the window. Rich markup is a separate
    matter: pass the result through `escape` where the line is printed with markup."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


ROLE_STYLES = {"generator": "bold magenta", "skeptic": "bold yellow", "judge": "bold cyan", "system": "dim"}


def age(ts: float, now: float | None = None) -> str:
    seconds = max(0, int((now or time.time()) - ts))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def run_summary(state: RunState) -> dict[str, Any]:
    """The stable JSON shape of a run in listings (`ideaforge runs --format json`, `GET /runs`)."""
    return {
        "id": state.run_id,
        "topic": state.brief.topic,
        "strategy": state.brief.strategy.value,
        "status": state.status.value,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "finished_at": state.finished_at,
        "round": state.round,
        "rounds": state.brief.rounds,
        "phase": state.phase.value,
        "step": state.step,
        "ideas_alive": len(state.alive_ideas()),
        "ideas_dropped": len(state.ideas) - len(state.alive_ideas()),
        "tokens": state.total_tokens,
        "tokens_by_role": {role: u.total_tokens for role, u in state.usage.items()},
        # charged by the endpoint for turns that never committed (a crash, a retry, a lost CAS); part
        # of `tokens`, kept apart from the roles' committed tokens above
        "tokens_unapplied_by_role": {
            role: u.total_tokens for role, u in state.unapplied.items() if u.total_tokens
        },
        "cost_usd": None if state.cost_usd is None else round(state.cost_usd, 6),  # None: unknown
        "stop_reason": state.stop_reason.value if state.stop_reason else None,
        "stop_detail": state.stop_detail,
        "schedule": state.brief.schedule,
        "mechanisms_off": state.brief.mechanisms.off(),
        "cancel_requested": state.cancel_requested,
    }


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def run_detail(state: RunState) -> dict[str, Any]:
    """One run in full, the one shape of `GET /runs/{id}` and `ideaforge show --format json`: the
    summary plus usage and cost per role, the idea pool (with lineage, cluster, author), the
    deny-list, the common answers, the strategy's material (questions, concept pairs and the
    catalog draw's seed), the steers and the errors."""
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
        "questions": state.questions,
        "concept_pairs": state.concept_pairs,
        "concept_seed": state.concept_seed,
        "errors": state.errors,
        "ideas": [idea.model_dump(mode="json") for idea in state.ideas],
        "steers": [s.model_dump(mode="json") for s in state.steers],
    }


def usd(cost: float | None) -> str:
    """A cost in USD for people: "$0.0123", or "unknown" when some model request had no known price."""
    return "unknown" if cost is None else f"${cost:.4f}"


def runs_table(states: list[RunState]) -> Table:
    table = Table(title="ideaforge runs", header_style="bold")
    for col in ("id", "topic", "status", "round/phase", "alive", "tokens", "cost", "age"):
        table.add_column(col, justify="right" if col in ("alive", "tokens", "cost") else "left")
    for s in states:
        table.add_row(
            s.run_id,
            escape(s.brief.topic[:48] + ("…" if len(s.brief.topic) > 48 else "")),
            s.status.value + (" (cancelling)" if s.cancel_requested and not s.terminal else ""),
            f"{s.round}/{s.brief.rounds} {s.phase.value}",
            str(len(s.alive_ideas())),
            str(s.total_tokens),
            usd(s.cost_usd),
            age(s.created_at),
        )
    return table


def _answer_line(answer: BaseModel) -> str:
    if isinstance(answer, IdeaBatch):
        return " | ".join(i.title for i in answer.ideas)
    if isinstance(answer, CritiqueAnswer):
        return ("FATAL: " if answer.fatal else "") + answer.strongest_objection
    if isinstance(answer, ScoreAnswer):
        return f"novelty {answer.novelty}, feasibility {answer.feasibility}: {answer.rationale}"
    if isinstance(answer, CommonAnswers):
        return "; ".join(answer.common_answers)
    if isinstance(answer, UnaskedQuestions):
        return "; ".join(answer.questions)
    assert isinstance(answer, ConceptPairs)
    return "; ".join(f"{p.first} × {p.second}" for p in answer.pairs)


# The answers a turn line summarises, read through their schemas (the first that validates wins).
_SUMMARISED = (IdeaBatch, CritiqueAnswer, ScoreAnswer, CommonAnswers, UnaskedQuestions, ConceptPairs)


def _content_summary(event: TranscriptEvent) -> str:
    if event.kind != "turn" or event.role == "system":
        return event.content
    for schema in _SUMMARISED:
        try:
            return _answer_line(schema.model_validate_json(event.content))
        except ValidationError:
            continue
    return event.content[:160]


def event_line(event: TranscriptEvent) -> Text:
    """One line per agent turn, coloured by role."""
    clock = time.strftime("%H:%M:%S", time.localtime(event.ts))
    line = Text()
    line.append(f"{clock} r{event.round} {event.phase:<14} ", style="dim")
    line.append(f"{event.role:<9}", style=ROLE_STYLES.get(event.role, ""))
    if event.idea_id:
        line.append(f" {event.idea_id:<4}", style="bold")
    if event.latency_ms is not None:
        line.append(
            f" {event.latency_ms / 1000:5.1f}s {event.prompt_tokens}→{event.completion_tokens} tok",
            style="dim",
        )
    summary = clean(_content_summary(event))
    line.append("  ")
    line.append(summary[:220], style="red" if event.kind == "error" else "")
    return line


def shortlist_table(shortlist: Shortlist) -> Table:
    table = Table(
        title=f"Shortlist for {escape(shortlist.topic[:60])} ({shortlist.status}, {shortlist.stop_reason}; "
        f"ranked by {shortlist.ranked_by})",
        header_style="bold",
        show_lines=True,
    )
    table.add_column("#", justify="right")
    table.add_column("idea", ratio=3)
    table.add_column("nov", justify="right")
    table.add_column("feas", justify="right")
    table.add_column("elo", justify="right")
    table.add_column("judge's rationale / skeptic's main objection", ratio=3)
    for e in shortlist.ideas:
        table.add_row(
            str(e.rank),
            Text.assemble((clean(e.title), "bold"), "\n", clean(e.summary)),
            str(e.novelty),
            str(e.feasibility),
            f"{e.elo:.0f}",
            Text.assemble(clean(e.rationale), "\n", ("Objection: ", "yellow"), clean(e.objection or "—")),
        )
    return table


def shortlist_markdown(shortlist: Shortlist) -> str:
    """The shortlist as a Markdown document; every untrusted field (topic, titles, summaries, the
    Judge's and Skeptic's words, the stop detail) through `md_text` (no HTML, no structure of its own)."""
    lines = [
        f"# Shortlist: {md_text(shortlist.topic)}",
        "",
        f"Run `{shortlist.run_id}` · {shortlist.status} ({shortlist.stop_reason}) · "
        f"{shortlist.generated} generated, {shortlist.dropped} dropped · ranked by {shortlist.ranked_by}",
        "",
    ]
    if not shortlist.ideas:
        lines.append("_No idea survived._")
    if shortlist.stop_detail and (not shortlist.ideas or shortlist.status != "finished"):
        lines += ["", f"Stopped: {md_text(shortlist.stop_detail)}"]  # the why, in the file read next morning
    for e in shortlist.ideas:
        lines += [
            f"## {e.rank}. {md_text(e.title)}",
            "",
            md_text(e.summary),
            "",
            f"- **Novelty** {e.novelty}/10 · **Feasibility** {e.feasibility}/10 · combined {e.combined} · "
            f"Elo {e.elo:.0f}",
            f"- **Judge:** {md_text(e.rationale)}",
            f"- **Skeptic's main objection:** {md_text(e.objection) or '—'}",
            "",
        ]
    return clean("\n".join(lines))


def outcome_line(state: RunState) -> str:
    """One plain line (no markup; model text cleaned) on how a stopped run ended: its status, stop
    reason and detail (which says why no idea is on an empty shortlist: `agents.engine.finish`)."""
    reason = state.stop_reason.value if state.stop_reason else "not stopped"
    return f"run {state.run_id} {state.status.value} ({reason}: {clean(state.stop_detail or '')})"
