from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from agents.novelty.embedder import LocalMiniLMEmbedder

DATA = Path(__file__).resolve().parent.parent / "data"
TEST_DB = 13


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
def r() -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379, db=TEST_DB)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
