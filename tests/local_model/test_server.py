"""The local server manager, driven with a fake launcher instead of the real model."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agents.errors import ModelIntegrityError, PortInUseError, ServerStartError
from config.settings import Settings
from ideaforge.local_model import server
from ideaforge.local_model.process import pid_alive
from ideaforge.local_model.server import (
    ensure_local_server,
    local_server_status,
    resolve_threads,
    stop_local_server,
)

from .conftest import fake_launcher

pytestmark = pytest.mark.timeout(60)


def pid_file(settings: Settings) -> Path:
    return Path(settings.local_model_dir) / f"server-{settings.local_model_port}.pid"


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_starts_then_reuses_the_running_server(make_spec, settings, launches) -> None:
    make_spec()
    first = ensure_local_server(settings, launcher=fake_launcher())
    assert first.started_by_us and first.pid and pid_alive(first.pid)
    assert first.base_url == f"http://127.0.0.1:{settings.local_model_port}/v1"
    assert first.model == "fake-model"
    assert first.model_info["structured_output"] and not first.model_info["function_calling"]
    assert json.loads(pid_file(settings).read_text())["pid"] == first.pid

    again = ensure_local_server(settings, launcher=fake_launcher())
    assert not again.started_by_us and again.pid == first.pid
    assert len(launches()) == 1


def test_reuses_a_server_it_did_not_start(make_spec, settings, launches) -> None:
    """E.g. `ideaforge model serve` in another container: same alias on the port, no pid file here."""
    make_spec()
    other = subprocess.Popen(
        [*fake_launcher(), "--alias", "fake-model", "--port", str(settings.local_model_port)],
        stdout=subprocess.PIPE,
    )
    try:
        assert other.stdout is not None and other.stdout.readline()  # listening
        launches_before = len(launches())
        endpoint = ensure_local_server(settings, launcher=fake_launcher())
        assert not endpoint.started_by_us and endpoint.pid is None
        assert len(launches()) == launches_before
    finally:
        other.kill()
        other.wait()


def test_stale_pid_file_is_removed_and_a_server_started(make_spec, settings, launches) -> None:
    make_spec()
    stale = dead_pid()
    pid_file(settings).parent.mkdir(parents=True)
    pid_file(settings).write_text(json.dumps({"pid": stale, "started_at": 0}))
    endpoint = ensure_local_server(settings, launcher=fake_launcher())
    assert endpoint.started_by_us and endpoint.pid != stale
    assert json.loads(pid_file(settings).read_text())["pid"] == endpoint.pid


def test_pid_file_naming_an_unrelated_live_process_is_stale(make_spec, settings) -> None:
    make_spec()
    pid_file(settings).parent.mkdir(parents=True)
    pid_file(settings).write_text(json.dumps({"pid": os.getpid(), "started_at": time.time()}))
    endpoint = ensure_local_server(settings, launcher=fake_launcher())
    assert endpoint.started_by_us and endpoint.pid != os.getpid()
    assert stop_local_server(settings)  # and stopping it did not touch this test process


def test_dead_server_is_restarted(make_spec, settings, launches) -> None:
    make_spec()
    first = ensure_local_server(settings, launcher=fake_launcher())
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    server._reap(first.pid)
    second = ensure_local_server(settings, launcher=fake_launcher())
    assert second.started_by_us and second.pid != first.pid
    assert len(launches()) == 2


def test_hung_server_is_restarted(make_spec, settings, launches) -> None:
    make_spec()
    first = ensure_local_server(settings, launcher=fake_launcher())
    assert first.pid is not None
    os.kill(first.pid, signal.SIGSTOP)  # listens, but never answers
    second = ensure_local_server(settings, launcher=fake_launcher())
    assert second.started_by_us and second.pid != first.pid
    assert not pid_alive(first.pid)


def test_port_held_by_a_foreign_http_server_is_a_clear_error(make_spec, settings, launches) -> None:
    make_spec()
    port = str(settings.local_model_port)
    foreign = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", port, "--bind", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert foreign.stdout is not None and foreign.stdout.readline()  # "Serving HTTP on ..."
        with pytest.raises(PortInUseError) as err:
            ensure_local_server(settings, launcher=fake_launcher())
        assert f"port {port}" in str(err.value) and "IDEAFORGE_LOCAL_MODEL_PORT" in str(err.value)
        assert launches() == []
        assert foreign.poll() is None  # not ours to stop
    finally:
        foreign.kill()
        foreign.wait()


def test_port_held_by_a_non_http_listener_is_a_clear_error(make_spec, settings, launches) -> None:
    make_spec()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", settings.local_model_port))
        sock.listen()
        with pytest.raises(PortInUseError, match="not the ideaforge model server"):
            ensure_local_server(settings, launcher=fake_launcher())
    assert launches() == []


def test_another_model_on_the_port_is_a_clear_error(make_spec, settings) -> None:
    make_spec()
    other = subprocess.Popen(
        [*fake_launcher(), "--alias", "some-other-model", "--port", str(settings.local_model_port)],
        stdout=subprocess.PIPE,
    )
    try:
        assert other.stdout is not None and other.stdout.readline()
        with pytest.raises(PortInUseError, match="some-other-model"):
            ensure_local_server(settings, launcher=fake_launcher())
    finally:
        other.kill()
        other.wait()


def test_sha_mismatch_stops_before_any_server_starts(make_spec, settings, launches) -> None:
    make_spec(sha256="f" * 64)
    with pytest.raises(ModelIntegrityError, match=r"expected f{64}, got [0-9a-f]{64}"):
        ensure_local_server(settings, launcher=fake_launcher())
    assert launches() == []
    assert not pid_file(settings).exists()
    assert not (Path(settings.local_model_dir) / "fake-model.gguf").exists()


def test_startup_timeout_is_a_clear_error_and_kills_the_server(make_spec, settings, launches) -> None:
    make_spec()
    settings.local_model_start_timeout_s = 1.5
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=r"did not become healthy within 2s") as err:
        ensure_local_server(settings, launcher=fake_launcher("never-ready"))
    assert time.monotonic() - started < 10
    assert "LOCAL_MODEL_START_TIMEOUT_S" in str(err.value)
    pid = int(launches()[0].split()[0])
    assert not pid_alive(pid)
    assert not pid_file(settings).exists()


def test_server_that_exits_during_startup_shows_its_log(make_spec, settings) -> None:
    make_spec()
    with pytest.raises(ServerStartError, match="exited during start-up") as err:
        ensure_local_server(settings, launcher=fake_launcher("exit"))
    assert "cannot load model" in str(err.value)
    assert not pid_file(settings).exists()


def _ensure_in_child(settings: Settings, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    endpoint = ensure_local_server(settings, launcher=fake_launcher("slow"))
    queue.put((endpoint.pid, endpoint.started_by_us))


def test_concurrent_callers_start_only_one_server(make_spec, settings, launches) -> None:
    make_spec()
    ctx = multiprocessing.get_context("fork")  # children inherit the fake catalog entry and sys.path
    queue = ctx.Queue()
    procs = [ctx.Process(target=_ensure_in_child, args=(settings, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
        assert proc.exitcode == 0
    assert len(launches()) == 1
    assert len({pid for pid, _ in results}) == 1
    assert sorted(started for _, started in results) == [False, False, False, True]
    assert pid_alive(results[0][0])  # it outlived the process that started it


def test_stop_stops_what_we_started(make_spec, settings) -> None:
    make_spec()
    endpoint = ensure_local_server(settings, launcher=fake_launcher())
    assert endpoint.pid is not None
    assert not stop_local_server(settings, pid=endpoint.pid + 1)  # not that one: left running
    assert pid_alive(endpoint.pid)
    assert stop_local_server(settings, pid=endpoint.pid)
    assert not pid_alive(endpoint.pid)
    assert not pid_file(settings).exists()
    assert not stop_local_server(settings)


def test_status_reports_the_running_server(make_spec, settings) -> None:
    make_spec()
    before = local_server_status(settings)
    assert before["running"] is False and before["state"] == "free" and before["file_exists"] is False
    endpoint = ensure_local_server(settings, launcher=fake_launcher())
    status = local_server_status(settings)
    assert status["running"] is True and status["pid"] == endpoint.pid
    assert status["port"] == settings.local_model_port and status["model"] == "fake-model"
    assert status["sha_ok"] is True and status["file_exists"] is True
    assert status["rss_mb"] and status["rss_mb"] > 1
    assert local_server_status(settings, verify=True)["sha_ok"] is True


def test_serve_foreground_becomes_the_server(make_spec, settings, tmp_path: Path) -> None:
    make_spec()
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path[:0] = [{str(tmp_path / "site")!r}, {os.getcwd()!r}]
            from config.settings import Settings
            from ideaforge.local_model import catalog, server
            from tests.local_model import conftest
            spec = {make_spec()!r}
            catalog.CATALOG[spec.name] = spec
            settings = Settings.model_validate_json({settings.model_dump_json()!r})
            server.serve_foreground(settings, launcher=conftest.fake_launcher())
            """
        )
        .replace("ModelSpec(", "catalog.ModelSpec(")
        .replace("PartPackage(", "catalog.PartPackage(")
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and b"fake server" in proc.stdout.readline()
        endpoint = ensure_local_server(settings, launcher=fake_launcher())
        assert not endpoint.started_by_us and endpoint.pid == proc.pid  # exec kept the pid
        assert stop_local_server(settings)
        assert proc.wait(timeout=10) is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_threads_default_to_cores_minus_one(settings) -> None:
    settings.local_model_threads = 0
    assert resolve_threads(settings) == max(1, len(os.sched_getaffinity(0)) - 1)
    settings.local_model_threads = 3
    assert resolve_threads(settings) == 3
