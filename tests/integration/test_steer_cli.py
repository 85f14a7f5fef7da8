"""`ideaforge steer RUN --note/--idea/--author`: stored for the next Generator turn; bad input exit 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from config.settings import Settings
from ideaforge.cli import app
from tests.conftest import run_burst
from workers.api import Ideaforge

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def submit(settings: Settings) -> str:
    return Ideaforge(settings).submit({"topic": "Ways to reduce food waste", "rounds": 2})


def test_steer_stores_a_note_and_an_idea_by_its_author(settings: Settings) -> None:
    run_id = submit(settings)
    code, out, err = cli(
        "steer",
        run_id,
        "--note",
        "Cheap ideas only",
        "--idea",
        "Tray tax: a 10 cent charge per tray",
        "--author",
        "ann",
    )
    assert code == 0, err
    assert "s1 note by human:ann: Cheap ideas only" in out and "s2 idea by human:ann: Tray tax" in out
    state = Ideaforge(settings).get_run(run_id)
    assert [(s.kind, s.text, s.title, s.summary) for s in state.steers] == [
        ("note", "Cheap ideas only", "", ""),
        ("idea", "", "Tray tax", "a 10 cent charge per tray"),  # split at the first colon
    ]
    code, out, _ = cli("steer", run_id, "--note", "More", "--format", "json")
    assert code == 0 and json.loads(out)[0]["id"] == "s3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs a note, an idea"),
        (["--idea", "no colon here"], "--idea is 'TITLE: SUMMARY'"),
        (["--idea", "Title:   "], "--idea is 'TITLE: SUMMARY'"),
        (["--note", "x" * 1001], "1001 characters; at most 1000"),
        (["--note", "hi", "--author", "ann;rm -rf"], "author"),
        (["--note", "pay \u202eroc\u202c me"], "bidirectional control character ('\\u202e')"),
        (["--idea", "Tray\u2066 tax: cheap"], "bidirectional control character ('\\u2066')"),
        (["--note", "x", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_bad_steers_exit_2_with_one_line_and_store_nothing(
    settings: Settings, args: list[str], message: str
) -> None:
    run_id = submit(settings)
    code, out, err = cli("steer", run_id, *args)
    assert code == 2 and message in err
    assert "Traceback" not in out + err and len(err.strip().splitlines()) == 1
    assert Ideaforge(settings).get_run(run_id).steers == []


def test_an_unknown_or_stopped_run_exits_2(settings: Settings) -> None:
    code, _, err = cli("steer", "0" * 26, "--note", "hi")
    assert code == 2 and "no run with id" in err
    run_id = Ideaforge(settings).submit(
        {"topic": "Ways to reduce food waste", "rounds": 1, "ideas_per_round": 1}
    )
    run_burst(settings)
    code, _, err = cli("steer", run_id, "--note", "hi")
    assert code == 2 and f"run {run_id} already stopped (finished)" in err


def test_an_empty_author_is_anonymous_as_over_http(settings: Settings) -> None:
    """The new-user report: `--author ""` stored the login name, HTTP `"author": ""` anonymous."""
    run_id = submit(settings)
    code, _, err = cli("steer", run_id, "--note", "hi", "--author", "")
    assert code == 0, err
    over_http = Ideaforge(settings).steer(run_id, note="hi too", author="")
    assert [s.author for s in Ideaforge(settings).get_run(run_id).steers] == ["human:anonymous"] * 2
    assert over_http[0].author == "human:anonymous"
