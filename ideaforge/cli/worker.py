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
    queue: Annotated[
        str | None,
        typer.Option(help="Serve this turn queue (the runs submitted to it); default: IDEAFORGE_QUEUE_NAME."),
    ] = None,
) -> None:
    """Start an RQ worker on a turn queue (same as `rq worker` with the JSON serializer); it always
    runs its own scheduler, so turns retried after a pause run again."""
    from workers.api import Ideaforge

    settings = get_settings()
    if quiet:
        settings = settings.model_copy(update={"log_level": "WARNING"})
    f = Ideaforge(settings)
    f.ping()
    ensure_model(settings, quiet=True)
    f.run_worker(burst=burst, simple=simple, queue=queue)
