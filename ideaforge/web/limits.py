"""Request body limits, enforced while the body is read (pure ASGI, in front of every route).

The routes that read a body, and their limits (bytes):
- `POST /runs` (a brief as JSON): BRIEF_MAX_BYTES, 256 KiB;
- `POST /runs/{run_id}/ideas/{idea_id}/verdict` (decision and a note of at most 2000 characters):
  VERDICT_MAX_BYTES, 32 KiB;
- `POST /runs/{run_id}/steer` (a note, an idea, an author; their lengths are settings):
  STEER_MAX_BYTES, 64 KiB;
- `POST /login` (the token form): LOGIN_MAX_BYTES, 8 KiB;
- any other request (no other route reads its body): DEFAULT_MAX_BYTES, 16 KiB.

A `Content-Length` above the limit is answered 413 before anything is read; a streamed body
(chunked, or lying about its length) is counted chunk by chunk and answered 413 as soon as it
passes the limit, so a 300 MB upload costs the server at most the limit plus a socket buffer.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BRIEF_MAX_BYTES = 256 * 1024
VERDICT_MAX_BYTES = 32 * 1024
STEER_MAX_BYTES = 64 * 1024
LOGIN_MAX_BYTES = 8 * 1024
DEFAULT_MAX_BYTES = 16 * 1024

_LIMITS: tuple[tuple[str, re.Pattern[str], int, str], ...] = (
    ("POST", re.compile(r"/runs/?"), BRIEF_MAX_BYTES, "a brief"),
    ("POST", re.compile(r"/runs/[^/]+/ideas/[^/]+/verdict/?"), VERDICT_MAX_BYTES, "a verdict"),
    ("POST", re.compile(r"/runs/[^/]+/steer/?"), STEER_MAX_BYTES, "a steer"),
    ("POST", re.compile(r"/login/?"), LOGIN_MAX_BYTES, "the login form"),
)


def body_limit(method: str, path: str) -> tuple[int, str]:
    """(limit in bytes, what the body is) for a request."""
    for want, pattern, limit, what in _LIMITS:
        if method == want and pattern.fullmatch(path):
            return limit, what
    return DEFAULT_MAX_BYTES, "a request body"


class BodyTooLarge(HTTPException):
    """413, raised from `receive` when the streamed body passes its limit."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(413, f"{what} is at most {limit} bytes")


class BodyLimitMiddleware:
    """Answer 413 for a declared or streamed body over the route's limit (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = body_limit(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(BodyTooLarge(what, limit), scope, receive, send)
            return
        seen = 0
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(what, limit)
            return message

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge as exc:  # a layer let it through: answer it here unless a response began
            if started:
                raise
            await _too_large(exc, scope, receive, send)


async def _too_large(exc: BodyTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
    # Connection: close, so the server drops the unread rest of the body instead of draining it
    response = JSONResponse({"detail": exc.detail}, status_code=413, headers={"Connection": "close"})
    await response(scope, receive, send)
