"""The `ideaforge` command line, in-process (typer's runner) and through the real entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import typer
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from ideaforge.cli import app
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
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


def test_submit_and_run_share_the_ten_brief_options() -> None:
    def options(command: str) -> list[str]:
        params = next(c for c in typer.main.get_command(app).commands.values() if c.name == command).params
        return [p.name for p in params if p.name]

    brief = ["topic", "strategy", "rounds", "ideas", "deny", "concepts", "model", "file", "namespace", "without"]
    assert options("submit")[:10] == brief and options("run")[:10] == brief
    assert options("submit")[10:] == ["quiet", "fmt"] and options("run")[10:] == ["workers", "fmt"]


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


class RunProcess:
    """`ideaforge run --format json` as a terminal runs it: its own process group, which a Ctrl-C
    (SIGINT to the group) reaches whole; stdout lines collected as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ideaforge",
                "run",
                "Ways to reduce food waste",
                "--format",
                "json",
                *args,
            ],
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, check: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline, self.lines
            time.sleep(0.05)

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float) -> tuple[int, str]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            pytest.fail(f"`ideaforge run` hung after Ctrl-C: {self.lines}")
        self.reader.join(5)
        assert self.proc.stderr is not None
        return self.proc.returncode, self.proc.stderr.read()

    def run_id(self) -> str:
        return str(json.loads(self.lines[0])["run_id"])


def _worker_pids(client: redis.Redis) -> list[int]:
    return [int(client.hget(key, "pid") or 0) for key in client.smembers("rq:workers")]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].startswith("Z")  # a zombie left to init is gone
    except FileNotFoundError:
        return True


def test_ctrl_c_cancels_the_run_the_turn_in_flight_finishes_and_the_shortlist_prints(
    env: dict[str, str], redis_client: redis.Redis, fake_model: FakeModelServer
) -> None:
    fake_model.set_latency(300)
    run = RunProcess(env, "--rounds", "5", "--workers", "2", "--deny", "composting")
    run.wait_for(lambda: any('"role":"skeptic"' in line for line in run.lines))  # mid-run
    pids = _worker_pids(redis_client)
    assert len(pids) == 2
    run.ctrl_c()
    code, err = run.finish(timeout=60)
    assert code == 130, err
    assert "interrupted: cancelling run" in err and "Traceback" not in err
    start = run.lines.index("{")
    shortlist = json.loads("\n".join(run.lines[start:]))
    assert shortlist["status"] == "cancelled" and shortlist["stop_reason"] == "cancelled"
    events = [json.loads(line) for line in run.lines[:start]]
    assert len({(e["step"], e["ts"], e["content"]) for e in events}) == len(events)  # none printed twice
    assert events[-1]["content"].startswith("run stopped: cancelled")
    state = json.loads(redis_client.get(f"ideaforge:run:{shortlist['run_id']}") or b"{}")
    assert state["status"] == "cancelled" and state["round"] < 5
    # the turn in flight finished: every step up to the stop left its events, none was lost
    steps = sorted({e["step"] for e in events})
    assert steps == list(range(steps[0], steps[-1] + 1))
    assert all(_gone(pid) for pid in pids) and not redis_client.smembers("rq:workers")


