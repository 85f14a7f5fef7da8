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
from typing import Any

import typer
from typer._click import exceptions as click_errors  # typer 0.29 vendors click here
from typer.core import TyperGroup

from config.settings import get_settings
from ideaforge.cli import eval, ledger, model, resume, runs, schedules, steer, web, worker
from ideaforge.cli.helpers import clean_errors


class OneLineErrors(TyperGroup):
    """The `ideaforge` group: a usage error from click/typer (a wrong option type, a value out of
    range, an unknown choice or command, a missing argument) is one line on stderr and exit 2
    (ExitCode.BAD_INPUT), like every other bad input, instead of click's multi-line box; `--help`
    and a bare `ideaforge` keep their formatted help. Applies to every command and sub-group, in
    the console script and in-process (typer's CliRunner) alike."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()  # a group or command called bare: its help, as before
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            sys.stderr.write(f"error: {usage_error_line(exc)}\n")
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def usage_error_line(exc: click_errors.ClickException) -> str:
    """`exc`'s message on one line, with where to find the command's help for a usage error."""
    message = " ".join(exc.format_message().split()).replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click_errors.UsageError) and ctx is not None:
        message += f" (see: {ctx.command_path} --help)"
    return message


app = typer.Typer(
    cls=OneLineErrors,
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
