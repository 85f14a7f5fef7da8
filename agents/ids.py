"""Identifiers (part of the shared vocabulary): run ids and the rule every front door checks them by."""

from __future__ import annotations

import re
import secrets

RUN_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")  # producers may choose their own; ours are 12 hex digits


def new_run_id() -> str:
    """A fresh run id: 12 lower-case hex digits (48 random bits)."""
    return secrets.token_hex(6)


def is_run_id(value: object) -> bool:
    """True for a string a run id may be (letters, digits and '-', 1-64 characters)."""
    return isinstance(value, str) and RUN_ID.match(value) is not None
