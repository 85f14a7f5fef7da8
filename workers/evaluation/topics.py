"""The eval's topic file: YAML `topics:`, each a `topic` and optionally its `known` common answers."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.errors import InvalidInput


class EvalTopic(BaseModel):
    """One topic of the eval; `known`: its well-known, common answers (for distance to the known)."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=3, max_length=500)
    known: list[str] = Field(default_factory=list, max_length=100)


class EvalTopics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[EvalTopic] = Field(min_length=1, max_length=100)


def load_topics(path: Path) -> list[EvalTopic]:
    """The topics of a YAML file (`topics: [{topic: ..., known: [...]}, ...]`).

    Raises InvalidInput (one line) when the file is missing, is not YAML, or has the wrong shape.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read topics file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"topics file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        return EvalTopics.model_validate(data).topics
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise InvalidInput(f"topics file {path}: {where}: {first['msg']}") from None
