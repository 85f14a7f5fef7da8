"""The bearer-token rule, the loopback rule, the login cookie and the refusal to start unprotected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest
from pydantic import SecretStr

from agents.errors import UnsafeBind
from config.settings import Settings
from ideaforge.web.app import create_app
from ideaforge.web.auth import COOKIE, check_bind, is_loopback
from tests.web.conftest import ROOT, TOKEN, LiveServer, wait_until

PROTECTED = [
    ("GET", "/runs"),
    ("POST", "/runs"),
    ("GET", "/runs/abc/events"),
    ("POST", "/runs/abc/cancel"),
    ("POST", "/runs/abc/ideas/i1/verdict"),
    ("GET", "/queues"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_binding_off_loopback_needs_a_token(settings: Settings) -> None:
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", SecretStr(TOKEN))
    for token in (None, SecretStr("")):
        with pytest.raises(UnsafeBind, match="IDEAFORGE_API_TOKEN"):
            check_bind("0.0.0.0", token)
    with pytest.raises(UnsafeBind):
        create_app(settings, host="0.0.0.0")


def test_loopback_without_a_token_is_open(client: httpx.Client) -> None:
    assert client.get("/runs").status_code == 200
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("host", ["rebind.evil.example:8701", "rebind.evil.example", "10.0.0.5:80"])
def test_without_a_token_only_loopback_host_names_are_served(client: httpx.Client, host: str) -> None:
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 read runs and submitted
    them (200 and 201) because, with no token, the Origin check compared Origin with Host."""
    assert client.get("/runs", headers={"Host": host}).status_code == 421
    posted = client.post(
        "/runs",
        json={"topic": "rebound", "rounds": 1},
        headers={"Host": host, "Origin": f"http://{host}"},
    )
    assert posted.status_code == 421
    assert "rebound" not in client.get("/runs").text  # nothing was stored
    for name in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        assert client.get("/health", headers={"Host": name}).status_code == 200


def test_with_a_token_other_host_names_are_served(token_server: LiveServer) -> None:
    response = httpx.get(
        f"{token_server.url}/health", headers={"Host": "ideas.example.org"}, timeout=10
    )
    assert response.status_code == 200



@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_route_but_health_needs_the_token(token_server: LiveServer, method: str, path: str) -> None:
    with httpx.Client(base_url=token_server.url) as c:
        missing = c.request(method, path, headers={"Accept": "application/json"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in missing.text
        wrong = c.request(method, path, headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status_code == 401
        right = c.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code != 401


def test_health_is_open_and_the_right_token_works(token_server: LiveServer) -> None:
    with httpx.Client(base_url=token_server.url) as c:
        assert c.get("/health").json()["status"] == "ok"
        ok = c.get("/runs", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["runs"] == []


def test_browsers_sign_in_with_a_cookie(token_server: LiveServer) -> None:
    with httpx.Client(base_url=token_server.url, follow_redirects=False) as c:
        page = c.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
        assert c.get("/login").status_code == 200
        bad = c.post("/login", data={"token": "guess", "next": "/"})
        assert bad.status_code == 401 and COOKIE not in bad.cookies
        evil = c.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
        assert evil.status_code == 303 and evil.headers["location"] == "/"  # no open redirect
        assert "httponly" in evil.headers["set-cookie"].lower()
        assert "samesite=strict" in evil.headers["set-cookie"].lower()
        assert c.get("/", headers={"Accept": "text/html"}).status_code == 200  # the cookie now works
        assert c.get("/runs").status_code == 200


def test_cross_site_posts_are_refused(client: httpx.Client) -> None:
    response = client.post("/runs", json={"topic": "x"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    same = client.post("/runs", json={"topic": "x"}, headers={"Origin": str(client.base_url).rstrip("/")})
    assert same.status_code == 201


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_refuses_a_public_interface_without_a_token(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ideaforge", "web", "--host", "0.0.0.0", "--port", str(_free_port())],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to serve on 0.0.0.0" in result.stderr and "IDEAFORGE_API_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_serves_a_public_interface_with_a_token(env: dict[str, str]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ideaforge", "web", "--host", "0.0.0.0", "--port", str(port)],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "IDEAFORGE_API_TOKEN": TOKEN,
            "IDEAFORGE_LOG_LEVEL": "INFO",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                assert proc.poll() is None, "ideaforge web exited"
                return False

        wait_until(up, timeout=60, what="ideaforge web to answer /health")
        assert httpx.get(f"{url}/runs").status_code == 401
        assert httpx.get(f"{url}/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown
    assert "Finished server process" in output and "token required" in output
    assert TOKEN not in output  # the token is never logged
