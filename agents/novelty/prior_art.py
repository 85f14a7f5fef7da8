"""Parse a prior-art corpus (known ideas of a field) into (title, summary) entries, offline.

Formats (chosen by suffix, or sniffed):
- JSONL (`.jsonl`): one object per line with `title` and optional `summary` (or `text`).
- Markdown (`.md`, `.markdown`): each bullet (`-`, `*`, `+`, `1.`) is an entry; a heading followed by
  a paragraph is an entry (heading = title, paragraph = summary); a heading over bullets is a section.
- Plain text (anything else): one entry per non-empty line; `#` lines are comments.
In bullets and lines, `Title: summary`, `Title — summary` or `**Title** summary` split title from summary.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel

_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*\S)\s*$")
_BOLD = re.compile(r"^\*\*(.+?)\*\*[\s:.\-—–]*(.*)$")
_SPLIT = re.compile(r"^(.{3,100}?)(?::\s+|\s+[—–-]\s+)(.+)$")


class PriorArtItem(BaseModel):
    title: str
    summary: str = ""


def _split(text: str) -> PriorArtItem:
    text = text.strip()
    bold = _BOLD.match(text)
    if bold:
        return PriorArtItem(title=bold.group(1).strip(), summary=bold.group(2).strip())
    parts = _SPLIT.match(text)
    if parts:
        return PriorArtItem(title=parts.group(1).strip(), summary=parts.group(2).strip())
    return PriorArtItem(title=text)


def parse_jsonl(text: str) -> list[PriorArtItem]:
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {n}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict) or not str(obj.get("title") or obj.get("text") or "").strip():
            raise ValueError(f"line {n}: needs an object with a non-empty 'title'")
        title = str(obj.get("title") or obj.get("text")).strip()
        summary = str(obj.get("summary") or "").strip() if obj.get("title") else ""
        items.append(PriorArtItem(title=title, summary=summary))
    return items


def parse_markdown(text: str) -> list[PriorArtItem]:
    items: list[PriorArtItem] = []
    heading: str | None = None
    para: list[str] = []

    def flush() -> None:
        nonlocal heading, para
        if heading is not None and para:
            items.append(PriorArtItem(title=heading, summary=" ".join(para)))
        heading, para = None, []

    for line in text.splitlines():
        if m := _HEADING.match(line):
            flush()
            heading = m.group(1)
        elif m := _BULLET.match(line):
            flush()
            items.append(_split(m.group(1)))
        elif line.strip():
            if heading is not None:
                para.append(line.strip())
            elif items and line.startswith((" ", "\t")):  # a bullet's continuation line
                last = items[-1]
                items[-1] = PriorArtItem(title=last.title, summary=f"{last.summary} {line.strip()}".strip())
            else:
                items.append(_split(line))
        elif para:
            flush()
    flush()
    return items


def parse_text(text: str) -> list[PriorArtItem]:
    return [_split(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def parse_prior_art(text: str, filename: str = "") -> list[PriorArtItem]:
    """Entries of a corpus; the format follows the file's suffix, else it is sniffed."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".jsonl" or (not suffix and text.lstrip().startswith("{")):
        return parse_jsonl(text)
    if suffix in {".md", ".markdown"} or (not suffix and re.search(r"^\s*(#{1,6}|[-*+])\s", text, re.M)):
        return parse_markdown(text)
    return parse_text(text)
