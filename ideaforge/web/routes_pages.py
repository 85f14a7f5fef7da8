"""The dashboard: server-rendered pages (Jinja2, autoescaped) plus a little vanilla JS for live parts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from ideaforge.render import age, run_detail, run_summary
from ideaforge.web import views
from ideaforge.web.auth import COOKIE, token_matches
from ideaforge.web.routes_api import RunId, deps
from ideaforge.web.tokens import usable_token

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_env.filters["age"] = lambda ts: age(ts) if ts else "—"
_env.filters["clock"] = lambda ts: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "—"
templates = Jinja2Templates(env=_env)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request) -> Response:
    d = deps(request)
    states = d.forge.list_runs(limit=100)
    return page(request, "runs.html", {"runs": [run_summary(s) for s in states]})


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: RunId) -> Response:
    d = deps(request)
    state = d.forge.get_run(run_id)
    detail = run_detail(state)
    shortlist = views.shortlist_json(*d.forge.current_shortlist(state))
    s = d.settings
    limits = {  # the steer form's maxlength: the limits the server enforces (workers/steering.py)
        "note": s.steer_note_max_chars, "title": s.steer_title_max_chars, "summary": s.steer_summary_max_chars
    }
    return page(request, "run.html", {"run": detail, "shortlist": shortlist, "steer_limits": limits})


@router.get("/ui/queues", response_class=HTMLResponse)
def queues_page(request: Request) -> Response:
    d = deps(request)
    return page(request, "queues.html", {"report": d.forge.queue_report()})


def _safe_next(value: str | None) -> str:
    """Only same-site paths (no `//host` or scheme): no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return page(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
async def login(request: Request) -> Response:
    form = parse_qs((await request.body())[:8192].decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    target = _safe_next((form.get("next") or ["/"])[0])
    expected = usable_token(deps(request).settings.api_token)
    if expected is None:
        return RedirectResponse(target, status_code=303)
    if not token_matches(token, expected):
        return page(request, "login.html", {"next": target, "error": "wrong token"}, status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
