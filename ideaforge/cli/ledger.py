"""`ideaforge ledger list|search|forget|import`: the cross-run idea ledger."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agents.errors import IdeaforgeError, InvalidPayload
from config.settings import get_settings
from ideaforge import render
from ideaforge.briefs import read_text_file
from ideaforge.cli.helpers import FormatOpt, OutputFormat, clean_errors, forge, out, print_json

ledger_app = typer.Typer(help="The cross-run idea ledger: shortlisted, accepted, rejected, prior-art ideas.")
LedgerNamespaceOpt = Annotated[
    str | None, typer.Option("--namespace", help="Ledger namespace (default: setting ledger_namespace).")
]
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class LedgerKind(StrEnum):
    shortlisted = "shortlisted"
    accepted = "accepted"
    rejected = "rejected"
    prior_art = "prior_art"


def _namespace(namespace: str | None) -> str:
    ns = namespace if namespace is not None else get_settings().ledger_namespace
    if not _NAMESPACE.match(ns):
        raise InvalidPayload(f"namespace {ns!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return ns


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
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List a namespace's ledger entries, oldest first."""
    ns = _namespace(namespace)
    entries = forge().ledger_entries(ns, kind=kind.value if kind else None, limit=limit)
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
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """The ledger entries nearest to TEXT, by cosine similarity of their embeddings."""
    if not text.strip():
        raise InvalidPayload("search text is empty")
    ns = _namespace(namespace)
    hits = forge().ledger_search(ns, text.strip(), k=k)
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
    if not forge().ledger_forget(ns, entry_id):
        raise IdeaforgeError(f"no ledger entry {entry_id!r} in namespace {ns!r}")
    out.print(f"forgot {entry_id} from ledger {ns}")


@ledger_app.command("import")
@clean_errors
def ledger_import(
    file: Annotated[Path, typer.Argument(help="Markdown, text or JSONL of known ideas, one per entry.")],
    namespace: LedgerNamespaceOpt = None,
) -> None:
    """Import a prior-art corpus (kind prior_art): known ideas new ones are checked against."""
    ns = _namespace(namespace)
    text = read_text_file(file, "prior-art file", InvalidPayload)
    added, known = forge().import_prior_art(ns, text, str(file))
    out.print(f"imported {added} new prior-art entries into ledger {ns} ({known} already known)")
