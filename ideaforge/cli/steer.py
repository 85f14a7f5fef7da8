"""`ideaforge steer RUN`: a person's note or idea for a running brainstorm's next Generator turn."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from agents.errors import InvalidSteer
from agents.state import AUTHOR_NAME, Steer
from ideaforge.cli.helpers import FormatOpt, OutputFormat, clean_errors, forge, out, print_json


def parse_idea(text: str) -> tuple[str, str]:
    """`--idea "TITLE: SUMMARY"` as (title, summary), split at the first colon; InvalidSteer when
    there is none (the title then holds no colon)."""
    title, colon, summary = text.partition(":")
    if not colon or not title.strip() or not summary.strip():
        raise InvalidSteer(
            f"--idea is 'TITLE: SUMMARY' (a title, a colon, then the summary); got {text[:80]!r}"
        )
    return title.strip(), summary.strip()


def default_author() -> str | None:
    """The login name when it is a valid author name (else None: "anonymous")."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        return None
    return name if AUTHOR_NAME.fullmatch(name) else None


def _line(steer: Steer) -> str:
    said = steer.text if steer.kind == "note" else f"{steer.title}: {steer.summary}"
    return f"{steer.id} {steer.kind} by {steer.author}: {said[:100]}"


@clean_errors
def steer(
    run_id: str,
    note: Annotated[
        str | None, typer.Option("--note", help="A steering note for the Generator (shown once, as data).")
    ] = None,
    idea: Annotated[
        str | None,
        typer.Option("--idea", help="Your idea as 'TITLE: SUMMARY'; critiqued and judged like the others."),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option("--author", help='Who says it (default: your login name; "" is anonymous).'),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Steer a running brainstorm: its next Generator turn sees your note, and your idea joins the
    pool (the transcript shows who said it). Exit 2 for bad input, an unknown or stopped run."""
    pair = parse_idea(idea) if idea is not None else None
    who = default_author() if author is None else author  # "" is anonymous, as over HTTP
    steers = forge().steer(run_id, note=note, idea=pair, author=who)
    if fmt is OutputFormat.json:
        print_json([s.model_dump(mode="json") for s in steers])
        return
    for s in steers:
        out.print(_line(s), highlight=False, markup=False)
    out.print(f"run {run_id}: used at its next Generator turn (ideaforge watch {run_id})", highlight=False)
