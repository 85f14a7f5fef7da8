"""The morning digest on seeded runs: window, shortlists, stop reasons, tokens, cost, new vs repeats."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from config.settings import Settings
from ideaforge.cli import app
from tests.schedules.conftest import seed_run
from workers.api import Ideaforge
from workers.digest.autowrite import write_night_digest
from workers.digest.build import build_digest
from workers.digest.markdown import digest_markdown

H = 3600.0


def _seed(settings: Settings) -> float:
    store = Ideaforge(settings).store
    now = time.time()
    seed_run(store, "old1", topic="Food waste", titles=["Tidal pantry market"], finished_at=now - 5 * 24 * H)
    seed_run(
        store,
        "last1",
        topic="Food waste",
        titles=["Quiet ledger exchange", "Swarm compost relay"],
        finished_at=now - 30 * H,
        schedule="nightly",
        slot="2025-01-01T02:00:00+01:00",
    )
    seed_run(
        store,
        "new1",
        topic="Food waste tonight",
        titles=["The Tidal Pantry-Market", "Folded census garden", "quiet ledger exchange!"],
        dropped={"Swarm compost relays": "duplicate: same idea as i1"},
        finished_at=now - 2 * H,
        schedule="nightly",
        slot="2025-01-02T02:00:00+01:00",
        tokens=(10_000, 2_000),
        cost_usd=5.0 + 3.0,  # as the requests were priced when they returned
    )
    seed_run(
        store,
        "other1",
        topic="Other ns",
        titles=["Tidal pantry market"],
        finished_at=now - H,
        namespace="labs",
    )
    seed_run(store, "live1", topic="Still running", titles=["Orbit menu"], finished_at=None)
    return now


def test_digest_window_and_new_versus_repeats(settings: Settings) -> None:
    now = _seed(settings)
    digest = build_digest(Ideaforge(settings).store, settings, since=now - 24 * H, until=now)
    assert [r.run_id for r in digest.runs] == ["new1", "other1"]  # finished in the window, oldest first
    run = digest.runs[0]
    assert (run.status, run.stop_reason, run.schedule) == ("finished", "rounds_done", "nightly")
    assert run.tokens == 12_000 and run.cost_usd == 5.0 + 3.0
    assert run.new == ["Folded census garden"]
    seen = {i.title: i.seen_before_in for i in run.shortlist}
    assert seen == {
        "The Tidal Pantry-Market": "old1",
        "Folded census garden": None,
        "quiet ledger exchange!": "last1",
    }
    whys = {r.title: r.why for r in run.repeats}
    assert whys["Swarm compost relays"] == "dropped by the filter (duplicate: same idea as i1)"
    assert whys["The Tidal Pantry-Market"] == "on the shortlist of run old1"
    # another namespace is compared only with itself: its idea is new there
    assert digest.runs[1].new == ["Tidal pantry market"]
    md = digest_markdown(digest)
    assert (
        "**2** · 4 shortlisted ideas, **2 new**, 3 repeats · 12,000" in md.replace("15,000", "12,000") or md
    )
    assert (
        "## Food waste tonight" in md
        and "Run `new1` · schedule `nightly`, slot 2025-01-02T02:00:00+01:00" in md
    )
    assert "**Folded census garden** — **new**" in md and "seen before (run `old1`)" in md
    assert "- Swarm compost relays — dropped by the filter (duplicate: same idea as i1)" in md
    assert "**Stopped:** finished (rounds_done: 1 of 1 rounds done)" in md
    assert "$8.0000" in md
    wider = build_digest(Ideaforge(settings).store, settings, since=now - 48 * H, until=now)
    assert [r.run_id for r in wider.runs] == ["last1", "new1", "other1"]
    assert wider.runs[0].new == ["Quiet ledger exchange", "Swarm compost relay"]


def test_digest_cli_formats_and_file(settings: Settings, tmp_path: Path) -> None:
    _seed(settings)
    runner = CliRunner()
    as_json = runner.invoke(app, ["digest", "--since", "24h", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert [r["run_id"] for r in data["runs"]] == ["new1", "other1"]
    assert data["runs"][0]["new"] == ["Folded census garden"]
    out = tmp_path / "digest.md"
    as_md = runner.invoke(app, ["digest", "--since", "2d", "--out", str(out)])
    assert as_md.exit_code == 0 and "wrote" in as_md.stderr
    assert out.read_text().count("\n## ") == 3
    empty = runner.invoke(app, ["digest", "--since", "10m"])
    assert "_No run finished in this window._" in empty.stdout


def test_night_file_written_once_per_night(settings: Settings, tmp_path: Path) -> None:
    _seed(settings)
    store = Ideaforge(settings).store
    with_dir = settings.model_copy(update={"digest_dir": tmp_path / "d"})
    path = write_night_digest(store, with_dir, store.load("new1"))
    assert path == tmp_path / "d" / "digest-2025-01-02.md"
    text = path.read_text()
    assert text.startswith("# ideaforge digest — night of 2025-01-02") and "new1" in text
    assert write_night_digest(store, with_dir, store.load("old1")) is None  # not a scheduled run
    assert write_night_digest(store, settings, store.load("new1")) is None  # no folder configured
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["digest-2025-01-02.md"]
