"""The `ideaforge` command line: the group and its entry point `main` (`ideaforge = "ideaforge.cli:main"`).

Commands live by topic, as in rq's `rq/cli/`: `runs.py` (submit, runs, show, watch, shortlist, cancel,
run, verdict), `worker.py`, `model.py`, `schedules.py` (schedule, scheduler, digest), `ledger.py`,
`web.py`, `steer.py`; what they share (consoles, output formats, `clean_errors`, the brief options) is in
`helpers.py`. Only this module registers commands, so no command module imports another's group.

Importing the package stays light (typer, rich, redis, pydantic): a command imports the facade and
what else it needs (a model client, numpy, uvicorn) when it runs, so `--help` and `runs` start fast.
"""

from __future__ import annotations

import sys

import typer

from config.settings import get_settings
from ideaforge.cli import eval, ledger, model, resume, runs, schedules, steer, web, worker
from ideaforge.cli.helpers import clean_errors

app = typer.Typer(
    name="ideaforge",
    help="Brainstorm new ideas that hold up: Generator, Skeptic and Judge agents over a Redis queue.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for command in (
    runs.submit,
    runs.runs,
    runs.show,
    runs.watch,
    runs.shortlist,
    runs.cancel,
    worker.worker,
    runs.run,
    schedules.scheduler,
    schedules.digest,
    runs.verdict,
    steer.steer,
    resume.resume,
    web.web,
    eval.eval,
):
    app.command()(command)
app.add_typer(model.model_app, name="model")
app.add_typer(schedules.schedule_app, name="schedule")
app.add_typer(ledger.ledger_app, name="ledger")


@app.callback()
@clean_errors  # a bad setting is one line and exit 2 here too (settings load before every command)
def _configure_logging(ctx: typer.Context) -> None:
    # Runs before a command, never for `--help` (structlog's console renderer takes ~60 ms to import);
    # only under `main`, as before (tests invoking `app` in-process keep their own logging).
    if ctx.obj == _CONSOLE_SCRIPT:
        from config.logging import configure_logging

        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format)


_CONSOLE_SCRIPT = "console-script"


def main() -> None:
    """The console script (`ideaforge`, `python -m ideaforge`): logging from the settings, then the
    command line. An argument the terminal's encoding could not decode (Python keeps each such byte
    as a lone surrogate) is bad input for every command: one line, exit 2."""
    for n, arg in enumerate(sys.argv[1:], start=1):
        if any("\ud800" <= ch <= "\udfff" for ch in arg):
            sys.stderr.write(
                f"error: argument {n} ({ascii(arg)[:80]}) is not valid Unicode: it holds bytes the "
                "terminal's encoding could not decode; use a UTF-8 terminal (e.g. LANG=C.UTF-8)\n"
            )
            raise SystemExit(2)
    app(obj=_CONSOLE_SCRIPT)
