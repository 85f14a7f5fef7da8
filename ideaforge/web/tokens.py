"""The API token rule: a configured token is stripped of surrounding whitespace and must be at
least MIN_TOKEN_CHARS characters long (e.g. `openssl rand -hex 24`, 48 characters).

An unset or empty `IDEAFORGE_API_TOKEN` means no token (the server then binds loopback only); a
whitespace-only or short one is refused, so a typo never serves the API "token required" behind a
guessable token.
"""

from __future__ import annotations

from pydantic import SecretStr

from agents.errors import UnsafeBind

MIN_TOKEN_CHARS = 32


def usable_token(token: SecretStr | None) -> str | None:
    """The token to compare requests with (stripped), or None when none is configured.

    Raises UnsafeBind when a token is set but shorter than MIN_TOKEN_CHARS after stripping.
    """
    if token is None or token.get_secret_value() == "":
        return None
    value = token.get_secret_value().strip()
    if len(value) < MIN_TOKEN_CHARS:
        raise UnsafeBind(
            f"IDEAFORGE_API_TOKEN is too weak: {len(value)} characters after stripping whitespace; "
            f"the minimum is {MIN_TOKEN_CHARS} (generate one with: openssl rand -hex 24)"
        )
    return value
