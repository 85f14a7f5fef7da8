"""Security rules of the HTTP front door: token strength, body limits, content security policy."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

from agents.errors import UnsafeBind
from config.settings import Settings
from ideaforge.web.app import create_app
from ideaforge.web.auth import check_bind
from ideaforge.web.limits import BRIEF_MAX_BYTES, DEFAULT_MAX_BYTES, LOGIN_MAX_BYTES, VERDICT_MAX_BYTES
from ideaforge.web.tokens import MIN_TOKEN_CHARS
from tests.web.conftest import ROOT, LiveServer

STRONG = "k" * MIN_TOKEN_CHARS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "weak", [" ", "x", "   \t ", "short-token-1234", "k" * (MIN_TOKEN_CHARS - 1), f"  {'k' * 31}  "]
)
@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_a_weak_token_is_refused_by_create_app_and_check_bind(
    settings: Settings, weak: str, host: str
) -> None:
    weak_settings = settings.model_copy(update={"api_token": SecretStr(weak)})
    with pytest.raises(UnsafeBind, match=f"the minimum is {MIN_TOKEN_CHARS}"):
        check_bind(host, weak_settings.api_token)
    with pytest.raises(UnsafeBind, match="IDEAFORGE_API_TOKEN is too weak"):
        create_app(weak_settings, host=host)


def test_a_strong_token_is_stripped_and_required(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"api_token": SecretStr(f"  {STRONG}\n")}), host="0.0.0.0")
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.get("/runs").status_code == 401
        assert c.get("/runs", headers={"Authorization": f"Bearer {STRONG}"}).status_code == 200
        login = c.post("/login", data={"token": STRONG, "next": "/"}, follow_redirects=False)
        assert login.status_code == 303


def test_an_empty_token_still_means_none(settings: Settings) -> None:
    check_bind("127.0.0.1", SecretStr(""))
    with pytest.raises(UnsafeBind, match="no API token is set"):
        check_bind("0.0.0.0", SecretStr(""))


@pytest.mark.parametrize("weak", [" ", "x"])
def test_ideaforge_web_refuses_a_weak_token(env: dict[str, str], weak: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ideaforge", "web", "--host", "0.0.0.0", "--port", str(_free_port())],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "IDEAFORGE_API_TOKEN": weak},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert f"the minimum is {MIN_TOKEN_CHARS}" in result.stderr
    assert "token required" not in result.stderr and "Traceback" not in result.stderr


# --- what a brief may ask for over HTTP (workers/admission.py) ----------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"schedule": "nightly"}, "schedule is set by the scheduler only"),
        ({"schedule_slot": "2025-01-02"}, "schedule_slot is set by the scheduler only"),
        ({"model": "gpt-4.5-preview"}, "is not a model this server lets a brief choose"),
    ],
)
def test_post_runs_refuses_what_only_the_operator_may_set(
    client: httpx.Client, extra: dict[str, str], message: str
) -> None:
    response = client.post("/runs", json={"topic": "Pose", "rounds": 1, **extra})
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert client.get("/runs").json()["runs"] == []


# --- body limits, enforced while reading (ideaforge/web/limits.py) ----------------------------

HUGE = 300 * 1024 * 1024
BODY_ROUTES = [  # every route that reads a body
    ("/runs", BRIEF_MAX_BYTES),
    ("/runs/r1/ideas/i1/verdict", VERDICT_MAX_BYTES),
    ("/login", LOGIN_MAX_BYTES),
]
BODYLESS_ROUTES = [("/runs/r1/cancel", DEFAULT_MAX_BYTES), ("/logout", DEFAULT_MAX_BYTES)]


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def _post_stream(url: str, path: str, total: int, declare: int | None = None) -> tuple[bytes, int, float]:
    """POST up to `total` body bytes as fast as the server takes them, until it answers.

    Returns (the response head, body bytes sent, seconds). `declare` sends that Content-Length
    instead of a chunked body."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {declare}\r\n" if declare is not None else "Transfer-Encoding: chunked\r\n"
    sock.sendall((head + "\r\n").encode())
    chunk = b"x" * 65536
    frame = chunk if declare is not None else b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sock.setblocking(False)
    sent, pending, answer = 0, memoryview(b""), b""
    started = time.monotonic()
    try:
        while time.monotonic() - started < 30 and not _complete(answer):
            want_write = declare is None or sent < declare
            readable, writable, _ = select.select(
                [sock], [sock] if want_write and sent < total else [], [], 0.2
            )
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
            elif writable:
                if not pending:
                    pending = memoryview(frame)
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    want_write = False
                    continue
                pending = pending[n:]
                sent += n
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    return answer, sent, time.monotonic() - started


@pytest.mark.parametrize(("path", "limit"), BODY_ROUTES)
def test_a_streamed_body_over_the_limit_is_refused_while_reading(
    live_server: LiveServer, path: str, limit: int
) -> None:
    before = _rss_bytes()
    answer, sent, seconds = _post_stream(live_server.url, path, HUGE)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert f"at most {limit} bytes".encode() in answer
    assert sent < limit + 16 * 1024 * 1024, sent  # the limit plus what socket buffers hold
    assert seconds < 10
    assert _rss_bytes() - before < 64 * 1024 * 1024


@pytest.mark.parametrize(("path", "limit"), BODYLESS_ROUTES)
def test_routes_that_read_no_body_answer_without_reading_one(
    live_server: LiveServer, path: str, limit: int
) -> None:
    answer, sent, seconds = _post_stream(live_server.url, path, HUGE)
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    assert sent < limit + 16 * 1024 * 1024 and seconds < 10


@pytest.mark.parametrize(("path", "limit"), BODY_ROUTES + BODYLESS_ROUTES)
def test_a_declared_length_over_the_limit_is_refused_before_reading(
    live_server: LiveServer, path: str, limit: int
) -> None:
    answer, sent, seconds = _post_stream(live_server.url, path, 0, declare=HUGE)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent == 0 and seconds < 5


def test_bodies_within_the_limits_still_work(client: httpx.Client) -> None:
    topic = "x" * 1500
    assert (
        client.post("/runs", json={"topic": topic, "rounds": 1, "deny": ["y" * 290] * 40}).status_code == 201
    )
    assert (
        client.post("/login", data={"token": "t" * 4000, "next": "/"}, follow_redirects=False).status_code
        == 303
    )


# --- pages load nothing from elsewhere, under a CSP (docs.py, security_headers.py) --------------

PAGES = ["/", "/ui/queues", "/login", "/docs", "/openapi.json", "/runs", "/health"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_csp(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_is_self_hosted_with_no_inline_script(client: httpx.Client) -> None:
    html = client.get("/docs").text
    assert "cdn" not in html.lower() and "http" not in html.replace("http-equiv", "")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # FastAPI's CDN-backed ReDoc is off


def test_the_docs_package_is_pinned() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"swagger-ui-bundle-v2==[0-9.]+"', pyproject)
