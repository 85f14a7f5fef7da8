"""One small hierarchy: retryable failures (try the turn again) versus terminal ones."""

from __future__ import annotations


class IdeaforgeError(Exception):
    """Base of every error ideaforge raises on purpose."""


class RetryableError(IdeaforgeError):
    """A transient failure: the same turn may succeed if tried again (timeouts, 429, 5xx)."""


class ModelUnavailable(RetryableError):
    """The model endpoint timed out, rate-limited us or answered with a server error."""


class StoreUnavailable(RetryableError):
    """Redis could not be reached."""


class TerminalError(IdeaforgeError):
    """Trying again will not help."""


class InvalidBrief(TerminalError):
    """The brief breaks a rule; the message says which field and why."""


class RunNotFound(TerminalError):
    """No run with that id is stored."""


class InvalidPayload(TerminalError):
    """A queue payload or stored record is malformed."""


class ModelConfigError(TerminalError):
    """No usable model endpoint is configured, or a model's settings are wrong."""
