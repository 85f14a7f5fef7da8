"""The embedded local model: a small GGUF model from PyPI served by llama.cpp on 127.0.0.1."""

from __future__ import annotations

from agents.errors import (
    LocalModelError,
    ModelIntegrityError,
    ModelNotInstalled,
    PortInUseError,
    ServerStartError,
    UnknownLocalModel,
)
from ideaforge.local_model.catalog import CATALOG, LOCAL_MODEL_INFO, ModelSpec, get_model_spec
from ideaforge.local_model.server import (
    LocalEndpoint,
    ensure_local_server,
    local_server_status,
    serve_foreground,
    stop_local_server,
)

__all__ = [
    "CATALOG",
    "LOCAL_MODEL_INFO",
    "LocalEndpoint",
    "LocalModelError",
    "ModelIntegrityError",
    "ModelNotInstalled",
    "ModelSpec",
    "PortInUseError",
    "ServerStartError",
    "UnknownLocalModel",
    "ensure_local_server",
    "get_model_spec",
    "local_server_status",
    "serve_foreground",
    "stop_local_server",
]
