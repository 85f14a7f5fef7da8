"""Untrusted text in every Markdown writer: no raw HTML, no structure of its own (`agents.text.md_text`)."""

from __future__ import annotations

from agents.shortlist import Shortlist, ShortlistEntry
from agents.text import md_text
from ideaforge.render import shortlist_markdown
from workers.digest.build import Digest, DigestIdea, DigestRun, Repeat
from workers.digest.markdown import digest_markdown

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)> & co"
FORGED = "fine\n## forged heading | cell"


def test_md_text_turns_html_into_entities_and_markdown_control_into_literal_text() -> None:
    assert md_text(EVIL) == (
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &amp; co"
    )
    assert md_text(FORGED) == r"fine \#\# forged heading \| cell"
    assert md_text("a_b *c* [d](e) `f` \\") == r"a\_b \*c\* \[d\](e) \`f\` \\"
    assert md_text(None) == ""


def _entry(title: str) -> ShortlistEntry:
    return ShortlistEntry(
        rank=1, idea_id="i1", title=title, summary=FORGED, round=1, origin="fresh", novelty=5,
        feasibility=5, combined=5.0, elo=1000, matches=0, rationale=EVIL, objection=EVIL,
    )


def test_the_shortlist_markdown_carries_no_raw_html_and_no_forged_heading() -> None:
    """The new-user report: `shortlist --format md` printed `## 4. <script>...` from a steered idea."""
    sl = Shortlist(
        run_id="r1", topic=EVIL, status="failed", stop_reason="error", stop_detail=EVIL, ranked_by="elo",
        generated=1, dropped=0, created_at=0.0, ideas=[_entry(EVIL)],
    )
    md = shortlist_markdown(sl)
    assert "<script>" not in md and "<img" not in md
    assert "## 1. &lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert [line for line in md.splitlines() if line.startswith("#")] == [
        f"# Shortlist: {md_text(EVIL)}", f"## 1. {md_text(EVIL)}"
    ]


def test_the_digest_markdown_carries_no_raw_html_and_no_forged_heading() -> None:
    idea = DigestIdea(
        rank=1, idea_id="i1", title=EVIL, summary=FORGED, novelty=5, feasibility=5, combined=5.0,
        objection=EVIL, new=True,
    )
    run = DigestRun(
        run_id="r1", topic=EVIL, strategy="restrict", schedule=None, slot=None, status="finished",
        stop_reason="rounds_done", stop_detail=EVIL, created_at=0.0, finished_at=0.0, rounds=1, tokens=1,
        tokens_by_role={}, cost_usd=0.0, generated=1, shortlist=[idea], new=[EVIL],
        repeats=[Repeat(title=EVIL, why=FORGED)],
    )
    digest = Digest(generated_at=0.0, since=0.0, until=0.0, runs=[run], totals={
        "runs": 1, "shortlisted": 1, "new": 1, "repeats": 1, "tokens": 1, "cost_usd": 0.0
    })
    md = digest_markdown(digest)
    assert "<script>" not in md and "<img" not in md
    assert [line for line in md.splitlines() if line.startswith("## ")] == [f"## {md_text(EVIL)}"]
