"""Which model each role talks to, and the autogen client for it.

All model access goes through autogen's `OpenAIChatCompletionClient`, so any OpenAI-compatible
endpoint works. With no endpoint or key configured, roles point at the embedded local model
server on 127.0.0.1 (started by `ideaforge run`, `ideaforge worker` or `ideaforge model serve`).

Which request parameters each model gets (temperature or not, `max_tokens` or
`max_completion_tokens`, `reasoning_effort`) comes from `config.agents.AgentsConfig.params_for`.
"""

from __future__ import annotations

import os
import ssl
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import openai
from autogen_core.models import ChatCompletionClient, ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient
from autogen_ext.models.openai._model_info import get_info

from agents.calls import AnswerCap, Prices, RoleAgent, record_usage
from agents.errors import ModelConfigError
from agents.prompts.roles import system_prompt
from config.agents import ROLES, AgentsConfig, ModelParams
from config.settings import Settings

LOCAL_API_KEY = "local-no-key"


def endpoint_label(base_url: str | None) -> str | None:
    """What a transcript may say about an endpoint: scheme, host, port and path of `base_url`.

    User info (`user:password@`), query (Azure's `api-version`, a `key=`) and fragment are left
    out, so no secret can reach the transcript. None for None; a URL that cannot be parsed gives
    "(unparsable endpoint)".
    """
    if not base_url:
        return None
    try:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(unparsable endpoint)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass(frozen=True)
class RoleModel:
    """Everything needed to talk to one role's model. The key is kept out of repr and logs.

    `temperature` is None when the model's family takes no temperature (its default is used);
    `max_tokens` is the answer cap in tokens and `max_tokens_source` the setting that set it (named
    in the error of a truncated answer); `params` says which request parameters to send.
    """

    role: str
    model: str
    temperature: float | None
    max_tokens: int
    model_info: dict[str, Any]
    base_url: str | None
    timeout_s: float
    max_retries: int
    local: bool
    system_prompt: str = ""  # the role's default prompt (agents/prompts/roles.py) or its override
    api_key: str = field(repr=False, default="")
    params: ModelParams = field(default_factory=ModelParams)
    max_tokens_source: str = "max_tokens"

    @property
    def structured(self) -> bool:
        return bool(self.model_info.get("structured_output"))

    @property
    def endpoint(self) -> str | None:
        """The endpoint as transcripts record it (`endpoint_label`: no key, no user info)."""
        return endpoint_label(self.base_url)

    def request_params(self) -> dict[str, Any]:
        """The body parameters every request of this role sends besides the messages: the
        temperature (unless the family takes none), the answer cap under the family's name for it
        (plus the reasoning reserve), and `reasoning_effort` when set."""
        sent: dict[str, Any] = {self.params.token_param: self.max_tokens + self.params.reasoning_tokens}
        if self.temperature is not None:
            sent["temperature"] = self.temperature
        if self.params.reasoning_effort is not None:
            sent["reasoning_effort"] = self.params.reasoning_effort
        return sent

    def create_client(self) -> ChatCompletionClient:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "api_key": self.api_key,
            **self.request_params(),
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

    def role_agent(self, prices: Prices) -> RoleAgent:
        """This role bound to a new client (close it with `agent.client.close()`), priced by `prices`."""
        return RoleAgent(
            role=self.role,
            system_prompt=self.system_prompt,
            client=self.create_client(),
            model=self.model,
            temperature=self.temperature,
            structured=self.structured,
            prices=prices,
            endpoint=self.endpoint,
            cap=AnswerCap(self.max_tokens, self.max_tokens_source),
        )


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
        params = agents.params_for(role, model)
        max_tokens = cfg.max_tokens
        source = f"max_tokens: {cfg.max_tokens} of role {role} in {settings.agents_file}"
        if local and settings.local_max_tokens < cfg.max_tokens:
            max_tokens = settings.local_max_tokens
            source = f"IDEAFORGE_LOCAL_MAX_TOKENS={settings.local_max_tokens}"
        resolved[role] = RoleModel(
            role=role,
            model=model,
            temperature=cfg.temperature if params.send_temperature else None,
            max_tokens=max_tokens,
            model_info=dict(info),
            base_url=base_url,
            timeout_s=settings.model_timeout_s,
            max_retries=settings.model_max_retries,
            local=local,
            system_prompt=system_prompt(role, cfg),
            api_key=key,
            params=params,
            max_tokens_source=source,
        )
    return resolved
