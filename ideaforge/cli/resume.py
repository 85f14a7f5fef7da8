"""`ideaforge resume RUN`: put a stranded run's next turn back on its queue."""

from __future__ import annotations

from typing import Annotated

import typer

from ideaforge.cli import helpers
from ideaforge.cli.helpers import clean_errors


@clean_errors
def resume(run_id: Annotated[str, typer.Argument(help="The run whose next turn to enqueue again.")]) -> None:
    """Enqueue a run's next turn again if it is on no queue (deleted from the queue, lost in a Redis
    failover); the workers' reconcile sweep does the same within seconds. Exit 2 for an unknown or
    stopped run."""
    found = helpers.forge().resume(run_id)
    if found.where is None:
        typer.echo(f"run {run_id}: turn {found.step} enqueued again on queue {found.queue}")
    else:
        typer.echo(f"run {run_id}: turn {found.step} is {found.where} on queue {found.queue} already")
