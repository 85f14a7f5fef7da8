from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis

from agents.novelty.dedup import Action, Candidate, Source, assess
from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text
from tests.novelty.conftest import IDEA_BANDS
from workers.store.ledger import IdeaLedger, LedgerEntry, NewEntry

pytestmark = pytest.mark.integration
PREFIX = "iftest"


class CountingEmbedder:
    """Wraps the real embedder and counts texts, to see what is (not) re-embedded."""

    def __init__(self, inner: LocalMiniLMEmbedder) -> None:
        self.inner = inner
        self.texts = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def multilingual(self) -> bool:
        return self.inner.multilingual

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_entries_persist_across_ledger_instances(r: redis.Redis, embedder: LocalMiniLMEmbedder) -> None:
    first = IdeaLedger(r, embedder, prefix=PREFIX)
    e = first.add(
        "team-a",
        title="Balcony solar for renters",
        summary="Plug-in panels on balconies.",
        kind="shortlisted",
        run_id="run1",
        idea_id="i3",
    )
    first.add("team-b", title="Other team's idea", summary="Not visible to team-a.")
    later = IdeaLedger(r, embedder, prefix=PREFIX)  # e.g. tomorrow's run, another process
    listed = later.entries("team-a")
    assert [x.id for x in listed] == [e.id] and listed[0].run_id == "run1" and listed[0].idea_id == "i3"
    assert listed[0].model_id == embedder.model_id and listed[0].seq == 1
    assert later.namespaces() == ["team-a", "team-b"]
    raw = r.hget(f"{PREFIX}:ledger:team-a:vectors", e.id)
    assert raw is not None and len(raw) == 4 * embedder.dim
    # the same run/idea again updates the verdict instead of adding a copy
    again = later.add(
        "team-a",
        title="Balcony solar for renters",
        summary="Plug-in panels on balconies.",
        kind="rejected",
        run_id="run1",
        idea_id="i3",
        note="HOA rules forbid it",
    )
    assert again.id == e.id and later.entries("team-a", kind="rejected")[0].note == "HOA rules forbid it"
    assert len(later.entries("team-a")) == 1
    hits = later.search("team-a", "solar panels on the balcony of a rented flat", k=3)
    assert hits[0][0].id == e.id and hits[0][1] > 0.6 and len(hits) == 1


def test_rejected_idea_blocks_a_near_copy_in_a_later_run(
    r: redis.Redis, embedder: LocalMiniLMEmbedder
) -> None:
    IdeaLedger(r, embedder, prefix=PREFIX).add(
        "default",
        title="Smart pill bottle that texts family",
        summary="A pill bottle cap records each opening and texts a family member when a dose is missed.",
        kind="rejected",
        run_id="run-monday",
        idea_id="i2",
        note="already sold by three companies",
    )
    tonight = IdeaLedger(r, embedder, prefix=PREFIX)
    texts = [
        idea_text(
            "Smart pill bottle that texts the family",
            "A pill bottle cap logs each opening and sends a text to a family member when a dose is missed.",
        ),
        idea_text(
            "Prescribing gardening for loneliness",
            "Doctors prescribe community gardening sessions to isolated older patients.",
        ),
    ]
    decisions = assess(
        [Candidate("n1", texts[0]), Candidate("n2", texts[1])],
        embedder.embed(texts),
        embedder.model_id,
        {Source.LEDGER: tonight.index("default")},
        IDEA_BANDS,
    )
    blocked, kept = decisions
    assert blocked.action is Action.DROP and blocked.nearest is not None
    assert blocked.nearest.tag == "rejected" and blocked.nearest.ref.startswith("ledger:")
    assert "rejected" in blocked.reason and "ledger" in blocked.reason
    assert kept.action is Action.KEEP


