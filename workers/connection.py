"""Redis connections: one per process and URL, reconnecting with backoff, never decoding (RQ needs bytes)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

from agents.errors import StoreUnavailable

_pools: dict[tuple[int, str], redis.Redis] = {}


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    netloc = f"{parts.username}:***@{netloc}" if parts.username else f":***@{netloc}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str) -> redis.Redis:
    """A shared client for this process (rebuilt after fork)."""
    key = (os.getpid(), url)
    client = _pools.get(key)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=5,
            socket_timeout=30,
            health_check_interval=15,
            retry=Retry(ExponentialBackoff(cap=5, base=0.2), retries=6),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        _pools[key] = client
    return client


def check(url: str) -> None:
    """Fail fast (no retries) with a message that says where we tried to connect."""
    probe = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3, retry=Retry(NoBackoff(), 0))
    try:
        probe.ping()
    except redis.AuthenticationError as exc:
        raise StoreUnavailable(f"Redis at {redact_url(url)} refused the credentials: {exc}") from None
    except redis.ResponseError as exc:
        raise StoreUnavailable(f"Redis at {redact_url(url)} answered with an error: {exc}") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach Redis at {redact_url(url)}: {exc}") from None
    finally:
        probe.close()
