"""Turn CLI options and brief files (YAML or JSON, same shape as the queue's JSON brief) into a Brief;
read the text files a person names on the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from agents.brief import Brief, Mechanisms, parse_brief
from agents.errors import InvalidBrief, InvalidInput


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message spans several lines with a code excerpt; keep one line: what and where."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def read_text_file(path: Path, what: str, error: type[InvalidInput]) -> str:
    """The UTF-8 text (a BOM dropped) of a file a person named, or of standard input when the path
    is `-`. Raises `error` with one line naming `what` and the path when it cannot be read or decoded."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not valid UTF-8 (byte {exc.start}: {exc.reason})") from None


def read_brief_file(path: Path) -> dict[str, Any]:
    """A brief file, or standard input when the path is `-`."""
    text = read_text_file(path, "brief file", InvalidBrief)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidBrief(f"brief file {path} is not valid YAML/JSON: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise InvalidBrief(f"brief file {path} is nested too deeply to be a brief") from None
    if not isinstance(data, dict):
        raise InvalidBrief(
            f"brief file {path} must hold a mapping of brief fields, not {type(data).__name__}"
        )
    return data


def build_brief(
    topic: str | None,
    *,
    file: Path | None = None,
    strategy: str | None = None,
    rounds: int | None = None,
    ideas: int | None = None,
    deny: list[str] | None = None,
    concepts: list[str] | None = None,
    model: str | None = None,
    namespace: str | None = None,
    without: list[str] | None = None,
) -> Brief:
    """Options given on the command line override the file's fields; each name in `without` switches
    that mechanism off on top of the file's `mechanisms`. Raises InvalidBrief (one line)."""
    data: dict[str, Any] = read_brief_file(file) if file else {}
    if without:
        unknown = [n for n in without if n not in Mechanisms.model_fields]
        if unknown:
            known = ", ".join(Mechanisms.model_fields)
            raise InvalidBrief(f"--without: unknown mechanism {unknown[0]!r}; known: {known}")
        given = data.get("mechanisms")
        data["mechanisms"] = {**(given if isinstance(given, dict) else {}), **{n: False for n in without}}
    overrides = {
        "topic": topic,
        "strategy": strategy,
        "rounds": rounds,
        "ideas_per_round": ideas,
        "deny": deny or None,
        "concepts": concepts or None,
        "model": model,
        "namespace": namespace,
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    if "topic" not in data:
        raise InvalidBrief("a topic is required (as the argument or in the brief file)")
    return parse_brief(data)
