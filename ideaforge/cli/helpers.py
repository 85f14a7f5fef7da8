"""What every command module shares: the consoles, output formats, `clean_errors`, the facade, and the
nine brief options of `submit` and `run` (defined once, in `brief_options`).

Light on purpose: importing this module loads typer, rich and redis, never a model client or numpy.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import IntEnum, StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import redis
import typer
from rich.console import Console

from agents.brief import Mechanisms
from agents.errors import IdeaforgeError
from config.settings import get_settings

if TYPE_CHECKING:
    from agents.brief import Brief
    from agents.state import RunState
    from workers.api import Ideaforge

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


FormatOpt = Annotated[OutputFormat, typer.Option("--format")]


class ExitCode(IntEnum):
    """What the `ideaforge` commands exit with; the README's table "Run outcomes and exit codes"
    says which command returns which, and `run_exit_code` maps a run to its code."""

    OK = 0  # the command did its work; for a run: it finished (its shortlist may be empty: said why)
    BAD_INPUT = 2  # bad input or configuration, unknown run, Redis unreachable: one line, no traceback
    RUN_FAILED = 3  # the run ended `failed` (stop reason `error`); the reason is printed
    RUN_CANCELLED = 4  # the run was cancelled (by a person, `ideaforge cancel`, the API or the dashboard)
    INTERRUPTED = 130  # `ideaforge run` stopped by Ctrl-C (128 + SIGINT): the run was cancelled


def run_exit_code(state: RunState, *, interrupted: bool = False) -> ExitCode:
    """The exit code of `run`, `watch` and `shortlist` for a stopped run: RUN_FAILED for `failed`,
    RUN_CANCELLED for `cancelled`, OK for `finished` (whatever its stop reason), INTERRUPTED
    whatever the status when this command's Ctrl-C cancelled the run. ValueError for a run that has
    not stopped (the commands wait for the stop or refuse first)."""
    from agents.state import RunStatus

    if interrupted:
        return ExitCode.INTERRUPTED
    codes = {
        RunStatus.FINISHED: ExitCode.OK,
        RunStatus.FAILED: ExitCode.RUN_FAILED,
        RunStatus.CANCELLED: ExitCode.RUN_CANCELLED,
    }
    if state.status not in codes:
        raise ValueError(f"run {state.run_id} has not stopped ({state.status.value})")
    return codes[state.status]


def _redis_location() -> str:
    from workers.api import Ideaforge

    return Ideaforge(get_settings()).redis_location()


def clean_errors(func: F) -> F:
    """Known failures print one clear line and exit 2 (ExitCode.BAD_INPUT); never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IdeaforgeError as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(ExitCode.BAD_INPUT) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            err.print(
                f"[bold red]error:[/] cannot reach Redis at {_redis_location()}: {exc}",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(ExitCode.BAD_INPUT) from None
        except redis.AuthenticationError as exc:
            err.print(
                f"[bold red]error:[/] Redis at {_redis_location()} refused the credentials: {exc}",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(ExitCode.BAD_INPUT) from None

    return wrapper  # type: ignore[return-value]


def forge() -> Ideaforge:
    """The facade on the configured Redis, checked reachable (raises StoreUnavailable)."""
    from workers.api import Ideaforge

    f = Ideaforge(get_settings())
    f.ping()
    return f


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout (values JSON cannot hold are written with str())."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def write_out_file(path: Path, text: str) -> None:
    """Write `text` plus a newline to `path` as UTF-8; IdeaforgeError (one clear line) if that fails."""
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise IdeaforgeError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- the brief options shared by `submit` and `run` ---------------------------------------------
Topic = Annotated[str | None, typer.Argument(help="What to brainstorm about.", show_default=False)]
StrategyOpt = Annotated[str | None, typer.Option("--strategy", "-s", help="mix | question | restrict")]
RoundsOpt = Annotated[int | None, typer.Option("--rounds", "-r", help="Rounds (1-20).")]
IdeasOpt = Annotated[int | None, typer.Option("--ideas", "-n", help="New ideas per round (1-20).")]
DenyOpt = Annotated[list[str] | None, typer.Option("--deny", help="A known answer to avoid (repeatable).")]
ConceptsOpt = Annotated[list[str] | None, typer.Option("--concepts", help="A concept to mix (repeatable).")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model for all roles (hosted endpoints).")]
FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="Brief as YAML or JSON.")]
NamespaceOpt = Annotated[str | None, typer.Option("--namespace", help="Idea-ledger namespace.")]
WithoutOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--without",
        help="Switch a quality mechanism off (repeatable): " + ", ".join(Mechanisms.model_fields) + ".",
    ),
]


@dataclass(frozen=True)
class BriefOptions:
    """The ten brief options as given on the command line (None: not given). Field order is the
    order of the options in `--help`; each field's annotation is its typer option."""

    topic: Topic = None
    strategy: StrategyOpt = None
    rounds: RoundsOpt = None
    ideas: IdeasOpt = None
    deny: DenyOpt = None
    concepts: ConceptsOpt = None
    model: ModelOpt = None
    file: FileOpt = None
    namespace: NamespaceOpt = None
    without: WithoutOpt = None

    def build(self) -> Brief:
        """The Brief: the file's fields (if any), overridden by the options given.
        Raises InvalidBrief (a missing topic, a bad file, a field out of range)."""
        from ideaforge.briefs import build_brief

        return build_brief(
            self.topic,
            file=self.file,
            strategy=self.strategy,
            rounds=self.rounds,
            ideas=self.ideas,
            deny=self.deny,
            concepts=self.concepts,
            model=self.model,
            namespace=self.namespace,
            without=self.without,
        )


_BRIEF_HINTS = inspect.get_annotations(BriefOptions, eval_str=True)
_BRIEF_PARAMETERS = [
    inspect.Parameter(
        f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=_BRIEF_HINTS[f.name]
    )
    for f in fields(BriefOptions)
]


def brief_options(func: F) -> F:
    """Give a command the ten brief options (first, in `BriefOptions` order); the command receives
    them as one keyword argument `opts: BriefOptions` instead of ten parameters."""
    own = inspect.signature(func, eval_str=True)
    rest = [p for name, p in own.parameters.items() if name != "opts"]

    @wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        opts = BriefOptions(**{f.name: kwargs.pop(f.name) for f in fields(BriefOptions)})
        return func(opts=opts, **kwargs)

    params = [*_BRIEF_PARAMETERS, *rest]
    wrapper.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]
