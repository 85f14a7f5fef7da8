"""Security rules of the HTTP front door: token strength, body limits, content security policy."""

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
from ideaforge.web.auth import check_bind
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
