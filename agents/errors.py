"""Every error ideaforge raises on purpose, in one tree (part of the shared vocabulary).

The split that matters is *retryable* versus *terminal*: an RQ turn job re-raises a
`RetryableError` so that RQ tries the turn again with backoff; any `TerminalError` ends the run
at once with the message as its reason. Front doors turn a `TerminalError` into one clear line
(CLI exit 2, HTTP 4xx) and never show a traceback. This module imports nothing but the standard
library, so every layer (config, agents, workers, the front doors) may import it.

    IdeaforgeError
    ├── RetryableError                  try the same turn again
    │   ├── ModelUnavailable            timeout, 429, 5xx, connection reset from a model endpoint
    │   └── StoreUnavailable            Redis cannot be reached
    └── TerminalError                   trying again will not help
        ├── InvalidInput                a person's or producer's input breaks a rule
        │   ├── InvalidBrief            a brief field (the message names it)
        │   ├── InvalidPayload          a queue payload or stored record is malformed
        │   ├── InvalidVerdict          a verdict word other than accept(ed)/reject(ed)
        │   ├── InvalidSteer            a steer (a person's note or idea) breaks a limit or a rule
        │   └── ScheduleError           a schedules file or schedule name
        ├── NotFound
        │   ├── RunNotFound             no run with that id
        │   └── IdeaNotFound            the run has no idea with that id
        ├── RunAlreadyFinished          the run has stopped; it cannot be changed
        ├── SteerRefused                the run cannot take a steer now (off, too many pending, too late)
        ├── ConfigError                 the operator's configuration is wrong
        │   ├── ModelConfigError        no usable model endpoint, or a model's settings are wrong
        │   │   └── AgentsConfigError   config/agents.yaml is missing, unreadable or malformed
        │   └── UnsafeBind              the HTTP API would be exposed without a token
        ├── EmbeddingModelError         the local embedding model is missing, altered or unusable
        ├── EmbedderMismatch            vectors of two embedding models were about to be compared
        └── LocalModelError             the embedded chat model cannot be used
            ├── UnknownLocalModel       `local_model` names no model in the catalog
            ├── ModelNotInstalled       its PyPI part packages are missing or at another version
            ├── ModelIntegrityError     the assembled file's sha256 is not the pinned one
            ├── PortInUseError          the port is held by something that is not our server
            └── ServerStartError        the server exited or did not become healthy in time
"""

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


class InvalidInput(TerminalError):
    """Input from a person or a producer breaks a rule; the message says which and why."""


class InvalidBrief(InvalidInput):
    """The brief breaks a rule; the message says which field and why."""


class InvalidPayload(InvalidInput):
    """A queue payload, a command's argument or a stored record is malformed."""


class InvalidVerdict(InvalidInput):
    """A verdict is 'accept'/'accepted' or 'reject'/'rejected'; anything else is this."""


class InvalidSteer(InvalidInput):
    """A steer breaks a rule (empty, over its length limit, a bad author name); the message says which."""


class ScheduleError(InvalidInput):
    """A schedules file or schedule name is wrong; the message names the schedule and field."""


class NotFound(TerminalError):
    """The thing asked for is not stored."""


class RunNotFound(NotFound):
    """No run with that id is stored."""


class IdeaNotFound(NotFound):
    """The run has no idea with that id."""


class RunAlreadyFinished(TerminalError):
    """The run has stopped already; it cannot be changed."""


class SteerRefused(TerminalError):
    """The run cannot take a steer now: steering is switched off, too many steers wait for its next
    Generator turn, or no Generator turn is left in it."""


class ConfigError(TerminalError):
    """The operator's configuration is wrong; the message names the setting or file."""


class ModelConfigError(ConfigError):
    """No usable model endpoint is configured, or a model's settings are wrong."""


class AgentsConfigError(ModelConfigError):
    """The agents YAML file is missing, unreadable or malformed (terminal: retrying cannot fix it)."""


class UnsafeBind(ConfigError):
    """The HTTP server would be reachable beyond this machine without a token."""


class EmbeddingModelError(TerminalError):
    """The local embedding model or tokenizer is missing, altered, or unusable."""


class EmbedderMismatch(TerminalError):
    """Vectors from different embedding models (or dimensions) were about to be compared."""


class LocalModelError(TerminalError):
    """The embedded local model cannot be used; the message says why and what to do."""


class UnknownLocalModel(LocalModelError):
    """`local_model` names no model in the catalog."""


class ModelNotInstalled(LocalModelError):
    """The PyPI part packages of the model are missing or at the wrong version."""


class ModelIntegrityError(LocalModelError):
    """The assembled model file's sha256 is not the pinned one; the file is not loaded."""


class PortInUseError(LocalModelError):
    """The port is held by something that is not our model server."""


class ServerStartError(LocalModelError):
    """The model server exited or did not become healthy within the start-up timeout."""
