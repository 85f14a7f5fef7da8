"""Role configuration for the Generator, Skeptic and Judge, read from `config/agents.yaml`.

Per role: model, temperature, max_tokens, endpoint (base_url, api_key_env), model_info, and
optional prompt overrides. The default prompt wording lives in `agents/prompts/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agents.errors import AgentsConfigError
from config.settings import DEFAULT_AGENTS_FILE, Settings

ROLES = ("generator", "skeptic", "judge")


class RoleConfig(BaseModel):
    """One role's model settings; `temperature` 0-2, `max_tokens` per answer (tokens)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=800, ge=16)
    base_url: str | None = None
    api_key_env: str | None = None
    model_info: dict[str, Any] | None = None
    # Prompt overrides; None keeps the default wording of `agents/prompts/roles.py`.
    system_prompt: str | None = None
    novelty_instruction: str | None = None
    feasibility_instruction: str | None = None


class AgentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_model_info: dict[str, Any]
    roles: dict[str, RoleConfig]

    def role(self, name: str) -> RoleConfig:
        return self.roles[name]


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
