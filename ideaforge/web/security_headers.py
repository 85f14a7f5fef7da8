"""Security headers on every response, pages and API alike (pure ASGI, so SSE streams unbuffered).

CSP: everything from this origin only, no inline script, no eval, no plugins, no framing:
- `script-src 'self'`: the dashboard's /static/*.js, Swagger UI's bundle and /static/docs.js;
- `style-src 'self'`: app.css and swagger-ui.css (styles set from script, as React does, are allowed);
- `img-src 'self' data:`: Swagger UI draws its icons as data: SVGs;
- `connect-src 'self'`: fetch and EventSource back to this API.
Checked in real Chromium by tests/web/test_browser.py (no CSP violation, the pages work).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SecurityHeadersMiddleware:
    """Add HEADERS to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
