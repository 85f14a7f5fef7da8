"""`ideaforge web`: the HTTP API and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from ideaforge.cli.helpers import clean_errors


@clean_errors
def web(
    host: Annotated[str, typer.Option(help="Interface (off loopback a token is required).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API and the live dashboard (FastAPI + uvicorn)."""
    from ideaforge.web.server import serve

    raise typer.Exit(serve(host, port))
