"""`ideaforge web`: check the bind rule, then serve the app with uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from agents.errors import UnsafeBind
from config.settings import get_settings
from ideaforge.web.auth import check_bind


def serve(host: str, port: int) -> int:
    """Run until stopped; returns the exit code (2 when refusing to start)."""
    settings = get_settings()
    try:
        check_bind(host, settings.api_token)
    except UnsafeBind as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    from ideaforge.web.app import create_app

    app = create_app(settings, host=host)
    auth = "token required" if settings.api_token else "no token (loopback only)"
    sys.stderr.write(
        f"ideaforge web on http://{host}:{port} ({auth}; Redis {app.state.deps.forge.redis_location()})\n"
    )
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), timeout_graceful_shutdown=5)
    return 0