def test_index_loads_lazily_and_incrementally(r: redis.Redis, embedder: LocalMiniLMEmbedder) -> None:
    writer = IdeaLedger(r, embedder, prefix=PREFIX)
    writer.add_many("ns", [NewEntry(f"Idea {i}", f"Summary number {i}.") for i in range(5)])
    counting = CountingEmbedder(embedder)
    reader = IdeaLedger(r, counting, prefix=PREFIX)
    assert len(reader.index("ns")) == 5
    assert counting.texts == 0  # vectors come from Redis, not re-embedded
    writer.add("ns", title="Idea 5", summary="Summary number 5.")
    ix = reader.index("ns")
    assert len(ix) == 6 and ix is reader.index("ns") and ix.keys[-1] == writer.entries("ns")[-1].id
    # an entry from another embedding model is stored but never enters this model's index
    alien = LedgerEntry(id="alien", namespace="ns", kind="accepted", title="x", model_id="openai:e3", seq=99)
    r.hset(f"{PREFIX}:ledger:ns:entries", "alien", alien.model_dump_json())
    r.hset(f"{PREFIX}:ledger:ns:vectors", "alien", np.ones(8, dtype="<f4").tobytes())
    r.zadd(f"{PREFIX}:ledger:ns:order", {"alien": 99})
    assert len(reader.index("ns")) == 6 and "alien" not in reader.index("ns")


def test_forget_removes_entry_and_cached_vector(r: redis.Redis, embedder: LocalMiniLMEmbedder) -> None:
    ledger = IdeaLedger(r, embedder, prefix=PREFIX)
    a = ledger.add("ns", title="Heat pumps rented by the degree", summary="Pay per degree-hour.")
    b = ledger.add("ns", title="Solar canopies over parking lots", summary="Shade cars and charge EVs.")
    other_process = IdeaLedger(r, embedder, prefix=PREFIX)
    assert len(other_process.index("ns")) == 2
    assert ledger.forget("ns", a.id) and not ledger.forget("ns", a.id)
    assert [e.id for e in ledger.entries("ns")] == [b.id] and ledger.get("ns", a.id) is None
    ix = other_process.index("ns")  # sees the forget through the epoch and reloads
    assert a.id not in ix and len(ix) == 1
    assert r.hget(f"{PREFIX}:ledger:ns:vectors", a.id) is None
    again = ledger.add("ns", title="Heat pumps rented by the degree", summary="Pay per degree-hour.")
    assert again.id != a.id and len(ledger.entries("ns")) == 2


def test_import_prior_art_files(r: redis.Redis, embedder: LocalMiniLMEmbedder, tmp_path: Path) -> None:
    ledger = IdeaLedger(r, embedder, prefix=PREFIX)
    md = tmp_path / "known.md"
    md.write_text("# Known\n- Ride sharing: people share cars\n- Meal-kit delivery subscriptions\n")
    txt = tmp_path / "known.txt"
    txt.write_text("Rooftop solar panels\nSmart thermostats\n")
    jl = tmp_path / "known.jsonl"
    jl.write_text('{"title": "Robo-advisors", "summary": "Automated portfolio management."}\n')
    assert ledger.import_file("field", md) == 2
    assert ledger.import_file("field", txt) == 2
    assert ledger.import_file("field", jl) == 1
    assert ledger.import_file("field", md) == 0  # idempotent
    entries = ledger.entries("field", kind="prior_art")
    assert [e.title for e in entries] == [
        "Ride sharing",
        "Meal-kit delivery subscriptions",
        "Rooftop solar panels",
        "Smart thermostats",
        "Robo-advisors",
    ]
    text = idea_text(
        "Weekly boxes of recipe ingredients",
        "Pre-portioned ingredients and recipe cards delivered to your door every week.",
    )
    [d] = assess(
        [Candidate("n", text)],
        embedder.embed([text]),
        embedder.model_id,
        {Source.PRIOR_ART: ledger.index("field")},
        IDEA_BANDS,
    )
    assert d.nearest is not None and d.nearest.text == "Meal-kit delivery subscriptions"
    assert ledger.search("field", "automatic investing service", k=1)[0][0].title == "Robo-advisors"
