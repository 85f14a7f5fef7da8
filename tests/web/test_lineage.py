"""Evolution end to end: a 2-round brainstorm on a real `ideaforge worker` process, read back over
HTTP (uvicorn), with the fake model; lineage (operator, parents) and clusters in the run state,
the API's run detail, the shortlist and the run page."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import httpx
from typer.testing import CliRunner

from agents.state import RunStatus
from config.settings import Settings
from ideaforge.cli import app
from tests.conftest import run_burst
from tests.web.conftest import wait_until
from workers.api import Ideaforge

BRIEF = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 2, "ideas_per_round": 3}


def _finished(client: httpx.Client, run_id: str) -> dict[str, object]:
    run: dict[str, object] = client.get(f"/runs/{run_id}").json()
    return run if run["terminal"] else {}


def test_round_two_combines_survivors_of_two_clusters_and_the_api_shows_the_lineage(
    client: httpx.Client, settings: Settings, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    created = client.post("/runs", json=BRIEF)
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    start_worker()
    run = wait_until(lambda: _finished(client, run_id), timeout=120, what="the run to stop")
    assert isinstance(run, dict) and run["status"] == "finished", run

    state = Ideaforge(settings).get_run(run_id)
    combined = [i for i in state.ideas if i.operator == "combine"]
    assert len(combined) == 1 and combined[0].round == 2
    first, second = (state.idea(p) for p in combined[0].parents)
    assert first.round == second.round == 1 and first.cluster != second.cluster
    assert all(p.cluster is not None for p in (first, second))
    assert [i.operator for i in state.ideas if i.round == 1] == ["new"] * 3
    assert {i.operator for i in state.ideas if i.round == 2} >= {"combine", "simplify"}
    # it survived, and the rank phase matched it with both its parents (lineage first)
    assert combined[0].alive and combined[0].score is not None
    assert {first.id, second.id} <= set(combined[0].opponents)

    api = {i["id"]: i for i in run["ideas"]}  # type: ignore[attr-defined]
    for idea in state.ideas:
        shown = api[idea.id]
        assert (shown["operator"], shown["parents"], shown["cluster"]) == (
            idea.operator,
            idea.parents,
            idea.cluster,
        )
    assert api[combined[0].id]["origin"] == "evolved"
    shortlist = client.get(f"/runs/{run_id}/shortlist").json()
    for entry in shortlist["ideas"]:
        assert (entry["operator"], entry["parents"]) == (
            api[entry["idea_id"]]["operator"],
            api[entry["idea_id"]]["parents"],
        )
    page = client.get(f"/ui/runs/{run_id}").text
    assert f"combine of {' + '.join(combined[0].parents)}" in page
    shown = CliRunner().invoke(app, ["show", run_id])
    assert shown.exit_code == 0, shown.stderr
    assert f"(combine of {' + '.join(combined[0].parents)}, cluster {combined[0].cluster})" in " ".join(
        shown.stdout.split()  # the console wraps long lines
    )


def test_with_evolution_off_rounds_only_improve(settings: Settings) -> None:
    """The brief's `mechanisms.evolution: false`: no combine or simplify (in-process SimpleWorker)."""
    forge = Ideaforge(settings)
    run_id = forge.submit({**BRIEF, "mechanisms": {"evolution": False}})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    assert {i.operator for i in state.ideas} <= {"new", "improve"}
    assert any(i.operator == "improve" for i in state.ideas if i.round == 2)
    assert sum(1 for i in state.ideas if i.round == 2) == state.round_stats(2).generated
