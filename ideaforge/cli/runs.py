"""Runs: `submit`, `runs`, `show`, `watch`, `shortlist`, `cancel`, `run` (all in one) and `verdict`."""

from __future__ import annotations

import contextlib
import itertools
import secrets
import signal
import sys
import time
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agents.errors import IdeaforgeError, RunAlreadyFinished
from agents.shortlist import Shortlist
from agents.state import Idea, RunState, RunStatus, TranscriptEvent
from config.settings import get_settings
from ideaforge import render
from ideaforge.cli.helpers import (
    BriefOptions,
    ExitCode,
    FormatOpt,
    OutputFormat,
    ShortlistFormat,
    brief_options,
    clean_errors,
    err,
    forge,
    out,
    print_json,
    run_exit_code,
    write_out_file,
)
from ideaforge.cli.model import ensure_model

if TYPE_CHECKING:
    from ideaforge.runner import WorkerPool
    from workers.api import Ideaforge


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
    """One run's state: status, round, phase, ideas, tokens, stop reason and detail, errors
    (`--format json`: the same shape as `GET /runs/{id}`)."""
    state = forge().get_run(run_id)
    if fmt is OutputFormat.json:
        print_json(render.run_detail(state))  # the same shape as GET /runs/{id}
        return
    out.print(render.runs_table([state]))
    if state.brief.mechanisms.off():
        out.print(f"without: {', '.join(state.brief.mechanisms.off())}", highlight=False)
    unapplied = {role: u.total_tokens for role, u in state.unapplied.items() if u.total_tokens}
    if unapplied:
        parts = ", ".join(f"{role} {n:,}" for role, n in sorted(unapplied.items()))
        out.print(
            f"tokens charged but not applied (turns that never committed; included above): {parts}",
            highlight=False,
        )
    if state.stop_reason is not None:
        style = "red" if state.status is RunStatus.FAILED else "bold"
        out.print(
            f"[{style}]stopped: {state.stop_reason.value}[/] — {_plain(state.stop_detail or '')}",
            highlight=False,
        )
    for error in state.errors:
        out.print(f"[red]error:[/] {_plain(error)}", highlight=False)
    for idea in state.ideas:
        mark = "[green]alive[/]" if idea.alive else f"[red]dropped[/] ({_plain(idea.dropped or '')})"
        score = f" N{idea.score.novelty}/F{idea.score.feasibility}" if idea.score else ""
        failed = f" [yellow]unscored: {_plain(idea.failure)}[/]" if idea.failure else ""
        out.print(
            f"  {idea.id:<4} {_plain(idea.title)}{score}  {mark}{failed}{_lineage(idea)}", highlight=False
        )


def _lineage(idea: Idea) -> str:
    """" [dim](combine of i2 + i5, cluster i2)[/]": how an idea came about and its cluster, briefly."""
    parts = [f"{idea.operator} of {' + '.join(idea.parents)}" if idea.parents else idea.operator]
    if idea.cluster:
        parts.append(f"cluster {idea.cluster}")
    return f" [dim]({_plain(', '.join(parts))})[/]"


def _plain(text: str) -> str:
    """Untrusted text for a line printed with markup: control characters escaped, markup escaped."""
    return render.escape(render.clean(text))


@clean_errors
def watch(run_id: str, fmt: FormatOpt = OutputFormat.table) -> None:
    """Follow a run's transcript live; exits when the run stops (exit code: see the README's table)."""
    f = forge()
    for event in f.iter_events(run_id, follow=True):
        _print_event(event, fmt)
    state = f.get_run(run_id)
    _finish(state, f.get_shortlist(run_id), fmt, show_shortlist=False)


