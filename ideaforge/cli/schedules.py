"""Overnight ideation: `schedule list|run`, `scheduler` and the morning `digest`."""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agents.errors import IdeaforgeError
from config.settings import get_settings
from ideaforge import render
from ideaforge.cli.helpers import (
    FormatOpt,
    OutputFormat,
    clean_errors,
    err,
    forge,
    out,
    print_json,
    write_out_file,
)

schedule_app = typer.Typer(
    help="Overnight schedules from config/schedules.yaml (IDEAFORGE_SCHEDULES_FILE).",
    no_args_is_help=True,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class DigestFormat(StrEnum):
    md = "md"
    json = "json"


def parse_since(text: str, now: float | None = None) -> float:
    """`24h`, `90m`, `2d`, `1w`, `3600s`, or an ISO date/time (UTC if no offset) → a timestamp."""
    now = now if now is not None else time.time()
    match = _DURATION.match(text)
    if match:
        since = now - float(match.group(1)) * _UNITS[match.group(2)]
        if since < 0:
            raise IdeaforgeError(f"--since {text!r} reaches back before 1970; give a shorter duration")
        return since
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise IdeaforgeError(
            f"--since {text!r} is neither a duration (24h, 90m, 2d, 1w) nor an ISO date/time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _local(iso: str | None) -> str:
    if iso is None:
        return "—"
    when = dt.datetime.fromisoformat(iso)
    wait = max(when.timestamp() - time.time(), 1.0)
    return f"{when:%a %d %b %H:%M} (in {render.age(0.0, now=wait)})"


@schedule_app.command("list")
@clean_errors
def schedule_list(fmt: FormatOpt = OutputFormat.table) -> None:
    """Every schedule: cron, time zone, next fire, tonight's rotation, last run and its status."""
    from workers.api import Ideaforge

    settings = get_settings()
    facade = Ideaforge(settings)
    specs = facade.schedules()  # a bad schedules file is reported before Redis is asked
    facade.ping()
    rows = [facade.schedule_status(spec) for spec in specs.values()]
    schedulers = facade.live_schedulers()
    if fmt is OutputFormat.json:
        file = str(settings.schedules_file)
        print_json({"schedules_file": file, "schedulers": schedulers, "schedules": rows})
        return
    table = Table(title=f"schedules ({settings.schedules_file})", header_style="bold")
    for col in ("name", "cron", "tz", "next fire"):
        table.add_column(col, no_wrap=True)
    table.add_column("tonight")
    table.add_column("last run")
    for row in rows:
        last = row["last_run"]
        table.add_row(
            row["name"] + ("" if row["enabled"] else " (disabled)"),
            row["cron"],
            row["timezone"],
            _local(row["next_fire"]),
            render.escape(row["tonight_text"]),
            f"{last['id']} {last['status']}\n{last['slot']}" if last else "—",
        )
    out.print(table)
    n = len(schedulers)
    if n == 0:
        out.print("[yellow]no scheduler is running[/] (start one: ideaforge scheduler)")
    elif n > 1:
        out.print(f"[red]{n} schedulers running[/]: run exactly one (each slot still fires once)")


@schedule_app.command("run")
@clean_errors
def schedule_run(
    name: str,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run id.")] = False,
) -> None:
    """Fire a schedule now (tonight's brief, slot `manual-…`): for trying a schedule out."""
    fired = forge().fire_schedule(name)
    if quiet:
        sys.stdout.write(fired.run_id + "\n")
    else:
        out.print(f"schedule [bold]{name}[/] fired: run [bold]{fired.run_id}[/] (slot {fired.slot})")


@clean_errors
def scheduler(
    name: Annotated[str, typer.Option(help="Scheduler name (default host:pid:random).")] = "",
) -> None:
    """Start THE scheduler: RQ's cron scheduler firing config/schedules.yaml. Run exactly one."""
    from workers.api import Ideaforge

    Ideaforge(get_settings()).run_scheduler(name=name)


@clean_errors
def digest(
    since: Annotated[str, typer.Option(help="Window: 24h, 90m, 2d, 1w, or an ISO date/time.")] = "24h",
    fmt: Annotated[DigestFormat, typer.Option("--format")] = DigestFormat.md,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """The morning digest: runs finished in the window, shortlists, stop reasons, tokens, what is new."""
    start = parse_since(since)
    f = forge()
    found = f.digest(since=start)
    text = found.model_dump_json(indent=2) if fmt is DigestFormat.json else f.digest_markdown(found)
    if out_file is None:
        sys.stdout.write(text + "\n")
        return
    write_out_file(out_file, text)
    err.print(f"wrote {out_file} ({len(found.runs)} runs)")
