"""Role configuration for the Generator, Skeptic and Judge, read from `config/agents.yaml`.

Per role: model, temperature, max_tokens, endpoint (base_url, api_key_env), model_info, the request
parameters to send (`params`), and optional prompt overrides. The default prompt wording lives in
`agents/prompts/`.

Which request parameters a model accepts depends on its family: OpenAI's reasoning models (o1, o3,
o4-mini, gpt-5...) refuse a `temperature` other than 1 and `max_tokens` (they want
`max_completion_tokens`). `ModelParams` says what to send; it is resolved in layers, each key
overriding the one before: the defaults (`ModelParams.DEFAULT`), the built-in entry for a known
family (`KNOWN_MODEL_PARAMS`, so those models work without configuration), the first entry of the
agents file's `model_params` whose pattern matches the model name, and the role's own `params`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agents.errors import AgentsConfigError
from config.settings import DEFAULT_AGENTS_FILE, Settings

ROLES = ("generator", "skeptic", "judge")

ReasoningEffort = Literal["minimal", "low", "medium", "high"]


class ModelParams(BaseModel):
    """Which request parameters to send to a model; a key left out keeps the earlier layer's value.

    `send_temperature`: send the role's temperature (False: the model's own default, for models
    that accept no other); `token_param`: the name the answer cap (the role's `max_tokens`, in
    tokens) is sent under; `reasoning_effort`: sent when set (reasoning models only);
    `reasoning_tokens`: tokens added to the cap for the model's hidden reasoning, which reasoning
    models count in `max_completion_tokens` (0 for other models).
    """

    model_config = ConfigDict(extra="forbid")

    send_temperature: bool = True
    token_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    reasoning_effort: ReasoningEffort | None = None
    reasoning_tokens: int = Field(default=0, ge=0)

    def over(self, base: ModelParams) -> ModelParams:
        """`base` with the keys set explicitly on this one replacing its values."""
        return base.model_copy(update={k: getattr(self, k) for k in self.model_fields_set})


class ModelParamsEntry(ModelParams):
    """One `model_params` entry: the parameters for models whose name matches one of `match`
    (shell-style patterns such as `o3*`, compared case-insensitively)."""

    match: list[str] = Field(min_length=1)

    def matches(self, model: str) -> bool:
        """True when `model` (any case) matches one of the entry's patterns."""
        name = model.lower()
        return any(fnmatchcase(name, pattern.lower()) for pattern in self.match)


# OpenAI's reasoning families (documented: no temperature but the default, `max_completion_tokens`
# instead of `max_tokens`, `reasoning_effort` accepted). Effort "low" keeps a brainstorm's many
# small calls quick; the reserve leaves room for the hidden reasoning before the answer.
KNOWN_MODEL_PARAMS: tuple[ModelParamsEntry, ...] = (
    ModelParamsEntry(
        match=["o1*", "o3*", "o4*", "gpt-5*", "*/o1*", "*/o3*", "*/o4*", "*/gpt-5*"],
        send_temperature=False,
        token_param="max_completion_tokens",
        reasoning_effort="low",
        reasoning_tokens=4000,
    ),
)


class RoleConfig(BaseModel):
    """One role's model settings; `temperature` 0-2, `max_tokens` per answer (tokens); `params`
    overrides the request parameters its model's family gets (see `ModelParams`)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=800, ge=16)
    base_url: str | None = None
    api_key_env: str | None = None
    model_info: dict[str, Any] | None = None
    params: ModelParams | None = None
    # Prompt overrides; None keeps the default wording of `agents/prompts/roles.py`.
    system_prompt: str | None = None
    novelty_instruction: str | None = None
    feasibility_instruction: str | None = None


class AgentsConfig(BaseModel):
    """The agents file: `default_model_info`, `model_params` (per model-name pattern) and the roles."""

    model_config = ConfigDict(extra="forbid")

    default_model_info: dict[str, Any]
    model_params: list[ModelParamsEntry] = Field(default_factory=list)
    roles: dict[str, RoleConfig]

    def role(self, name: str) -> RoleConfig:
        return self.roles[name]

    def params_for(self, role: str, model: str) -> ModelParams:
        """The request parameters `role` sends to `model`: defaults, then the built-in family entry,
        then the first matching `model_params` entry of the file, then the role's own `params`."""
        params = ModelParams()
        for entries in (KNOWN_MODEL_PARAMS, self.model_params):
            entry = next((e for e in entries if e.matches(model)), None)
            if entry is not None:
                params = ModelParams(**entry.model_dump(include=entry.model_fields_set - {"match"})).over(
                    params
                )
        own = self.roles[role].params
        return own.over(params) if own is not None else params


def load_agents_config(path: Path | None = None, settings: Settings | None = None) -> AgentsConfig:
    """Load role defaults, then apply model overrides from settings (`IDEAFORGE_MODEL`, per role)."""
    path = path or (settings.agents_file if settings else DEFAULT_AGENTS_FILE)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AgentsConfigError(f"cannot read agents file {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise AgentsConfigError(f"agents file {path} must be a mapping")
    try:
        config = AgentsConfig.model_validate(raw)
    except ValueError as exc:
        raise AgentsConfigError(f"agents file {path} is invalid: {exc}") from exc
    missing = [role for role in ROLES if role not in config.roles]
    if missing:
        raise AgentsConfigError(f"agents file {path} lacks roles: {', '.join(missing)}")
    if settings is not None:
        for role in ROLES:
            override = settings.role_model_override(role) or settings.model
            if settings.role_model_override(role) or (override and config.roles[role].model is None):
                config.roles[role].model = override
    return config
