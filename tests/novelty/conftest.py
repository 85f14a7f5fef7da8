from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis

from agents.novelty.embedder import LocalMiniLMEmbedder

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def embedder() -> LocalMiniLMEmbedder:
    emb = LocalMiniLMEmbedder()
    emb.load()
    return emb


@pytest.fixture(scope="session")
def idea_pairs() -> list[dict[str, Any]]:
    lines = (DATA / "idea_pairs.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def r(redis_client: redis.Redis) -> redis.Redis:
    """The shared test DB (flushed per test by the `redis_url` fixture)."""
    return redis_client
