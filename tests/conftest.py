"""Shared fixtures: a dedicated Redis DB flushed per test, the fake model server, settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from config.settings import Settings, get_settings
from ideaforge.devtools.fake_openai import FakeModelServer

# Each developer/helper may run the suite at the same time on one Redis: pick a DB index per checkout.
TEST_DB = int(os.environ.get("IDEAFORGE_TEST_REDIS_DB", "15"))
REDIS_BASE = os.environ.get("IDEAFORGE_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_URL = f"{REDIS_BASE}/{TEST_DB}"


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"the test suite needs Redis at {REDIS_URL} (start it: redis-server --daemonize yes)")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def fake_model() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, fake_model: FakeModelServer
) -> Iterator[dict[str, str]]:
    """Environment for code under test (and its subprocesses): test Redis DB, fake model, no real keys."""
    for name in list(os.environ):
        if name.startswith("IDEAFORGE_") and name not in ("IDEAFORGE_TEST_REDIS_DB", "IDEAFORGE_TEST_REDIS"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    values = {
        "IDEAFORGE_REDIS_URL": redis_url,
        "OPENAI_BASE_URL": fake_model.base_url,
        "IDEAFORGE_MODEL": "fake-model",
        "IDEAFORGE_TURN_RETRY_INTERVALS_S": "[0]",
        "IDEAFORGE_LOG_FORMAT": "json",
        "IDEAFORGE_LOG_LEVEL": "WARNING",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return get_settings()


def run_burst(settings: Settings) -> None:
    """Drain the turn queue with an in-process SimpleWorker."""
    from workers.worker import build_worker

    build_worker(settings, simple=True).work(burst=True, logging_level="WARNING")
