"""The bearer-token rule, the loopback rule and a same-origin check for state-changing requests.

- A configured token (`IDEAFORGE_API_TOKEN`) is required on every route except `/health` and `/static`.
- Without a token the server may only bind to loopback; `check_bind` refuses anything else.
- Browsers send the token as the `ideaforge_token` cookie, set by `POST /login` (HttpOnly, SameSite=Strict).
- A POST whose `Origin` header names another site is refused (403): no cross-site form posts.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agents.errors import UnsafeBind
from ideaforge.web.tokens import usable_token

COOKIE = "ideaforge_token"
OPEN_PATHS = ("/health", "/static/", "/login", "/favicon.ico")


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: SecretStr | None) -> None:
    """Raise UnsafeBind when binding `host` without a token would expose the API, or when the
    configured token is too weak (see tokens.py)."""
    if usable_token(token) is not None or is_loopback(host):
        return
    raise UnsafeBind(
        f"refusing to serve on {host}: that is not a loopback address and no API token is set. "
        "Set IDEAFORGE_API_TOKEN (every client then sends 'Authorization: Bearer <token>'), "
        "or bind to 127.0.0.1."
    )


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison."""
    if not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


def cross_site(request: Request) -> bool:
    """True when a browser says this request comes from a page on another origin."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    parts = urlsplit(origin)
    return parts.netloc.lower() != (request.headers.get("host") or "").lower()


def host_name(request: Request) -> str:
    """The host name the client asked for (the Host header without its port), lower-case."""
    host = (request.headers.get("host") or "").strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


class AuthMiddleware:
    """Pure ASGI (so Server-Sent Events stream unbuffered)."""

    def __init__(self, app: ASGIApp, token: SecretStr | None) -> None:
        self.app = app
        self.token = usable_token(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self.refusal(request)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        path = request.url.path
        if self.token is None and not is_loopback(host_name(request)):
            # without a token the API is served on loopback only; a page on another name that
            # resolves to 127.0.0.1 (DNS rebinding) would otherwise be same-origin to it
            return JSONResponse(
                {"detail": "without an API token this server answers only to a loopback host name "
                 "(127.0.0.1, localhost, ::1); set IDEAFORGE_API_TOKEN to serve other names"},
                status_code=421,
            )
        if request.method not in ("GET", "HEAD", "OPTIONS") and cross_site(request):
            return JSONResponse({"detail": "cross-site request refused"}, status_code=403)
        if self.token is None or path == "/health" or path.startswith(OPEN_PATHS):
            return None
        if token_matches(presented_token(request), self.token):
            return None
        if wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse(
            {"detail": "missing or wrong API token: send 'Authorization: Bearer <token>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