@pytest.mark.parametrize("stop", ["second-ctrl-c", "SIGTERM", "SIGHUP"])
def test_stopping_run_at_once_leaves_nothing_running_and_the_run_cancelled(
    env: dict[str, str], redis_client: redis.Redis, fake_model: FakeModelServer, stop: str
) -> None:
    """A second Ctrl-C, SIGTERM (a supervisor) or SIGHUP (the terminal closed) stops at once. Before,
    SIGHUP left the workers (in their own session) running forever, and SIGTERM or a second Ctrl-C
    left the run `running`/`queued` on a queue nothing served."""
    fake_model.set_latency(30_000)  # the turn in flight would take 30 s
    run = RunProcess(env, "--rounds", "2", "--workers", "1", "--deny", "composting")
    run.wait_for(lambda: fake_model.state.requests["total"] >= 1)  # a worker is in the turn
    pids = _worker_pids(redis_client)
    if stop == "second-ctrl-c":
        run.ctrl_c()
        time.sleep(1)
        run.ctrl_c()
    else:
        run.proc.send_signal(getattr(signal, stop))  # to `ideaforge run` alone, as a supervisor would
    started = time.monotonic()
    code, err = run.finish(timeout=20)
    assert time.monotonic() - started < 10
    assert code == (130 if stop == "second-ctrl-c" else 128 + getattr(signal, stop)), err
    run_id = run.run_id()
    assert "Traceback" not in err
    assert f"stopped at once ({'a second Ctrl-C' if stop == 'second-ctrl-c' else stop}): run {run_id} cancelled at step 0" in err, err
    assert "its turn in flight was abandoned" in err
    assert pids and all(_gone(pid) for pid in pids)
    state = json.loads(redis_client.get(f"ideaforge:run:{run_id}") or b"{}")
    assert state["status"] == "cancelled" and state["stop_reason"] == "cancelled"
    assert redis_client.get(f"ideaforge:run:{run_id}:shortlist") is not None  # every stop writes one


def test_run_serves_its_run_on_a_queue_of_its_own(
    env: dict[str, str], redis_client: redis.Redis, fake_model: FakeModelServer
) -> None:
    """A worker already on the shared queue, with another endpoint (a dead one here), takes no turn
    of `ideaforge run`'s run: the run's own workers serve it all, so it finishes."""
    fake_model.set_latency(50)
    stranger = subprocess.Popen(
        [sys.executable, "-m", "ideaforge", "worker", "--quiet"],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT), "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not redis_client.smembers("rq:workers") and time.monotonic() < deadline:
            time.sleep(0.1)
        run = RunProcess(env, "--rounds", "2", "--workers", "1", "--deny", "composting")
        code, err = run.finish(timeout=180)
        assert code == 0, err
        events = [json.loads(line) for line in run.lines[: run.lines.index("{")]]
        assert not [e for e in events if e["kind"] == "error"]
        assert {e["role"] for e in events} >= {"generator", "skeptic", "judge"}
        assert redis_client.zcard("rq:finished:ideaforge-turns") == 0  # the stranger did nothing
        assert stranger.poll() is None
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)
        stranger.wait()


def _stopped_run(settings: Settings, brief: dict[str, object], *faults: Fault, cancel: bool = False) -> str:
    from workers.api import Ideaforge

    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "Ways to reduce food waste", "deny": ["composting"], **brief})
    if cancel:
        forge.cancel(run_id)
    run_burst(settings)
    return run_id