def _print_event(event: TranscriptEvent, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        sys.stdout.write(event.model_dump_json(exclude={"prompt"}) + "\n")
        sys.stdout.flush()
    else:
        out.print(render.event_line(event), highlight=False)


def _finish(
    state: RunState,
    sl: Shortlist | None,
    fmt: OutputFormat | ShortlistFormat,
    *,
    show_shortlist: bool,
    out_file: Path | None = None,
    interrupted: bool = False,
) -> None:
    """End `run`, `watch` or `shortlist` for a stopped run: print the shortlist (if asked for, and
    unless a table would be empty), say how the run ended (on stderr when the run failed or was
    cancelled, or the shortlist is empty), and exit with `run_exit_code`."""
    code = run_exit_code(state, interrupted=interrupted)
    table = fmt in (OutputFormat.table, ShortlistFormat.table) and out_file is None
    if show_shortlist and sl is not None:
        if table:
            if sl.ideas:
                out.print(render.shortlist_table(sl))
        else:
            text = (
                sl.model_dump_json(indent=2)
                if fmt in (OutputFormat.json, ShortlistFormat.json)
                else render.shortlist_markdown(sl)
            )
            if out_file:
                write_out_file(out_file, text)
                err.print(f"wrote {out_file}")
            else:
                sys.stdout.write(text + "\n")
    line = render.outcome_line(state)
    if code is not ExitCode.OK or (sl is not None and not sl.ideas):
        err.print(line, style="red" if code is ExitCode.RUN_FAILED else None, highlight=False, markup=False)
    elif table:
        out.print(line, style="bold", highlight=False, markup=False)
    if code is not ExitCode.OK:
        raise typer.Exit(code)


@clean_errors
def shortlist(
    run_id: str,
    fmt: Annotated[ShortlistFormat, typer.Option("--format")] = ShortlistFormat.table,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """The ranked ideas of a stopped run, with scores, rationale and the main objection (exit code:
    see the README's table)."""
    f = forge()
    sl = f.get_shortlist(run_id)
    if sl is None:
        raise IdeaforgeError(f"run {run_id} has no shortlist yet (it is still running)")
    _finish(f.get_run(run_id), sl, fmt, show_shortlist=True, out_file=out_file)


@clean_errors
def cancel(run_id: str) -> None:
    """Stop a run gracefully: the turn in flight finishes, and a shortlist is still written."""
    state = forge().cancel(run_id)
    out.print(f"cancel requested for run [bold]{run_id}[/] (now at round {state.round}, {state.phase.value})")


class _Stopped(Exception):
    """SIGTERM (a supervisor, `timeout`) or SIGHUP (the terminal closed) reached `ideaforge run`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop_on_signal(signum: int, _frame: Any) -> None:
    raise _Stopped(signum)


@clean_errors
@brief_options
def run(
    opts: BriefOptions,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=32, help="Local workers to start.")
    ] = 2,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Submit, work and watch in one command: starts its own workers on a queue of its own, prints the
    shortlist. Ctrl-C cancels the run (the turn in flight finishes, the shortlist prints, exit 130);
    a second Ctrl-C stops at once."""
    from ideaforge.runner import WorkerPool
    from workers.api import Ideaforge

    settings = get_settings()
    if opts.rounds is None and opts.file is None and not settings.endpoint_configured:
        # the embedded model is slow: one round unless asked
        opts = replace(opts, rounds=settings.local_default_rounds)
    brief = opts.build()
    forge()  # checks Redis (one clear line if it cannot be reached) before starting anything
    # A queue of its own, so that only the workers started here (with this endpoint) serve the run.
    queue = f"ideaforge-run-{secrets.token_hex(6)}"
    f = Ideaforge(settings)
    # SIGTERM (a supervisor, `timeout`) and SIGHUP (the terminal closed: the workers, in their own
    # session, would not hear it) stop at once like a second Ctrl-C, so nothing is left running
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    stop_model = ensure_model(settings)
    pool = WorkerPool(workers, queue)
    started = time.time()
    run_id: str | None = None
    try:
        pool.start()
        run_id = f.submit(brief, queue=queue)
        if fmt is OutputFormat.table:
            out.print(
                f"run [bold]{run_id}[/]: {render.escape(brief.topic)}  ({workers} workers, queue {queue})"
            )
        interrupted = _follow_until_stopped(f, run_id, pool, fmt, started)
    except (KeyboardInterrupt, _Stopped) as exc:
        # before the run was submitted, a second Ctrl-C while it was being cancelled, SIGTERM or
        # SIGHUP: stop at once; the run's workers are gone, so its cancel is written here
        why = exc.args[0] if isinstance(exc, _Stopped) else "a second Ctrl-C"
        pool.kill()
        left = "no run was submitted" if run_id is None else _stopped_at_once(f, run_id, why)
        err.print(f"stopped at once ({why}): {left}", highlight=False, markup=False)
        code = 128 + exc.signum if isinstance(exc, _Stopped) else ExitCode.INTERRUPTED
        raise typer.Exit(code) from None
    finally:
        pool.stop()
        stop_model()
    sl = f.get_shortlist(run_id)
    if sl is None:
        raise IdeaforgeError(f"run {run_id} stopped without a shortlist")
    _finish(f.get_run(run_id), sl, fmt, show_shortlist=True, interrupted=interrupted)
    if fmt is OutputFormat.table:
        out.print(
            f"[dim]{time.time() - started:.0f}s · ideaforge shortlist {run_id} --format md --out FILE[/]"
        )


def _follow_until_stopped(
    f: Ideaforge, run_id: str, pool: WorkerPool, fmt: OutputFormat, started: float
) -> bool:
    """Print the run's events until it stops; True when a Ctrl-C (KeyboardInterrupt) cancelled it.
    A second Ctrl-C while the cancel completes propagates (the caller stops at once); IdeaforgeError
    when every worker has exited with the run unfinished."""
    printed = 0

    def on_idle() -> None:
        if pool.alive() == 0:
            raise IdeaforgeError(
                f"all workers exited; run {run_id} is unfinished on queue {pool.queue} "
                f"(serve it: ideaforge worker --queue {pool.queue})"
            )

    def follow(status: Any | None) -> None:
        nonlocal printed
        events = f.iter_events(run_id, follow=True, block_ms=500, on_idle=on_idle)
        for event in itertools.islice(events, printed, None):  # a second follow skips what is shown
            printed += 1
            _print_event(event, fmt)
            if status is not None:
                status.update(f"round {event.round}, {event.phase} · {time.time() - started:.0f}s")

    try:
        with out.status("working…", spinner="dots") as status:
            follow(status)
        return False
    except KeyboardInterrupt:
        err.print(
            f"interrupted: cancelling run {run_id} "
            "(the turn in flight finishes; Ctrl-C again stops at once)…",
            highlight=False,
            markup=False,
        )
    with contextlib.suppress(RunAlreadyFinished):  # it stopped meanwhile
        f.cancel(run_id)
    follow(None)
    return True


def _stopped_at_once(f: Ideaforge, run_id: str, why: str) -> str:
    """Cancel the run now (its workers were stopped, so no turn would ever finish the cancel) and
    say what that left: the run's status and the abandoned turn."""
    before = f.get_run(run_id)
    if before.terminal:
        return f"run {run_id} had already stopped ({before.status.value})"
    after = f.cancel_now(run_id, f"cancelled by {why} on ideaforge run (turn {before.step} abandoned)")
    return (
        f"run {run_id} {after.status.value} at step {before.step} (round {before.round}, "
        f"{before.phase.value}); its turn in flight was abandoned; shortlist: ideaforge shortlist {run_id}"
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
