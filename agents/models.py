"""Which model each role talks to, and the autogen client for it.

All model access goes through autogen's `OpenAIChatCompletionClient`, so any OpenAI-compatible
endpoint works. With no endpoint or key configured, roles point at the embedded local model
server on 127.0.0.1 (started by `ideaforge run`, `ideaforge worker` or `ideaforge model serve`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from autogen_core.models import ChatCompletionClient, ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient
from autogen_ext.models.openai._model_info import get_info

from agents.errors import ModelConfigError
from config.agents import ROLES, AgentsConfig
from config.settings import Settings

DEFAULT_HOSTED_MODEL = "gpt-4o-mini"
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
        return OpenAIChatCompletionClient(**kwargs)


def local_base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.local_model_port}/v1"


def _known_model_info(model: str) -> dict[str, Any] | None:
    try:
        return dict(get_info(model))
    except (KeyError, ValueError):
        return None


def resolve_role_models(
    settings: Settings, agents: AgentsConfig, brief_model: str | None = None
) -> dict[str, RoleModel]:
    """Resolve model, endpoint, key and model_info for each role."""
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
            base_url = local_base_url(settings)
            key = LOCAL_API_KEY
        else:
            model = brief_model or cfg.model or DEFAULT_HOSTED_MODEL
            if not key:
                key = LOCAL_API_KEY  # many self-hosted endpoints need no key but the client wants one
        info = cfg.model_info or (None if local else _known_model_info(model)) or agents.default_model_info
        if not info.get("json_output", False):
            raise ModelConfigError(f"model {model!r} for role {role} must support JSON output (model_info)")
        resolved[role] = RoleModel(
            role=role,
            model=model,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            model_info=dict(info),
            base_url=base_url,
            timeout_s=settings.model_timeout_s,
            max_retries=settings.model_max_retries,
            local=local,
            api_key=key,
        )
    return resolved


def warm_up() -> None:
    """Import what the first model call would import lazily (openai's `beta` resources, ~1-3 s).

    A forking worker calls this once before it forks its work horses; otherwise every horse, a
    fresh copy of a parent that never made a call, pays the import again on every turn.
    No network: the client is built against an unused address and never sends a request.
    """
    import openai

    client = openai.AsyncOpenAI(api_key=LOCAL_API_KEY, base_url="http://127.0.0.1:9/v1")
    _ = (client.beta.chat.completions, client.chat.completions, client.models)
