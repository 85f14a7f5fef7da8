"""`ideaforge worker`: an RQ worker on the turn queue."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import get_settings
from ideaforge.cli.helpers import clean_errors
from ideaforge.cli.model import ensure_model


@clean_errors
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
    simple: Annotated[bool, typer.Option(help="Run jobs in this process (no fork).")] = False,
    quiet: Annotated[bool, typer.Option(help="Log warnings only.")] = False,
) -> None:
    """Start an RQ worker on the turn queue (same as `rq worker` with the JSON serializer)."""
    from workers.api import Ideaforge

    settings = get_settings()
    if quiet:
        settings = settings.model_copy(update={"log_level": "WARNING"})
    f = Ideaforge(settings)
    f.ping()
    ensure_model(settings, quiet=True)
    f.run_worker(burst=burst, simple=simple)
