"""Redis connections: one per process and URL, reconnecting with backoff, never decoding (RQ needs bytes)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

from agents.errors import StoreUnavailable

_pools: dict[str, redis.Redis] = {}


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
    """A shared client per URL for this process and its forks.

    redis-py's pool notices a fork (pid check) and opens fresh sockets in the child, so an RQ work
    horse and the job in it share one client and one new connection (RQ's worker is built on this
    same client) instead of opening a second one per job. `lib_version` is the installed
    version, passed so that each new connection skips redis-py's package-metadata lookup
    (`importlib.metadata.version`, ~1 ms of CPU per connection).
    """
    client = _pools.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url,
            lib_version=redis.__version__,
            socket_connect_timeout=5,
            socket_timeout=30,
            health_check_interval=15,
            retry=Retry(ExponentialBackoff(cap=5, base=0.2), retries=6),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        _pools[url] = client
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
