"""Runs: `submit`, `runs`, `show`, `watch`, `shortlist`, `cancel`, `run` (all in one) and `verdict`."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.errors import IdeaforgeError
from agents.state import TranscriptEvent
from config.settings import get_settings
from ideaforge import render
from ideaforge.cli.helpers import (
    BriefOptions,
    FormatOpt,
    OutputFormat,
    ShortlistFormat,
    brief_options,
    clean_errors,
    err,
    forge,
    out,
    print_json,
    write_out_file,
)
from ideaforge.cli.model import ensure_model


@clean_errors
@brief_options
def submit(
    opts: BriefOptions,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run id.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Queue a brainstorm; prints the new run id. Workers pick it up."""
    brief = opts.build()
    run_id = forge().submit(brief)
    if quiet:
        sys.stdout.write(run_id + "\n")
    elif fmt is OutputFormat.json:
        print_json({"id": run_id, "brief": brief.model_dump(mode="json")})
    else:
        out.print(f"submitted run [bold]{run_id}[/]  (watch it: ideaforge watch {run_id})")


@clean_errors
def runs(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    schedule: Annotated[str | None, typer.Option(help="Only runs started by this schedule.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List runs, newest first."""
    states = forge().list_runs(status=status, schedule=schedule, limit=limit)
    if fmt is OutputFormat.json:
        print_json([render.run_summary(s) for s in states])
    else:
        out.print(render.runs_table(states))


@clean_errors
def show(run_id: str, fmt: FormatOpt = OutputFormat.table) -> None:
    """One run's state: status, round, phase, ideas, tokens, stop reason."""
    state = forge().get_run(run_id)
    if fmt is OutputFormat.json:
        print_json(
            {
                **render.run_summary(state),
                "ideas": [i.model_dump(mode="json") for i in state.ideas],
                "deny": state.deny,
                "errors": state.errors,
            }
        )
    else:
        out.print(render.runs_table([state]))
        for idea in state.ideas:
            mark = (
                "[green]alive[/]" if idea.alive else f"[red]dropped[/] ({render.escape(idea.dropped or '')})"
            )
            score = f" N{idea.score.novelty}/F{idea.score.feasibility}" if idea.score else ""
            out.print(f"  {idea.id:<4} {render.escape(idea.title)}{score}  {mark}")


@clean_errors
def watch(run_id: str, fmt: FormatOpt = OutputFormat.table) -> None:
    """Follow a run's transcript live; exits when the run stops."""
    f = forge()
    for event in f.iter_events(run_id, follow=True):
        _print_event(event, fmt)
    state = f.get_run(run_id)
    if fmt is OutputFormat.table:
        out.print(f"[bold]run {run_id} {state.status.value}[/] ({state.stop_reason}: {state.stop_detail})")


def _print_event(event: TranscriptEvent, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        sys.stdout.write(event.model_dump_json(exclude={"prompt"}) + "\n")
        sys.stdout.flush()
    else:
        out.print(render.event_line(event), highlight=False)


@clean_errors
def shortlist(
    run_id: str,
    fmt: Annotated[ShortlistFormat, typer.Option("--format")] = ShortlistFormat.table,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """The ranked ideas of a finished run, with scores, rationale and the main objection."""
    sl = forge().get_shortlist(run_id)
    if sl is None:
        raise IdeaforgeError(f"run {run_id} has no shortlist yet (it is still running)")
    if fmt is ShortlistFormat.table and out_file is None:
        out.print(render.shortlist_table(sl))
        return
    text = sl.model_dump_json(indent=2) if fmt is ShortlistFormat.json else render.shortlist_markdown(sl)
    if out_file:
        write_out_file(out_file, text)
        err.print(f"wrote {out_file}")
    else:
        sys.stdout.write(text + "\n")


@clean_errors
def cancel(run_id: str) -> None:
    """Stop a run gracefully: the turn in flight finishes, and a shortlist is still written."""
    state = forge().cancel(run_id)
    out.print(f"cancel requested for run [bold]{run_id}[/] (now at round {state.round}, {state.phase.value})")


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


@clean_errors
@brief_options
def run(
    opts: BriefOptions,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=32, help="Local workers to start.")
    ] = 2,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Submit, work and watch in one command: starts its own workers, prints the shortlist."""
    from ideaforge.runner import WorkerPool

    settings = get_settings()
    if opts.rounds is None and opts.file is None and not settings.endpoint_configured:
        # the embedded model is slow: one round unless asked
        opts = replace(opts, rounds=settings.local_default_rounds)
    brief = opts.build()
    f = forge()
    # SIGTERM (e.g. `timeout`, a supervisor) unwinds like SystemExit, so the cleanup below still runs
    signal.signal(signal.SIGTERM, _exit_on_signal)
    stop_model = ensure_model(settings)
    pool = WorkerPool(workers)
    pool.start()
    run_id = f.submit(brief)
    if fmt is OutputFormat.table:
        out.print(f"run [bold]{run_id}[/]: {render.escape(brief.topic)}  ({workers} workers)")
    started = time.time()
    try:
        with out.status("working…", spinner="dots") as status:

            def on_event(event: TranscriptEvent) -> None:
                _print_event(event, fmt)
                status.update(f"round {event.round}, {event.phase} · {time.time() - started:.0f}s")

            def on_idle() -> None:
                status.update(f"working… {time.time() - started:.0f}s")
                if pool.alive() == 0:
                    raise IdeaforgeError(
                        f"all workers exited; run {run_id} is still queued (start one: ideaforge worker)"
                    )

            for event in f.iter_events(run_id, follow=True, block_ms=500, on_idle=on_idle):
                on_event(event)
    except KeyboardInterrupt:
        err.print("interrupted: cancelling the run (the turn in flight finishes)…")
        f.cancel(run_id)
        for event in f.iter_events(run_id, follow=True, block_ms=500):
            _print_event(event, fmt)
    finally:
        pool.stop()
        stop_model()
    sl = f.get_shortlist(run_id)
    if sl is None:
        raise IdeaforgeError(f"run {run_id} stopped without a shortlist")
    if fmt is OutputFormat.json:
        print_json(sl.model_dump(mode="json"))
    else:
        out.print(render.shortlist_table(sl))
        out.print(
            f"[dim]{time.time() - started:.0f}s · ideaforge shortlist {run_id} --format md --out FILE[/]"
        )


class VerdictChoice(StrEnum):
    """A person's decision; either tense is accepted, the past tense is what is stored and printed."""

    accept = "accept"
    accepted = "accepted"
    reject = "reject"
    rejected = "rejected"


@clean_errors
def verdict(
    run_id: str,
    idea_id: str,
    decision: Annotated[
        VerdictChoice, typer.Argument(help="accept | reject (either tense, any case)", case_sensitive=False)
    ],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the ledger).")] = "",
) -> None:
    """Record a person's verdict on an idea: on the run and in the ledger (rejected ideas then block
    similar ideas in later runs)."""
    state, entry = forge().record_verdict(run_id, idea_id, decision.value, note)
    out.print(f"{idea_id} of run {run_id}: {entry.kind} (ledger {state.brief.namespace}, entry {entry.id})")
