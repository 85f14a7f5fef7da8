"""The brief: what a person (or any producer) asks ideaforge to brainstorm about."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agents.errors import InvalidBrief
from agents.text import first_bidi_control

BRIEF_VERSION: Literal[1] = 1
MAX_TOPIC_CHARS = 2000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 300


class Strategy(StrEnum):
    """How the Generator is pushed towards novelty (see DESIGN.md, 'The method')."""

    MIX = "mix"
    QUESTION = "question"
    RESTRICT = "restrict"


class Budget(BaseModel):
    """Hard limits; any one that is reached stops the run with its reason. Strict: a number must be
    a finite number (not `true`, not "3", not Infinity or NaN); tokens a whole number."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(default=None, ge=1, strict=True)
    max_cost_usd: float | None = Field(default=None, gt=0, strict=True, allow_inf_nan=False)
    max_seconds: float | None = Field(default=None, gt=0, strict=True, allow_inf_nan=False)


class Mechanisms(BaseModel):
    """Which of the pipeline's quality mechanisms a run uses (all on by default). Switching one off
    gives the "before" arm of `ideaforge eval --arm without-NAME` (issue 14: each mechanism measured
    before and after on the same topics and model); a user may also switch one off for a run.

    - `top_up`: a short round asks the Generator again (up to settings `generate_attempts` calls)
      until `ideas_per_round` ideas survive the novelty filter; off: one Generator call per round.
    - `proximity`: the shortlist takes the best idea of each cluster before a second from any
      cluster, and the Generator is told which directions are crowded; off: plain rank order.
    - `meta_review`: one call per round sums up the recurring flaws for the next rounds' Generator.
    - `grounded_novelty`: the Judge scores novelty against the idea's nearest known items, with
      their similarity; off: the Judge sees the idea alone.
    - `common_answers`: every strategy derives the topic's common answers once per run (they ground
      the Judge and drop only near-copies); off: only `restrict` derives them, as its deny-list.
    - `concept_catalog`: distant fields and creativity operators (TRIZ, SCAMPER) are drawn in code
      with a recorded seed; off: the model proposes the concept pairs itself.
    - `evolution`: from round 2 the Generator also combines two survivors from different clusters and
      simplifies one, and the tournament matches a child against its parents first; off: improve only.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    top_up: bool = Field(default=True, strict=True)
    proximity: bool = Field(default=True, strict=True)
    meta_review: bool = Field(default=True, strict=True)
    grounded_novelty: bool = Field(default=True, strict=True)
    common_answers: bool = Field(default=True, strict=True)
    concept_catalog: bool = Field(default=True, strict=True)
    evolution: bool = Field(default=True, strict=True)

    def without(self, name: str) -> Mechanisms:
        """A copy with mechanism `name` switched off. Raises ValueError naming the known mechanisms
        when `name` is not one of them."""
        if name not in type(self).model_fields:
            known = ", ".join(type(self).model_fields)
            raise ValueError(f"unknown mechanism {name!r}; known: {known}")
        return self.model_copy(update={name: False})

    def off(self) -> list[str]:
        """The names of the mechanisms switched off, in declaration order."""
        return [name for name in type(self).model_fields if not getattr(self, name)]


def _check_text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{field} must not be empty")
    if len(value) > limit:
        raise ValueError(f"{field} is {len(value)} characters long; the limit is {limit}")
    bad = [ch for ch in value if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]
    if bad:
        raise ValueError(f"{field} contains control characters ({bad[0]!r})")
    if (bidi := first_bidi_control(value)) is not None:
        raise ValueError(f"{field} contains a bidirectional control character ({bidi!r})")
    if any(unicodedata.category(ch) == "Cs" for ch in value):  # a lone surrogate: undecodable input
        raise ValueError(
            f"{field} contains a character that is not valid Unicode (a byte the terminal's encoding "
            "could not decode; use UTF-8)"
        )
    return value


class Brief(BaseModel):
    """A brainstorm request. This JSON shape is the public contract for every producer.

    Strict about counts: a whole number (`true`, 2.0 or "3" is refused, not read as 1, 2 or 3).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = BRIEF_VERSION
    topic: str
    strategy: Strategy = Strategy.RESTRICT
    rounds: int = Field(default=2, strict=True, ge=1, le=20)
    ideas_per_round: int = Field(default=3, strict=True, ge=1, le=20)
    deny: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    concepts: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    model: str | None = Field(default=None, max_length=200)
    shortlist_size: int = Field(default=5, strict=True, ge=1, le=50)
    namespace: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    budget: Budget = Field(default_factory=Budget)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    schedule: str | None = Field(default=None, max_length=100)
    schedule_slot: str | None = Field(default=None, max_length=100)

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        return _check_text(value, "topic", MAX_TOPIC_CHARS)

    @field_validator("deny", "concepts")
    @classmethod
    def _items(cls, values: list[str]) -> list[str]:
        return [_check_text(v, "each list item", MAX_ITEM_CHARS) for v in values]

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in {s.value for s in Strategy}:
                allowed = ", ".join(s.value for s in Strategy)
                raise ValueError(f"unknown strategy {value!r}; choose one of: {allowed}")
            return lowered
        return value

    @model_validator(mode="after")
    def _mix_concepts(self) -> Brief:
        if self.strategy is Strategy.MIX and len(self.concepts) == 1:
            raise ValueError("strategy 'mix' needs at least two concepts (or none, to let the model pick)")
        return self


MAX_PROBLEMS_SHOWN = 5
MAX_KEY_SHOWN = 60


def format_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's error list into one readable line naming each field, at most
    MAX_PROBLEMS_SHOWN problems and field names cut to MAX_KEY_SHOWN characters (a file that is no
    brief at all is not echoed back line by line)."""
    lines = []
    errors = exc.errors()
    for err in errors[:MAX_PROBLEMS_SHOWN]:
        where = ".".join(str(p) for p in err["loc"]) or "brief"
        if len(where) > MAX_KEY_SHOWN:
            where = where[:MAX_KEY_SHOWN] + "…"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {where!r} (not part of the brief)"
            lines.append(msg)
            continue
        msg = msg.removeprefix("Value error, ")
        lines.append(f"{where}: {msg}")
    if len(errors) > MAX_PROBLEMS_SHOWN:
        lines.append(f"and {len(errors) - MAX_PROBLEMS_SHOWN} more problems")
    return "; ".join(lines)


def parse_brief(data: Any) -> Brief:
    """Validate untrusted input into a Brief, raising InvalidBrief with a clear message."""
    if not isinstance(data, dict):
        raise InvalidBrief(f"a brief must be a mapping of fields, not {type(data).__name__}")
    try:
        return Brief.model_validate(data)
    except ValidationError as exc:
        raise InvalidBrief(format_validation_error(exc)) from None
