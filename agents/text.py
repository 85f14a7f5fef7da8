"""Untrusted text (people's steers, model answers, topics) written into Markdown (shared vocabulary).

Every Markdown writer (`ideaforge shortlist --format md`, the digest, eval.md, arms.md) passes each
untrusted field through `md_text`, so a title cannot inject HTML (`<script>`, `<img onerror=...>`)
into a viewer that renders Markdown's inline HTML, nor break the document's structure (a heading, a
table row, a list item of its own). Standard library only, like the rest of the vocabulary.
"""

from __future__ import annotations

import re

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that start emphasis,
# code, links, headings, table cells or HTML (the HTML three become entities instead)
_MARKDOWN = re.compile(r"([\\`*_\[\]|#])")


def md_text(text: str | None) -> str:
    """`text` as one line of literal Markdown text: `&`, `<`, `>` as HTML entities; `\\ ` * _ [ ] | #`
    backslash-escaped (CommonMark 0.31 §2.4); every run of whitespace, line breaks included, one
    space (a line break could start a heading or end a table row). None gives ""."""
    if not text:
        return ""
    flat = " ".join(text.split())
    flat = _MARKDOWN.sub(r"\\\1", flat)
    return "".join(_HTML.get(c, c) for c in flat)


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Unicode's explicit bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069;
UAX #9 §2.1-2.4): in a title or a note they can make displayed text read other than it is stored
("Trojan Source", CVE-2021-42574), so input that holds one is refused like a control character."""


def first_bidi_control(text: str) -> str | None:
    """The first character of `text` in `BIDI_CONTROLS`, or None."""
    return next((c for c in text if c in BIDI_CONTROLS), None)
