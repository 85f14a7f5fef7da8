"""One settings object: `IDEAFORGE_*` env vars, the usual names, `.env`, and an optional YAML file.

Precedence (highest first): constructor arguments, environment, `.env`, the YAML file named by
`IDEAFORGE_CONFIG` (or `ideaforge.yaml` in the working directory), the defaults below.

This is the only home of every tunable default (with its unit); `agents/` receives the values.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from agents.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_AGENTS_FILE = CONFIG_DIR / "agents.yaml"
DEFAULT_SCHEDULES_FILE = CONFIG_DIR / "schedules.yaml"


Cosine = Annotated[float, Field(gt=0.0, le=1.0)]
"""A cosine-similarity threshold, in (0, 1]."""

Price = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""USD per 1,000 tokens: finite, 0 or more."""


def check_band(low: float, high: float, low_name: str = "low", high_name: str = "high") -> None:
    """The one check of a threshold band: raises ValueError unless `low <= high`."""
    if low > high:
        raise ValueError(f"{low_name} ({low}) must not exceed {high_name} ({high})")


def _yaml_config_file() -> Path | None:
    named = os.environ.get("IDEAFORGE_CONFIG")
    if named:
        return Path(named)
    local = Path("ideaforge.yaml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    """Everything ideaforge reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="IDEAFORGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- Redis and the queue -------------------------------------------------------------
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("IDEAFORGE_REDIS_URL", "REDIS_URL", "redis_url"),
    )
    key_prefix: str = "ideaforge"
    queue_name: str = "ideaforge-turns"
    job_timeout_s: int = 900
    turn_retries: int = 3
    turn_retry_intervals_s: list[int] = [2, 10, 30]
    # Abandoned-turn recovery (workers/recovery.py): each worker refreshes a liveness key every
    # `worker_heartbeat_s`; one whose key is older than `worker_dead_after_s` is dead, and every
    # `recovery_interval_s` each worker re-enqueues the turns that dead workers had started.
    worker_heartbeat_s: float = 1.0
    worker_dead_after_s: int = 5
    recovery_interval_s: float = 2.0
    # The reconcile sweep (same thread, same period): a run not stopped whose next turn is on no
    # queue, registry or scheduled set `reconcile_grace_s` after its last change gets the turn
    # enqueued again; a retry due for `reconcile_overdue_s` that RQ's scheduler has not moved is moved.
    reconcile_grace_s: float = 5.0
    reconcile_overdue_s: float = 2.0

    # --- Models ------------------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("IDEAFORGE_OPENAI_API_KEY", "OPENAI_API_KEY", "openai_api_key"),
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("IDEAFORGE_OPENAI_BASE_URL", "OPENAI_BASE_URL", "openai_base_url"),
    )
    model: str | None = None
    # the model every role uses on a hosted endpoint when neither IDEAFORGE_MODEL, a role's own
    # setting nor config/agents.yaml names one
    hosted_model: str = "gpt-4o-mini"
    generator_model: str | None = None
    skeptic_model: str | None = None
    judge_model: str | None = None
    # models a brief's `model` may name besides the configured ones (JSON list; workers/admission.py)
    brief_models: list[str] = []
    agents_file: Path = DEFAULT_AGENTS_FILE
    model_timeout_s: float = 120.0
    model_max_retries: int = 2
    max_concurrency: int = Field(
        default=8,
        description="model calls in flight in one turn (per-idea calls, Elo matches, same-idea "
        "questions); 8 keeps a K=8 critique/judge phase at ~1 latency",
    )
    # Prices, for each request's cost and the cost budget (workers/pricing.py decides, first to
    # last): a model's own entry in `prices`, these two for every hosted model, the genai-prices
    # table, else unknown (a run's cost is then reported as unknown, never as 0; a brief with a cost
    # budget is refused). The embedded local model always costs 0.
    prices: dict[str, tuple[Price, Price]] = Field(
        default={}, description="model -> [USD per 1,000 prompt tokens, per 1,000 completion tokens] (JSON)"
    )
    prompt_price_per_1k: Price | None = Field(default=None, description="USD per 1,000 prompt tokens")
    completion_price_per_1k: Price | None = Field(default=None, description="USD per 1,000 completion tokens")

    # --- Embedded local model (used when no endpoint is configured) ----------------------------
    local_model: str = "qwen2.5-coder-1.5b"
    local_model_port: int = 8765
    # 127.0.0.1 by default; a container serving other containers binds 0.0.0.0 on its private network
    local_model_host: str = "127.0.0.1"
    local_model_ctx: int = 4096
    local_model_threads: int = 0  # 0 = cores - 1
    local_model_dir: Path = Path.home() / ".cache" / "ideaforge" / "models"
    local_model_start_timeout_s: float = 180.0
    local_model_parallel: int = 1  # concurrent request slots; they share the one context (kv_unified)
    local_model_api_key: SecretStr | None = None  # optional key the local server demands
    # Smaller defaults while the embedded model serves (it is slow on 2 cores): answer length per
    # call, Elo matches per round, and the rounds `ideaforge run` uses when none are asked for.
    local_max_tokens: int = Field(default=500, ge=64)
    local_elo_matches_per_round: int = Field(default=2, ge=0)
    local_default_rounds: int = Field(default=1, ge=1, le=20)

    # --- Schedules and the morning digest (workers/schedules, workers/digest) -------------------
    schedules_file: Path = DEFAULT_SCHEDULES_FILE
    scheduler_tick_s: float = Field(default=15.0, gt=0, le=300)
    digest_dir: Path | None = None  # where a scheduled run's end writes the night's digest (.md)
    # --- Novelty engine: embeddings, dedup thresholds, Elo, dried-up rule, ledger ------------------
    embedder: Literal["local", "openai"] = "local"  # local: offline MiniLM (ONNX); openai: the API
    embedding_model: str = "text-embedding-3-small"  # for embedder=openai (same endpoint and key)
    embedding_dim: int = Field(default=1536, ge=1)
    # for embedder=openai: the model embeds every language in one space (text-embedding-3-* does), so
    # a cosine over the drop threshold drops non-English ideas too; false: only English pairs are
    # dropped unasked, the rest go to the Judge (as always with the English-only local MiniLM)
    embedding_multilingual: bool = True
    embedder_threads: int = Field(default=1, ge=1, le=64)  # onnxruntime threads per worker process
    # Cosine bands (calibrated by `python -m benchmarks.novelty_calibration` on hand-written pairs and
    # real embedded-model output, tests/data/*pairs.jsonl; benchmarks/README.md has the table): >= high
    # drops a new idea, [low, high) asks the Judge "same idea?", < low keeps it.
    novelty_high: Cosine = Field(
        default=0.80,
        description="cosine; auto-drop precision 1.000 on 229 idea pairs (208 hand-written + 21 real)",
    )
    novelty_low: Cosine = Field(
        default=0.55, description="cosine; recall 0.948 (hand-written) when the Judge answers right"
    )
    novelty_deny_high: Cosine = Field(
        default=0.65,
        description="cosine, for deny items and short texts: auto-drop precision 1.000 on 235 pairs "
        "(67 hand-written + 168 real); real non-matches reach 0.60 (issue 14's false drop: 0.606)",
    )
    novelty_deny_low: Cosine = Field(
        default=0.40,
        description="cosine, for deny items and short texts: recall 0.844 when the Judge answers right",
    )
    novelty_short_words: int = Field(
        default=12, ge=0, description="words; known texts shorter than this get the deny bands"
    )
    cluster_cosine: Cosine = Field(
        default=0.45,
        description="cosine; a kept idea joins its nearest run idea's cluster at or above it "
        "(agents/novelty/clusters.py)",
    )
    elo_k: float = Field(
        default=32.0, gt=0.0, le=400.0, description="Elo points: a decisive match between equals moves k/2"
    )
    elo_matches_per_round: int = Field(
        default=8, ge=0, le=200, description="pairwise matches per round; 0 turns the tournament off"
    )
    elo_max_matches_per_idea: int = Field(default=3, ge=1, le=50, description="matches per idea per round")
    elo_min_matches: int = Field(
        default=2, ge=1, le=100, description="matches every candidate needs before Elo decides the ranking"
    )
    dried_up_min_yield: float = Field(
        default=0.2, ge=0.0, le=1.0, description="fraction of a round's new ideas kept by the filter"
    )
    dried_up_rounds: int = Field(
        default=2, ge=1, le=20, description="rounds in a row under dried_up_min_yield that stop a run"
    )
    generate_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Generator calls per round at most: a round short of ideas_per_round survivors "
        "of the filter asks again (the dropped titles as 'not these') until it has them or this runs out",
    )
    ledger_namespace: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # --- Steering a running run (workers/steering.py): a person's note or idea for the next
    # Generator turn, from `ideaforge steer`, `POST /runs/{id}/steer` and the run page ------------
    steering: bool = Field(default=True, description="false: every front door refuses steers (HTTP 409)")
    steer_note_max_chars: int = Field(default=1000, ge=1, le=20_000, description="characters of one note")
    steer_title_max_chars: int = Field(
        default=120, ge=1, le=1000, description="characters of an idea's title"
    )
    steer_summary_max_chars: int = Field(
        default=1000, ge=1, le=20_000, description="characters of an idea's summary"
    )
    steer_max_pending: int = Field(
        default=5, ge=1, le=100, description="steers per run waiting for its next Generator turn"
    )

    # --- Front doors ---------------------------------------------------------------------------
    api_token: SecretStr | None = None
    log_level: str = "INFO"
    log_format: str = "auto"  # auto | json | console

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        yaml_file = _yaml_config_file()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        sources.append(file_secret_settings)
        return tuple(sources)

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> Settings:
        check_band(self.novelty_low, self.novelty_high, "novelty_low", "novelty_high")
        check_band(self.novelty_deny_low, self.novelty_deny_high, "novelty_deny_low", "novelty_deny_high")
        return self

    @property
    def endpoint_configured(self) -> bool:
        """True when any remote OpenAI-compatible endpoint or key is configured."""
        return bool(self.openai_base_url or self.openai_api_key)

    @property
    def local_model_base_url(self) -> str:
        """The embedded model server's OpenAI-compatible endpoint, as its clients on this host reach it."""
        return f"http://127.0.0.1:{self.local_model_port}/v1"

    def role_model_override(self, role: str) -> str | None:
        value: Any = getattr(self, f"{role}_model", None)
        return value if isinstance(value, str) and value else None


