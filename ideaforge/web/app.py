"""`create_app(settings)`: the HTTP API and the dashboard in one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from config.settings import Settings, get_settings
from ideaforge.web import routes_api, routes_pages
from ideaforge.web.auth import AuthMiddleware, check_bind
from ideaforge.web.deps import Deps
from ideaforge.web.docs import install_docs
from ideaforge.web.errors import install_error_handlers
from ideaforge.web.limits import BodyLimitMiddleware
from ideaforge.web.security_headers import SecurityHeadersMiddleware

HERE = Path(__file__).resolve().parent


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None, *, host: str = "127.0.0.1") -> FastAPI:
    """The app. `host` is where it will be served; off loopback, a token is required (see auth.py)."""
    settings = settings or get_settings()
    check_bind(host, settings.api_token)  # raises UnsafeBind
    deps = Deps.build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await deps.forge.aclose()

    app = FastAPI(
        title="ideaforge",
        version="0.1.0",
        description="Watch and steer brainstorms: runs, live transcripts, shortlists, verdicts, queues.",
        lifespan=lifespan,
        docs_url=None,  # served by docs.py from a pinned package, not a CDN
        redoc_url=None,
    )
    app.state.deps = deps
    install_error_handlers(app, deps.forge.redis_location())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    app.include_router(routes_api.router)
    app.include_router(routes_pages.router)
    install_docs(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(AuthMiddleware, token=settings.api_token)
    app.add_middleware(BodyLimitMiddleware)  # limits hold before auth and every route
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every response
    return app
