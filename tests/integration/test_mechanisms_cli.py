"""A brief's mechanisms from the command line: `--without NAME` is stored with the run and shown."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ideaforge.cli import app


def test_submit_without_a_mechanism_records_it_and_show_says_so(env: dict[str, str]) -> None:
    runner = CliRunner()
    submitted = runner.invoke(
        app, ["submit", "Quiet libraries", "-q", "--without", "meta_review", "--without", "evolution"]
    )
    assert submitted.exit_code == 0, submitted.output
    run_id = submitted.stdout.strip()
    shown = runner.invoke(app, ["show", run_id, "--format", "json"])
    assert json.loads(shown.stdout)["mechanisms_off"] == ["meta_review", "evolution"]
    table = runner.invoke(app, ["show", run_id], env={"COLUMNS": "200"})
    assert "without: meta_review, evolution" in table.stdout
    bad = runner.invoke(app, ["submit", "Quiet libraries", "--without", "speed"])
    assert bad.exit_code == 2 and "unknown mechanism 'speed'" in bad.stderr