def test_a_failed_run_exits_3_with_its_reason_from_run_watch_and_shortlist_and_show_tells_all(
    env: dict[str, str], settings: Settings, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(*[Fault(kind="bad_schema", role="generator") for _ in range(2)])
    run_id = _stopped_run(settings, {"rounds": 1})
    for command in (["watch", run_id], ["shortlist", run_id], ["shortlist", run_id, "--format", "md"]):
        code, out, err = cli(*command)
        assert code == 3, (command, out, err)
        assert f"run {run_id} failed (error: generate: no usable answer (the generator call failed): " in err
        assert "┏" not in out  # no empty table (the Markdown document says "No idea survived")
    code, out, err = cli("shortlist", run_id, "--format", "json")
    assert code == 3 and json.loads(out)["status"] == "failed"
    # the files people read the next morning carry the why too, not only stderr
    assert json.loads(out)["stop_detail"].startswith("generate: no usable answer (the generator call failed): ")
    code, out, err = cli("shortlist", run_id, "--format", "md")
    assert "Stopped: generate: no usable answer (the generator call failed): " in out
    code, out, _ = cli("show", run_id)
    assert code == 0
    assert "stopped: error — generate: no usable answer (the generator call failed): " in out
    assert "error: generate: no usable answer" in out
    fake_model.add_faults(*[Fault(kind="bad_schema", role="generator") for _ in range(2)])
    run = RunProcess(env, "--rounds", "1", "--workers", "1", "--deny", "composting")
    code, err = run.finish(timeout=120)
    assert code == 3, err
    assert "failed (error: generate: no usable answer (the generator call failed): " in err


def test_a_finished_run_with_an_empty_shortlist_says_why_and_a_cancelled_one_exits_4(
    settings: Settings,
) -> None:
    empty = _stopped_run(settings, {"rounds": 3, "budget": {"max_tokens": 1}})
    code, _, err = cli("shortlist", empty)
    assert code == 0, err
    assert f"run {empty} finished (token_budget: " in err
    assert "no idea made the shortlist: 3 generated, 3 never scored" in err
    cancelled = _stopped_run(settings, {"rounds": 1}, cancel=True)
    for command in (["watch", cancelled], ["shortlist", cancelled]):
        code, _, err = cli(*command)
        assert (
            code == 4
            and f"run {cancelled} cancelled (cancelled: cancelled by a person; no idea was generated)" in err
        )


def test_run_exit_code_follows_the_readme_table() -> None:
    from agents.state import RunStatus
    from ideaforge.cli.helpers import ExitCode, run_exit_code
    from tests.unit.helpers import make_state

    state = make_state()
    expected = {RunStatus.FINISHED: 0, RunStatus.FAILED: 3, RunStatus.CANCELLED: 4}
    for status, code in expected.items():
        state.status = status
        assert run_exit_code(state) == code and run_exit_code(state, interrupted=True) == 130
    state.status = RunStatus.RUNNING
    with pytest.raises(ValueError, match="has not stopped"):
        run_exit_code(state)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Run outcomes and exit codes", 1)[1].split("\n\n", 3)[2]
    for code in ExitCode:
        assert f"| {code.value}" in table, code


def test_terminal_escape_codes_in_model_text_never_reach_the_terminal(
    settings: Settings, fake_model: FakeModelServer
) -> None:
    title = "\x1b[2J\x1b]0;pwned\x07Cleared \x9b31m screen \u202eevil"
    fake_model.add_faults(
        Fault(kind="idea", title=title, summary="Sum\x1b[31mred\r mary, long enough to pass.")
    )
    run_id = _stopped_run(settings, {"rounds": 1, "ideas_per_round": 1})
    from workers.api import Ideaforge

    assert Ideaforge(settings).get_run(run_id).ideas[0].title.startswith("\x1b[2J")  # stored as given
    outputs = []
    for command in (
        ["show", run_id],
        ["watch", run_id],
        ["shortlist", run_id],
        ["shortlist", run_id, "--format", "md"],
    ):
        code, out, err = cli(*command)
        assert code == 0, (command, out, err)
        outputs.append(out)
    for out in outputs:
        assert not any(ch in out for ch in "\x1b\x07\x9b\r\u202e"), repr(out)
    assert "\\x1b[2J\\x1b]0;pwned\\x07Cleared" in outputs[0]  # show: the title, escaped
    assert all("\\x1b" in out for out in outputs)


BAD_SETTINGS = [
    ({"IDEAFORGE_ELO_K": "abc"}, "IDEAFORGE_ELO_K"),
    ({"IDEAFORGE_BRIEF_MODELS": "notjson"}, "brief_models"),
    ({"IDEAFORGE_CONFIG": "/nonexistent/ideaforge.yaml"}, "cannot be read"),
    ({"IDEAFORGE_CONFIG": "{bad}"}, "not valid YAML"),
    ({"IDEAFORGE_CONFIG": "{unknown}"}, "unknown settings elo_kk"),
]


@pytest.mark.parametrize(("extra", "words"), BAD_SETTINGS, ids=[w for _, w in BAD_SETTINGS])
def test_a_bad_setting_is_one_line_and_exit_2(
    env: dict[str, str], tmp_path: Path, extra: dict[str, str], words: str
) -> None:
    """Settings load before every command: a bad value, a missing or broken config file, or an
    unknown key in it was a 50-90 line traceback (exit 1), or silently ignored."""
    bad, unknown = tmp_path / "bad.yaml", tmp_path / "unknown.yaml"
    bad.write_text("elo_k: [\n")
    unknown.write_text("elo_kk: 3\n")
    extra = {k: v.replace("{bad}", str(bad)).replace("{unknown}", str(unknown)) for k, v in extra.items()}
    proc = subprocess.run(
        [sys.executable, "-m", "ideaforge", "runs"],
        env={**os.environ, **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
