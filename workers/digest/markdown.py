"""The digest as Markdown: one section per run, its shortlist, what is new and what repeated; every
untrusted field (topics, ideas, the stop detail) through `agents.text.md_text`."""

from __future__ import annotations

import datetime as dt

from agents.text import md_text
from workers.digest.build import Digest, DigestRun


def format_cost(usd: float | None) -> str:
    """`$0.0123` (4 decimals), or `unknown` when some request's price was unknown (never $0)."""
    return "unknown" if usd is None else f"${usd:.4f}"


def _when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _usd(cost: float | None) -> str:
    """USD with 4 decimals, or "unknown" when some request's price was unknown."""
    return "unknown" if cost is None else f"${cost:.4f}"


def _run_section(run: DigestRun) -> list[str]:
    origin = f"schedule `{run.schedule}`, slot {run.slot}" if run.schedule else "submitted by hand"
    lines = [
        f"## {md_text(run.topic)}",
        "",
        f"Run `{run.run_id}` · {origin} · {run.strategy} · finished {_when(run.finished_at)}",
        "",
        f"- **Stopped:** {run.status} ({run.stop_reason or '—'}: {md_text(run.stop_detail) or '—'})",
        f"- **Tokens:** {run.tokens:,} "
        + "("
        + ", ".join(f"{role} {n:,}" for role, n in sorted(run.tokens_by_role.items()))
        + (f", charged but not applied {run.tokens_unapplied:,}" if run.tokens_unapplied else "")
        + f") · **cost** {format_cost(run.cost_usd)}"
        + f" · {run.generated} ideas generated in {run.rounds} round(s)",
        "",
        "### Shortlist",
        "",
    ]
    if not run.shortlist:
        lines.append("_No idea survived._")
    for idea in run.shortlist:
        mark = "**new**" if idea.new else f"seen before (run `{idea.seen_before_in}`)"
        lines += [
            f"{idea.rank}. **{md_text(idea.title)}** — {mark} · novelty {idea.novelty}/10 · "
            f"feasibility {idea.feasibility}/10 · combined {idea.combined}",
            f"   {md_text(idea.summary)}",
        ]
        if idea.objection:
            lines.append(f"   _Skeptic:_ {md_text(idea.objection)}")
    lines += ["", "### New tonight", ""]
    lines += [f"- {md_text(t)}" for t in run.new] or ["_Nothing new._"]
    lines += ["", "### Repeats", ""]
    lines += [f"- {md_text(r.title)} — {md_text(r.why)}" for r in run.repeats] or ["_No repeats._"]
    lines.append("")
    return lines


def digest_markdown(digest: Digest, title: str | None = None) -> str:
    t = digest.totals
    lines = [
        f"# {md_text(title) or 'ideaforge digest'}",
        "",
        f"Runs finished {_when(digest.since)} – {_when(digest.until)}: **{t['runs']}** · "
        f"{t['shortlisted']} shortlisted ideas, **{t['new']} new**, {t['repeats']} repeats · "
        f"{t['tokens']:,} tokens · {format_cost(t['cost_usd'])}",
        "",
    ]
    if not digest.runs:
        lines += ["_No run finished in this window._", ""]
    for run in digest.runs:
        lines += _run_section(run)
    return "\n".join(lines)
