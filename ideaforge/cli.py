"""The `ideaforge` command line."""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import redis
import typer
from rich.console import Console
from rich.table import Table

from agents.brief import Brief
from agents.errors import IdeaforgeError, InvalidPayload, ModelConfigError
from agents.state import TranscriptEvent
from config.logging import configure_logging
from config.settings import get_settings
from ideaforge import render
from ideaforge.briefs import build_brief
from workers.api import Ideaforge
from workers.connection import redact_url

app = typer.Typer(
    name="ideaforge",
    help="Brainstorm new ideas that hold up: Generator, Skeptic and Judge agents over a Redis queue.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class ShortlistFormat(StrEnum):
    table = "table"
    json = "json"
    md = "md"


def clean_errors(func: F) -> F:
    """Known failures print one clear line and exit 2; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IdeaforgeError as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            url = redact_url(get_settings().redis_url)
            err.print(
                f"[bold red]error:[/] cannot reach Redis at {url}: {exc}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(2) from None
        except redis.AuthenticationError as exc:
            url = redact_url(get_settings().redis_url)
            err.print(
                f"[bold red]error:[/] Redis at {url} refused the credentials: {exc}",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def forge() -> Ideaforge:
    f = Ideaforge(get_settings())
    f.ping()
    return f


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# Options shared by `submit` and `run`.
Topic = Annotated[str | None, typer.Argument(help="What to brainstorm about.", show_default=False)]
StrategyOpt = Annotated[str | None, typer.Option("--strategy", "-s", help="mix | question | restrict")]
RoundsOpt = Annotated[int | None, typer.Option("--rounds", "-r", help="Rounds (1-20).")]
IdeasOpt = Annotated[int | None, typer.Option("--ideas", "-n", help="New ideas per round (1-20).")]
DenyOpt = Annotated[list[str] | None, typer.Option("--deny", help="A known answer to avoid (repeatable).")]
ConceptsOpt = Annotated[list[str] | None, typer.Option("--concepts", help="A concept to mix (repeatable).")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model for all roles (hosted endpoints).")]
FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="Brief as YAML or JSON.")]
NamespaceOpt = Annotated[str | None, typer.Option("--namespace", help="Idea-ledger namespace.")]


def _brief(
    topic: str | None,
    file: Path | None,
    strategy: str | None,
    rounds: int | None,
    ideas: int | None,
    deny: list[str] | None,
    concepts: list[str] | None,
    model: str | None,
    namespace: str | None,
) -> Brief:
    return build_brief(
        topic,
        file=file,
        strategy=strategy,
        rounds=rounds,
        ideas=ideas,
        deny=deny,
        concepts=concepts,
        model=model,
        namespace=namespace,
    )


@app.command()
@clean_errors
def submit(
    topic: Topic = None,
    strategy: StrategyOpt = None,
    rounds: RoundsOpt = None,
    ideas: IdeasOpt = None,
    deny: DenyOpt = None,
    concepts: ConceptsOpt = None,
    model: ModelOpt = None,
    file: FileOpt = None,
    namespace: NamespaceOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run id.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Queue a brainstorm; prints the new run id. Workers pick it up."""
    brief = _brief(topic, file, strategy, rounds, ideas, deny, concepts, model, namespace)
    run_id = forge().submit(brief)
    if quiet:
        sys.stdout.write(run_id + "\n")
    elif fmt is OutputFormat.json:
        print_json({"id": run_id, "brief": brief.model_dump(mode="json")})
    else:
        out.print(f"submitted run [bold]{run_id}[/]  (watch it: ideaforge watch {run_id})")


@app.command()
@clean_errors
def runs(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    schedule: Annotated[str | None, typer.Option(help="Only runs started by this schedule.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """List runs, newest first."""
    states = forge().list_runs(status=status, schedule=schedule, limit=limit)
    if fmt is OutputFormat.json:
        print_json([render.run_summary(s) for s in states])
    else:
        out.print(render.runs_table(states))


@app.command()
@clean_errors
def show(run_id: str, fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table) -> None:
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


@app.command()
@clean_errors
def watch(run_id: str, fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table) -> None:
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


@app.command()
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
    if fmt is ShortlistFormat.table:
        text = render.shortlist_markdown(sl)
    if out_file:
        try:
            out_file.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise IdeaforgeError(f"cannot write {out_file}: {exc.strerror or exc}") from None
        err.print(f"wrote {out_file}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
@clean_errors
def cancel(run_id: str) -> None:
    """Stop a run gracefully: the turn in flight finishes, and a shortlist is still written."""
    state = forge().cancel(run_id)
    out.print(f"cancel requested for run [bold]{run_id}[/] (now at round {state.round}, {state.phase.value})")


@app.command()
@clean_errors
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
    simple: Annotated[bool, typer.Option(help="Run jobs in this process (no fork).")] = False,
    quiet: Annotated[bool, typer.Option(help="Log warnings only.")] = False,
) -> None:
    """Start an RQ worker on the turn queue (same as `rq worker` with the JSON serializer)."""
    from workers.worker import run_worker

    settings = get_settings()
    if quiet:
        settings = settings.model_copy(update={"log_level": "WARNING"})
    forge()
    _ensure_model(settings, quiet=True)
    run_worker(settings, burst=burst, simple=simple)


def _ensure_model(settings: Any, *, quiet: bool = False) -> Callable[[], None]:
    """Start the embedded local model if no endpoint is configured; return how to stop what we started."""
    if settings.endpoint_configured:
        return lambda: None
    try:
        from ideaforge.local_model import ensure_local_server, stop_local_server
    except ImportError:
        raise ModelConfigError(
            "no model endpoint is configured: set OPENAI_BASE_URL (any OpenAI-compatible server) "
            "and/or OPENAI_API_KEY, or install the embedded local model"
        ) from None
    if not quiet:
        err.print("[dim]starting the embedded local model (first start assembles the model file)…[/]")
    endpoint = ensure_local_server(settings)
    if endpoint.started_by_us:
        return lambda: stop_local_server(settings, pid=endpoint.pid)
    return lambda: None


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


@app.command()
@clean_errors
def run(
    topic: Topic = None,
    strategy: StrategyOpt = None,
    rounds: RoundsOpt = None,
    ideas: IdeasOpt = None,
    deny: DenyOpt = None,
    concepts: ConceptsOpt = None,
    model: ModelOpt = None,
    file: FileOpt = None,
    namespace: NamespaceOpt = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=32, help="Local workers to start.")
    ] = 2,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Submit, work and watch in one command: starts its own workers, prints the shortlist."""
    from ideaforge.runner import WorkerPool

    settings = get_settings()
    if rounds is None and file is None and not settings.endpoint_configured:
        rounds = settings.local_default_rounds  # the embedded model is slow: one round unless asked
    brief = _brief(topic, file, strategy, rounds, ideas, deny, concepts, model, namespace)
    f = forge()
    # SIGTERM (e.g. `timeout`, a supervisor) unwinds like SystemExit, so the cleanup below still runs
    signal.signal(signal.SIGTERM, _exit_on_signal)
    stop_model = _ensure_model(settings)
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


# --- embedded local model -------------------------------------------------------------------------
model_app = typer.Typer(help="The embedded local model (used when no endpoint is configured).")
app.add_typer(model_app, name="model")


@model_app.command("serve")
@clean_errors
def model_serve() -> None:
    """Serve the local model in the foreground (a Procfile / compose service)."""
    from ideaforge.local_model import serve_foreground

    serve_foreground(get_settings())


@model_app.command("status")
@clean_errors
def model_status(
    verify: Annotated[bool, typer.Option(help="Re-hash the model file in full.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Is the local model server running; which model, file, port, memory."""
    from ideaforge.local_model import local_server_status

    status = local_server_status(get_settings(), verify=verify)
    if fmt is OutputFormat.json:
        print_json(status)
        return
    for key, value in status.items():
        sys.stdout.write(f"{key:>15}: {value}\n")


@model_app.command("stop")
@clean_errors
def model_stop() -> None:
    """Stop a local model server that ideaforge started."""
    from ideaforge.local_model import stop_local_server

    stopped = stop_local_server(get_settings())
    out.print("stopped" if stopped else "no local model server of ours was running")


# --- overnight ideation (issue 5): schedules, the scheduler, the morning digest -------------------
import ideaforge.schedule_cli  # noqa: E402, F401, I001  (registers schedule, scheduler, digest on app)
# --- end overnight ideation ---------------------------------------------------------------------


# --- novelty / ledger --------------------------------------------------------------------------------
# `ideaforge ledger list|search|forget|import` and `ideaforge verdict`: the cross-run idea ledger.
# (Registered after `main` is defined; the entry point and `python -m ideaforge` import this module whole.)
ledger_app = typer.Typer(help="The cross-run idea ledger: shortlisted, accepted, rejected, prior-art ideas.")
app.add_typer(ledger_app, name="ledger")
LedgerNamespaceOpt = Annotated[
    str | None, typer.Option("--namespace", help="Ledger namespace (default: setting ledger_namespace).")
]
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class LedgerKind(StrEnum):
    shortlisted = "shortlisted"
    accepted = "accepted"
    rejected = "rejected"
    prior_art = "prior_art"


class VerdictChoice(StrEnum):
    accept = "accept"
    accepted = "accepted"
    reject = "reject"
    rejected = "rejected"


def _namespace(namespace: str | None) -> str:
    ns = namespace if namespace is not None else get_settings().ledger_namespace
    if not _NAMESPACE.match(ns):
        raise InvalidPayload(f"namespace {ns!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return ns


def _ledger(f: Ideaforge) -> Any:
    from workers.novelty import ledger_for

    return ledger_for(f.settings, f.client)


def _entry_json(entry: Any, similarity: float | None = None) -> dict[str, Any]:
    data: dict[str, Any] = entry.model_dump(mode="json")
    if similarity is not None:
        data["similarity"] = round(similarity, 4)
    return data


def _entries_table(entries: list[Any], title: str, sims: list[float] | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for col in ("id", "kind", *(["cosine"] if sims is not None else []), "title", "run/idea", "note", "age"):
        table.add_column(col)
    for n, e in enumerate(entries):
        origin = f"{e.run_id}/{e.idea_id}" if e.run_id else ""
        cells = [e.id, e.kind, *([f"{sims[n]:.3f}"] if sims is not None else [])]
        cells += [render.escape(e.title[:80]), origin, render.escape(e.note[:60]), render.age(e.ts)]
        table.add_row(*cells)
    return table


@ledger_app.command("list")
@clean_errors
def ledger_list(
    namespace: LedgerNamespaceOpt = None,
    kind: Annotated[LedgerKind | None, typer.Option("--kind", help="Only entries of this kind.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N entries.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """List a namespace's ledger entries, oldest first."""
    ns = _namespace(namespace)
    entries = _ledger(forge()).entries(ns, kind=kind.value if kind else None, limit=limit)
    if fmt is OutputFormat.json:
        print_json([_entry_json(e) for e in entries])
    else:
        out.print(_entries_table(entries, f"ledger {ns}: {len(entries)} entries"))


@ledger_app.command("search")
@clean_errors
def ledger_search(
    text: Annotated[str, typer.Argument(help="An idea (title and summary) to look up.")],
    namespace: LedgerNamespaceOpt = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many neighbours.")] = 5,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The ledger entries nearest to TEXT, by cosine similarity of their embeddings."""
    if not text.strip():
        raise InvalidPayload("search text is empty")
    ns = _namespace(namespace)
    hits = _ledger(forge()).search(ns, text.strip(), k=k)
    if fmt is OutputFormat.json:
        print_json([_entry_json(e, s) for e, s in hits])
    else:
        title = f"ledger {ns}: nearest to the text"
        out.print(_entries_table([e for e, _ in hits], title, [s for _, s in hits]))


@ledger_app.command("forget")
@clean_errors
def ledger_forget(
    entry_id: Annotated[str, typer.Argument(help="Entry id.")], namespace: LedgerNamespaceOpt = None
) -> None:
    """Remove one entry from the ledger for good."""
    ns = _namespace(namespace)
    if not _ledger(forge()).forget(ns, entry_id):
        raise IdeaforgeError(f"no ledger entry {entry_id!r} in namespace {ns!r}")
    out.print(f"forgot {entry_id} from ledger {ns}")


@ledger_app.command("import")
@clean_errors
def ledger_import(
    file: Annotated[Path, typer.Argument(help="Markdown, text or JSONL of known ideas, one per entry.")],
    namespace: LedgerNamespaceOpt = None,
) -> None:
    """Import a prior-art corpus (kind prior_art): known ideas new ones are checked against."""
    from agents.novelty.prior_art import parse_prior_art

    ns = _namespace(namespace)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InvalidPayload(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidPayload(f"{file} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        items = parse_prior_art(text, file.name)
    except ValueError as exc:
        raise InvalidPayload(f"{file}: {exc}") from None
    if not items:
        raise InvalidPayload(f"{file} holds no entries (an empty file, or only comments)")
    added = _ledger(forge()).import_text(ns, text, file.name)
    out.print(f"imported {added} new prior-art entries into ledger {ns} ({len(items) - added} already known)")


@app.command("verdict")
@clean_errors
def verdict_cmd(
    run_id: str,
    idea_id: str,
    decision: Annotated[VerdictChoice, typer.Argument(help="accept(ed) | reject(ed)")],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the ledger).")] = "",
) -> None:
    """Record a person's verdict on an idea: on the run and in the ledger (rejected ideas then block
    similar ideas in later runs)."""
    from workers.verdicts import record_verdict

    f = forge()
    state, entry = record_verdict(f.store, _ledger(f), run_id, idea_id, decision.value, note)
    out.print(f"{idea_id} of run {run_id}: {entry.kind} (ledger {state.brief.namespace}, entry {entry.id})")


# --- web: HTTP API and dashboard (issue 6) -------------------------------------------------------
@app.command()
def web(
    host: Annotated[str, typer.Option(help="Interface (off loopback a token is required).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API and the live dashboard (FastAPI + uvicorn)."""
    from ideaforge.web.server import serve

    raise typer.Exit(serve(host, port))


def main() -> None:
    configure_logging(get_settings().log_level, get_settings().log_format)
    app()


if __name__ == "__main__":
    main()