def _setting_name(loc: tuple[int | str, ...]) -> str:
    return "IDEAFORGE_" + "_".join(str(p) for p in loc).upper() if loc else "settings"


def _check_config_file() -> None:
    """A named config file must exist, parse as a YAML mapping and hold only known settings."""
    path = _yaml_config_file()
    if path is None:
        return
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = exc.strerror or exc
        raise ConfigError(f"config file {path} (IDEAFORGE_CONFIG) cannot be read: {reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings")
    known = set(Settings.model_fields) | {
        alias
        for field in Settings.model_fields.values()
        for alias in getattr(field.validation_alias, "choices", ()) or ()
        if isinstance(alias, str)
    }
    unknown = sorted(str(k) for k in raw if str(k) not in known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown settings {', '.join(unknown[:10])}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (cached). Raises ConfigError, one line naming the setting and never
    its value, for a value that does not parse or fails its check, and for a config file
    (IDEAFORGE_CONFIG or ./ideaforge.yaml) that is missing, not YAML, or names unknown settings."""
    _check_config_file()
    try:
        return Settings()
    except ValidationError as exc:
        problems = [f"{_setting_name(e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
    except SettingsError as exc:  # a list/dict setting whose value is not JSON
        raise ConfigError(f"invalid settings: {str(exc).splitlines()[0]} (give it as JSON)") from None
