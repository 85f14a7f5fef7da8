from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis

from agents.novelty.dedup import Thresholds
from agents.novelty.embedder import LocalMiniLMEmbedder
from config.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "data"


def _bands(high: str, low: str) -> Thresholds:
    fields = Settings.model_fields
    return Thresholds(high=fields[high].default, low=fields[low].default)


# The default bands, as settings define them (not an environment's overrides).
IDEA_BANDS = _bands("novelty_high", "novelty_low")
DENY_BANDS = _bands("novelty_deny_high", "novelty_deny_low")


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
