"""The few structural markers of our requests, and how to read them back.

The request builders place these markers, and a fake model (`ideaforge.devtools.fake_openai`)
reads details back through the parsers below (how many ideas, which idea ids and titles, the two
ideas of a match), so a change of wording here changes both sides at once. What KIND of answer a
request wants is never read from text: it is the request's JSON schema (`response_format`, or the
schema hint appended for servers that ignore `response_format`).
"""

from __future__ import annotations

import json
import re
from typing import Any

IDEA_TAG = '<idea id="{id}">'  # opens an idea's data block; `{id}` is the idea id (i1, i2, ...)
IDEA_END = "</idea>"
TITLE_LINE = "Title: {title}"  # the first line inside an idea block
COUNT_PHRASE = "Propose exactly {count} new, original ideas."  # ends a Generator request
FIRST_IDEA = "Idea A"  # heads the first idea of a pairwise question (same idea? which is better?)
SECOND_IDEA = "Idea B"
SCHEMA_HINT = "JSON schema of the answer: "  # followed by the schema, for servers without response_format


def _pattern(template: str, name: str, group: str) -> re.Pattern[str]:
    """A regex for `template` with its `{name}` placeholder captured by `group`."""
    return re.compile(re.escape(template).replace(re.escape("{" + name + "}"), group))


def requested_count(text: str) -> int | None:
    """The number of ideas a Generator request asks for (None if it names none)."""
    match = _pattern(COUNT_PHRASE, "count", r"(\d+)").search(text)
    return int(match.group(1)) if match else None


def idea_ids(text: str) -> list[str]:
    """The ids of the idea blocks in a request, in order."""
    return _pattern(IDEA_TAG, "id", r"([^\"]+)").findall(text)


def first_title(text: str) -> str | None:
    """The title of the first idea block in a request (None if it has none)."""
    match = _pattern(TITLE_LINE, "title", r"(.*)").search(text)
    return match.group(1) if match else None


def idea_pair(first: str, second: str, first_note: str = "", second_note: str = "") -> str:
    """Two ideas under their `FIRST_IDEA` / `SECOND_IDEA` headers; a note goes in parentheses."""
    a = f"{FIRST_IDEA} ({first_note})" if first_note else FIRST_IDEA
    b = f"{SECOND_IDEA} ({second_note})" if second_note else SECOND_IDEA
    return f"{a}:\n{first.strip()}\n\n{b}:\n{second.strip()}\n\n"


def two_ideas(text: str) -> tuple[str, str]:
    """The two idea texts of an `idea_pair` block, or ("", "") when there is none."""
    pattern = re.escape(FIRST_IDEA) + r"[^:\n]*:\n(.*?)\n\n" + re.escape(SECOND_IDEA) + r"[^:\n]*:\n(.*?)\n\n"
    match = re.search(pattern, text, re.S)
    return (match.group(1), match.group(2)) if match else ("", "")


def schema_text(schema: dict[str, Any]) -> str:
    """The compact JSON of an answer schema as requests show it, capped at 1,500 characters (prompt size)."""
    return json.dumps(schema, separators=(",", ":"))[:1500]


def schema_hint(text: str) -> dict[str, Any] | None:
    """The answer schema appended by `requests.with_schema`, or None (absent, or cut off by the cap)."""
    start = text.rfind(SCHEMA_HINT)
    if start == -1:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start + len(SCHEMA_HINT) :])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
