"""Redis connections: one per process and URL, reconnecting with backoff, never decoding (RQ needs bytes)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

from agents.errors import ConfigError, StoreUnavailable

_pools: dict[str, redis.Redis] = {}

SCHEMES = ("redis", "rediss", "unix")
_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:password|username)=)[^&#]*", re.IGNORECASE)
_HINT = (
    "percent-encode reserved characters in the password (/ → %2F, # → %23, ? → %3F, @ → %40, "
    "% → %25, "
    "as Python's urllib.parse.quote(password, safe='') does); supported schemes: redis://, rediss://, unix://"
)


def redact_url(url: str) -> str:
    """`url` with its password (all between `scheme://user:` and the last `@`; the whole userinfo
    when it names no user) and any password/username query value replaced by `***`, for messages
    and logs.

    Safe for a malformed URL too: a raw password holding `/`, `#`, `?` or `@` lies wholly before the
    last `@`, so none of its characters is kept.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***" if "@" in url else url
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}:***@{host}" if colon else f"***@{host}"
    rest = _SECRET_QUERY.sub(r"\1***", rest)
    return f"{scheme}://{rest}"


def validate_url(url: str) -> None:
    """Check that redis-py can open `url` as it was meant; raise ConfigError (one line, the URL
    redacted, with the fix) otherwise.

    Catches what redis-py would misread or reject with a traceback: an unsupported scheme, a raw
    password holding `/`, `#`, `?` or `@` (its tail then reads as path, fragment or query), a port or
    database that is not a number, a malformed query.
    """
    where = redact_url(url)
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        shown = f"the scheme {scheme}://, which redis-py does not open" if scheme else "no scheme"
        raise ConfigError(f"the Redis URL {where} has {shown}; {_HINT}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"the Redis URL {where} is malformed; {_HINT}") from None
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise ConfigError(
            f"the Redis URL {where} has a port that is not a number from 1 to 65535 (a raw reserved "
            f"character in the password reads as one); {_HINT}"
        ) from None
    try:
        if parts.query:
            parse_qsl(parts.query, strict_parsing=True)
    except ValueError:
        raise ConfigError(f"the Redis URL {where} is malformed; {_HINT}") from None
    if re.search(r"%(?![0-9A-Fa-f]{2})", parts.netloc.rpartition("@")[0]):
        raise ConfigError(
            f"the Redis URL {where} has a '%' in its credentials that starts no %XX escape: "
            f"write a literal '%' as %25; {_HINT}"
        )
    tail = parts.path + parts.query + parts.fragment
    db_ok = scheme == "unix" or re.fullmatch(r"/?\d*", parts.path) is not None
    if "@" in tail or parts.fragment or "#" in url.rpartition("@")[2] or not db_ok:
        raise ConfigError(
            f"the Redis URL {where} is malformed (a raw reserved character in the password, or a "
            f"database that is not a number); {_HINT}"
        )
    if scheme != "unix" and not parts.hostname and "@" in url:
        raise ConfigError(f"the Redis URL {where} names no host; {_HINT}")


def connect(url: str) -> redis.Redis:
    """A shared client per URL for this process and its forks (ConfigError for a malformed URL).

    redis-py's pool notices a fork (pid check) and opens fresh sockets in the child, so an RQ work
    horse and the job in it share one client and one new connection (RQ's worker is built on this
    same client) instead of opening a second one per job. `lib_version` is the installed
    version, passed so that each new connection skips redis-py's package-metadata lookup
    (`importlib.metadata.version`, ~1 ms of CPU per connection).
    """
    client = _pools.get(url)
    if client is None:
        validate_url(url)
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
    """Fail fast (no retries) with a message that says where we tried to connect.

    Raises ConfigError for a URL redis-py cannot open as meant (`validate_url`), StoreUnavailable
    when Redis cannot be reached, refuses the credentials or answers with an error.
    """
    validate_url(url)
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
