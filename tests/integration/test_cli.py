"""The `ideaforge` command line, in-process (typer's runner) and through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import typer
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from ideaforge.cli import app
from tests.conftest import run_burst

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def nothing_stored(client: redis.Redis) -> bool:
    return client.dbsize() == 0


def test_submit_quiet_prints_only_the_run_id(settings: Settings, redis_client: redis.Redis) -> None:
    code, out, _ = cli("submit", "Ways to reduce food waste", "--quiet", "--rounds", "1")
    run_id = out.strip()
    assert code == 0 and len(run_id) == 12 and all(c in "0123456789abcdef" for c in run_id)
    assert redis_client.exists(f"ideaforge:run:{run_id}")


def test_runs_show_shortlist_json_have_documented_fields(settings: Settings, tmp_path: Path) -> None:
    _, out, _ = cli("submit", "Ways to reduce food waste", "-q", "--rounds", "1", "--deny", "composting")
    run_id = out.strip()
    run_burst(settings)
    code, out, _ = cli("runs", "--format", "json")
    runs = json.loads(out)
    assert code == 0 and runs[0]["id"] == run_id
    for field in (
        "id",
        "topic",
        "status",
        "created_at",
        "round",
        "phase",
        "ideas_alive",
        "tokens",
        "stop_reason",
    ):
        assert field in runs[0]
    assert runs[0]["status"] == "finished"
    code, out, _ = cli("shortlist", run_id, "--format", "json")
    shortlist = json.loads(out)
    assert code == 0 and shortlist["ideas"]
    assert {"novelty", "feasibility", "rationale", "objection", "rank"} <= set(shortlist["ideas"][0])
    target = tmp_path / "shortlist.md"
    code, _, _ = cli("shortlist", run_id, "--format", "md", "--out", str(target))
    text = target.read_text()
    assert code == 0 and text.startswith("# Shortlist: Ways to reduce food waste")
    assert "Skeptic's main objection" in text
    code, out, _ = cli("show", run_id, "--format", "json")
    assert code == 0 and json.loads(out)["deny"][0] == "composting"


def test_watch_prints_the_transcript_and_exits_when_the_run_is_over(settings: Settings) -> None:
    _, out, _ = cli("submit", "Ways to reduce food waste", "-q", "--rounds", "1")
    run_id = out.strip()
    run_burst(settings)
    code, out, _ = cli("watch", run_id, "--format", "json")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert {e["role"] for e in events} >= {"generator", "skeptic", "judge", "system"}
    assert "run stopped: rounds_done" in events[-1]["content"]


def test_brief_file_is_read_and_options_override_it(settings: Settings, tmp_path: Path) -> None:
    brief = tmp_path / "brief.yaml"
    brief.write_text(
        "topic: Reduce food waste\nstrategy: mix\nconcepts: [auction theory, tides]\nrounds: 3\n"
    )
    code, out, _ = cli("submit", "--file", str(brief), "--rounds", "1", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["brief"]["strategy"] == "mix" and data["brief"]["rounds"] == 1
    assert data["brief"]["concepts"] == ["auction theory", "tides"]


def _write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", ""], "topic must not be empty"),
        (["submit", "   "], "topic must not be empty"),
        (["submit", "x" * 5000], "limit is 2000"),
        (["submit", "ok topic", "--strategy", "telepathy"], "unknown strategy 'telepathy'"),
        (["submit", "ok topic", "--rounds", "0"], "rounds"),
        (["submit", "ok topic", "--rounds", "1000000"], "rounds"),
        (["submit", "ok topic", "--ideas", "99"], "ideas_per_round"),
        (["submit", "--file", "/nonexistent/brief.yaml"], "cannot read brief file"),
        (["submit"], "a topic is required"),
        (["shortlist", "nosuchrun"], "no run with id 'nosuchrun'"),
        (["watch", "nosuchrun"], "no run with id 'nosuchrun'"),
        (["cancel", "nosuchrun"], "no run with id 'nosuchrun'"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_2_and_stores_nothing(
    settings: Settings, redis_client: redis.Redis, args: list[str], message: str
) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out
    assert nothing_stored(redis_client)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"topic: [unclosed", "not valid YAML/JSON"),
        (b"- just\n- a list\n", "must hold a mapping"),
        (b"topic: caf\xe9\n", "not valid UTF-8"),
        (b"topic: t\nwibble: 1\n", "unknown key 'wibble'"),
        (b"topic: t\ndeny: composting\n", "deny"),
    ],
)
def test_bad_brief_files(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path, content: bytes, message: str
) -> None:
    code, _, err = cli("submit", "--file", _write(tmp_path, "brief.yaml", content))
    assert code == 2 and message in err
    assert nothing_stored(redis_client)


def test_cancelling_a_finished_run_is_refused(settings: Settings) -> None:
    _, out, _ = cli("submit", "Ways to reduce food waste", "-q", "--rounds", "1")
    run_burst(settings)
    code, _, err = cli("cancel", out.strip())
    assert code == 2 and "already stopped (finished)" in err


def test_unreachable_redis_says_where_it_tried(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDEAFORGE_REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    get_settings.cache_clear()
    code, _, err = cli("runs")
    assert code == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1:1/0" in err
    assert "hunter2" not in err


def test_run_command_end_to_end_through_the_real_entry_point(
    env: dict[str, str], redis_client: redis.Redis
) -> None:
    """`ideaforge run` submits, spawns its own workers, follows the run and prints the shortlist."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ideaforge",
            "run",
            "Ways to reduce food waste",
            "--rounds",
            "1",
            "--workers",
            "1",
            "--format",
            "json",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = lines.index("{")
    events = [json.loads(line) for line in lines[:start]]
    shortlist = json.loads("\n".join(lines[start:]))
    assert {e["role"] for e in events} >= {"generator", "skeptic", "judge"}
    assert shortlist["status"] == "finished" and shortlist["ideas"]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("word", "stored"), [("accept", "accepted"), ("rejected", "rejected"), ("ACCEPT", "accepted"), ("Rejected", "rejected")]
)
def test_verdict_takes_either_tense_and_prints_the_past_tense(
    settings: Settings, word: str, stored: str
) -> None:
    _, out, _ = cli("submit", "Ways to reduce food waste", "-q", "--rounds", "1", "--ideas", "1")
    run_id = out.strip()
    run_burst(settings)
    code, out, err = cli("verdict", run_id, "i1", word, "--note", "why not")
    assert code == 0, err
    assert f"i1 of run {run_id}: {stored} " in out
    code, out, _ = cli("show", run_id, "--format", "json")
    [idea] = [i for i in json.loads(out)["ideas"] if i["id"] == "i1"]
    assert idea["verdict"]["decision"] == stored and idea["verdict"]["note"] == "why not"


def test_submit_and_run_share_the_nine_brief_options() -> None:
    def options(command: str) -> list[str]:
        params = next(c for c in typer.main.get_command(app).commands.values() if c.name == command).params
        return [p.name for p in params if p.name]

    brief = ["topic", "strategy", "rounds", "ideas", "deny", "concepts", "model", "file", "namespace"]
    assert options("submit")[:9] == brief and options("run")[:9] == brief
    assert options("submit")[9:] == ["quiet", "fmt"] and options("run")[9:] == ["workers", "fmt"]


HEAVY = ("openai", "autogen_core", "autogen_ext", "autogen_agentchat", "numpy", "onnxruntime", "uvicorn")


def test_importing_the_cli_loads_no_model_client_numpy_or_server() -> None:
    """`ideaforge --help` and `ideaforge runs` must not pay for what only some commands need."""
    code = f"import sys, ideaforge.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
