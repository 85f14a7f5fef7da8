"""Which model each role talks to, and the autogen client for it.

All model access goes through autogen's `OpenAIChatCompletionClient`, so any OpenAI-compatible
endpoint works. With no endpoint or key configured, roles point at the embedded local model
server on 127.0.0.1 (started by `ideaforge run`, `ideaforge worker` or `ideaforge model serve`).
"""

from __future__ import annotations

import os
import ssl
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import openai
from autogen_core.models import ChatCompletionClient, ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient
from autogen_ext.models.openai._model_info import get_info

from agents.calls import record_usage
from agents.errors import ModelConfigError
from agents.prompts.roles import system_prompt
from config.agents import ROLES, AgentsConfig
from config.settings import Settings

LOCAL_API_KEY = "local-no-key"


@dataclass(frozen=True)
class RoleModel:
    """Everything needed to talk to one role's model. The key is kept out of repr and logs."""

    role: str
    model: str
    temperature: float
    max_tokens: int
    model_info: dict[str, Any]
    base_url: str | None
    timeout_s: float
    max_retries: int
    local: bool
    system_prompt: str = ""  # the role's default prompt (agents/prompts/roles.py) or its override
    api_key: str = field(repr=False, default="")

    @property
    def structured(self) -> bool:
        return bool(self.model_info.get("structured_output"))

    def create_client(self) -> ChatCompletionClient:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "api_key": self.api_key,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "timeout": self.timeout_s,
            "max_retries": self.max_retries,
            "model_info": ModelInfo(**self.model_info),  # type: ignore[typeddict-item]
        }
        if self.base_url:
            kwargs["base_url"] = self.base_url
        # openai's own default client, with the process-wide TLS context (see below) and the hook
        # that records each response's usage as it arrives
        kwargs["http_client"] = openai.DefaultAsyncHttpxClient(
            verify=shared_ssl_context() or True, event_hooks={"response": [record_usage]}
        )
        return OpenAIChatCompletionClient(**kwargs)


@lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext | None:
    """The verified TLS context openai's HTTP library would build, built once per process.

    Each new HTTP client otherwise builds its own (reading the CA bundle: 40-80 ms of CPU), and a
    turn opens one client per role. Built by the library's own `create_ssl_context()`, so trust
    settings (`SSL_CERT_FILE`, `SSL_CERT_DIR`, the system store) are the same; None (each client
    builds its own, as before) if that library has no such function.
    """
    base = openai.DefaultAsyncHttpxClient.__mro__[1]
    library = sys.modules.get(base.__module__.split(".")[0])
    factory = getattr(library, "create_ssl_context", None)
    context = factory() if callable(factory) else None
    return context if isinstance(context, ssl.SSLContext) else None


def _known_model_info(model: str) -> dict[str, Any] | None:
    try:
        return dict(get_info(model))
    except (KeyError, ValueError):
        return None


def resolve_role_models(
    settings: Settings, agents: AgentsConfig, brief_model: str | None = None
) -> dict[str, RoleModel]:
    """Resolve model, endpoint, key, model_info and system prompt for each role."""
    resolved: dict[str, RoleModel] = {}
    for role in ROLES:
        cfg = agents.role(role)
        base_url = cfg.base_url or settings.openai_base_url
        key = os.environ.get(cfg.api_key_env, "") if cfg.api_key_env else ""
        if not key and settings.openai_api_key is not None:
            key = settings.openai_api_key.get_secret_value()
        local = not base_url and not key
        if local:
            model = settings.local_model
            base_url = settings.local_model_base_url
            secret = settings.local_model_api_key  # the key the embedded server demands, if one is set
            key = secret.get_secret_value() if secret is not None else LOCAL_API_KEY
        else:
            model = brief_model or cfg.model or settings.hosted_model
            if not key:
                key = LOCAL_API_KEY  # many self-hosted endpoints need no key but the client wants one
        info = cfg.model_info or (None if local else _known_model_info(model)) or agents.default_model_info
        if not info.get("json_output", False):
            raise ModelConfigError(f"model {model!r} for role {role} must support JSON output (model_info)")
        resolved[role] = RoleModel(
            role=role,
            model=model,
            temperature=cfg.temperature,
            max_tokens=min(cfg.max_tokens, settings.local_max_tokens) if local else cfg.max_tokens,
            model_info=dict(info),
            base_url=base_url,
            timeout_s=settings.model_timeout_s,
            max_retries=settings.model_max_retries,
            local=local,
            system_prompt=system_prompt(role, cfg),
            api_key=key,
        )
    return resolved
