"""Errors of the embedded local model: each says what failed and what to do, without a traceback."""

from __future__ import annotations

from agents.errors import TerminalError


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
