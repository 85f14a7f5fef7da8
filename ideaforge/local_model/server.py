"""One local model server per machine, shared by every ideaforge process that needs it.

`ensure_local_server` reuses a healthy server on the configured port, or starts one (a separate
process in its own session, so it outlives the caller). A lock file serialises starts, and a pid
file records the server we started: a stale pid file is removed, a dead or hung server restarted.
Files in `local_model_dir`: `server-<port>.lock`, `server-<port>.pid` (JSON), `server-<port>.log`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.errors import ModelIntegrityError, PortInUseError, ServerStartError
from config.settings import Settings
from ideaforge.local_model.assemble import (
    cached_digest_ok,
    ensure_model_file,
    model_path,
    verify_model_file,
)
from ideaforge.local_model.catalog import LOCAL_MODEL_INFO, ModelSpec, get_model_spec
from ideaforge.local_model.launch import API_KEY_ENV
from ideaforge.local_model.locking import file_lock
from ideaforge.local_model.process import (
    PortState,
    is_our_server,
    pid_alive,
    probe_port,
    rss_bytes,
    terminate,
)

DEFAULT_LAUNCHER: tuple[str, ...] = (sys.executable, "-m", "ideaforge.local_model.launch")
LOCK_MARGIN_S = 60.0  # waiting for the lock may take a whole start-up of another process, plus this
POLL_S = 0.1
LOG_TAIL_LINES = 15

_children: dict[int, subprocess.Popen[bytes]] = {}  # servers this process started, to reap them


@dataclass(frozen=True)
class LocalEndpoint:
    """An OpenAI-compatible endpoint served by the local model server."""

    base_url: str  # e.g. "http://127.0.0.1:8765/v1"
    model: str  # the served alias, equal to settings.local_model
    pid: int | None  # None when the server runs outside our view (e.g. another container)
    started_by_us: bool
    port: int
    api_key: str = "local"
    model_info: dict[str, Any] = field(default_factory=lambda: dict(LOCAL_MODEL_INFO))


@dataclass(frozen=True)
class _Paths:
    lock: Path
    pid: Path
    log: Path

    @classmethod
    def of(cls, settings: Settings) -> _Paths:
        base = Path(settings.local_model_dir).expanduser()
        stem = f"server-{settings.local_model_port}"
        return cls(base / f"{stem}.lock", base / f"{stem}.pid", base / f"{stem}.log")


def resolve_threads(settings: Settings) -> int:
    """`local_model_threads`, or cores - 1 (at least 1): leaving a core free avoids oversubscription."""
    if settings.local_model_threads > 0:
        return settings.local_model_threads
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 2
    return max(1, cores - 1)


def _api_key(settings: Settings) -> str | None:
    secret = settings.local_model_api_key
    return secret.get_secret_value() if secret is not None else None


def _endpoint(settings: Settings, pid: int | None, started_by_us: bool) -> LocalEndpoint:
    port = settings.local_model_port
    return LocalEndpoint(
        base_url=settings.local_model_base_url,
        model=settings.local_model,
        pid=pid,
        started_by_us=started_by_us,
        port=port,
        api_key=_api_key(settings) or "local",
    )


def _read_pid_file(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else None


def _write_pid_file(path: Path, pid: int, settings: Settings, model_file: Path) -> None:
    record = {
        "pid": pid,
        "port": settings.local_model_port,
        "model": settings.local_model,
        "file": str(model_file),
        "started_at": time.time(),
    }
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, path)


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"


def _launch_argv(settings: Settings, model_file: Path, launcher: Sequence[str], pid_file: Path) -> list[str]:
    return [
        *launcher,
        "--model", str(model_file),
        "--alias", settings.local_model,
        "--port", str(settings.local_model_port),
        "--host", settings.local_model_host,
        "--ctx", str(settings.local_model_ctx),
        "--threads", str(resolve_threads(settings)),
        "--parallel", str(settings.local_model_parallel),
        "--pid-file", str(pid_file),
    ]  # fmt: skip


def _launch_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    key = _api_key(settings)
    if key:
        env[API_KEY_ENV] = key
    else:
        env.pop(API_KEY_ENV, None)
    return env


def _reap(pid: int) -> None:
    proc = _children.pop(pid, None)
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _children[pid] = proc


def _stop_pid(pid: int) -> None:
    terminate(pid)
    _reap(pid)


def _wait_until_ready(
    settings: Settings, deadline: float, pid: int | None, log: Path | None
) -> tuple[PortState, str]:
    """Poll the port until it is not FREE/LOADING (or `pid` died, or the deadline passed)."""
    alias, port, key = settings.local_model, settings.local_model_port, _api_key(settings)
    while True:
        state, why = probe_port(port, alias, key)
        if state in (PortState.OURS, PortState.FOREIGN):
            return state, why
        if pid is not None and not pid_alive(pid):
            _reap(pid)
            tail = _log_tail(log) if log else ""
            raise ServerStartError(
                f"the local model server (pid {pid}) exited during start-up. Last lines of {log}:\n{tail}"
            )
        if time.monotonic() >= deadline:
            return state, why
        time.sleep(POLL_S)


def _port_taken(settings: Settings, why: str) -> PortInUseError:
    port = settings.local_model_port
    return PortInUseError(
        f"port {port} on 127.0.0.1 is in use by something that is not the ideaforge model server "
        f"for {settings.local_model!r} ({why}). Stop it, or choose another port with "
        f"IDEAFORGE_LOCAL_MODEL_PORT."
    )


def _start(settings: Settings, model_file: Path, launcher: Sequence[str], paths: _Paths) -> int:
    """Start the server process, wait until it is healthy, return its pid."""
    argv = _launch_argv(settings, model_file, launcher, paths.pid)
    with paths.log.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the caller and its Ctrl-C
            env=_launch_env(settings),
            close_fds=True,
        )
    _children[proc.pid] = proc
    _write_pid_file(paths.pid, proc.pid, settings, model_file)
    timeout = settings.local_model_start_timeout_s
    try:
        state, why = _wait_until_ready(settings, time.monotonic() + timeout, proc.pid, paths.log)
    except ServerStartError:
        paths.pid.unlink(missing_ok=True)
        raise
    if state is PortState.OURS:
        return proc.pid
    _stop_pid(proc.pid)
    paths.pid.unlink(missing_ok=True)
    if state is PortState.FOREIGN:
        raise _port_taken(settings, why)
    raise ServerStartError(
        f"the local model server did not become healthy within {timeout:.0f}s "
        f"(IDEAFORGE_LOCAL_MODEL_START_TIMEOUT_S); it was stopped. Last lines of {paths.log}:\n"
        f"{_log_tail(paths.log)}"
    )


def ensure_local_server(settings: Settings, *, launcher: Sequence[str] | None = None) -> LocalEndpoint:
    """Reuse the healthy local server on `local_model_port`, or verify the model and start one.

    `launcher` replaces the server command (`python -m ideaforge.local_model.launch`) in tests.
    """
    spec = get_model_spec(settings.local_model)
    paths = _Paths.of(settings)
    alias, port, key = settings.local_model, settings.local_model_port, _api_key(settings)

    state, why = probe_port(port, alias, key)  # fast path, without the lock
    if state is PortState.OURS:
        record = _read_pid_file(paths.pid)
        pid = record["pid"] if record and is_our_server(record["pid"], alias, port) else None
        return _endpoint(settings, pid, started_by_us=False)

    lock_timeout = settings.local_model_start_timeout_s + LOCK_MARGIN_S
    with file_lock(paths.lock, lock_timeout):
        model_file = ensure_model_file(spec, Path(settings.local_model_dir))
        record = _read_pid_file(paths.pid)
        ours = record is not None and is_our_server(record["pid"], alias, port)
        if record is not None and not ours:
            paths.pid.unlink(missing_ok=True)  # stale: the process is gone or is someone else now
            record = None
        pid = record["pid"] if record is not None else None

        state, why = probe_port(port, alias, key)
        if state is PortState.LOADING:  # ours or another container's, still loading: give it time
            started = float(record.get("started_at", 0)) if record else time.time()
            left = started + settings.local_model_start_timeout_s - time.time()
            deadline = time.monotonic() + max(0.0, left)
            state, why = _wait_until_ready(settings, deadline, pid, paths.log)
        if state is PortState.OURS:
            return _endpoint(settings, pid, started_by_us=False)
        if pid is not None:  # our process, but dead to HTTP or hung: restart it
            _stop_pid(pid)
            paths.pid.unlink(missing_ok=True)
            state, why = probe_port(port, alias, key)
        if state is not PortState.FREE:
            raise _port_taken(settings, why or "it never finished loading")
        new_pid = _start(settings, model_file, launcher or DEFAULT_LAUNCHER, paths)
        return _endpoint(settings, new_pid, started_by_us=True)


def stop_local_server(settings: Settings, *, pid: int | None = None) -> bool:
    """Stop the server named in the pid file (only if it is `pid`, when given); True if one was stopped."""
    paths = _Paths.of(settings)
    with file_lock(paths.lock, settings.local_model_start_timeout_s + LOCK_MARGIN_S):
        record = _read_pid_file(paths.pid)
        if record is None:
            return False
        if pid is not None and record["pid"] != pid:
            return False  # someone restarted it since; it is not ours to stop
        stopped = False
        if is_our_server(record["pid"], settings.local_model, settings.local_model_port):
            _stop_pid(record["pid"])
            stopped = True
        paths.pid.unlink(missing_ok=True)
        return stopped


def local_server_status(settings: Settings, *, verify: bool = False) -> dict[str, Any]:
    """What `ideaforge model status` shows. `verify=True` re-hashes the model file in full."""
    spec: ModelSpec = get_model_spec(settings.local_model)
    paths = _Paths.of(settings)
    alias, port = settings.local_model, settings.local_model_port
    file = model_path(spec, Path(settings.local_model_dir))
    state, why = probe_port(port, alias, _api_key(settings))
    record = _read_pid_file(paths.pid)
    pid = record["pid"] if record and is_our_server(record["pid"], alias, port) else None
    sha_ok: bool | None = None
    if file.is_file():
        if verify:
            try:
                verify_model_file(spec, file)
                sha_ok = True
            except (ModelIntegrityError, OSError):
                sha_ok = False
        else:
            sha_ok = cached_digest_ok(spec, file) or None  # None: not verified since it changed
    rss = rss_bytes(pid) if pid is not None else None
    return {
        "running": state is PortState.OURS,
        "state": str(state),
        "detail": why,
        "pid": pid,
        "port": port,
        "base_url": settings.local_model_base_url,
        "model": alias,
        "description": spec.description,
        "file": str(file),
        "file_exists": file.is_file(),
        "sha256_expected": spec.sha256,
        "sha_ok": sha_ok,
        "rss_mb": round(rss / 2**20, 1) if rss is not None else None,
        "threads": resolve_threads(settings),
        "ctx": settings.local_model_ctx,
        "pid_file": str(paths.pid),
        "log_file": str(paths.log),
        "started_at": record.get("started_at") if record and pid else None,
    }


def serve_foreground(settings: Settings, *, launcher: Sequence[str] | None = None) -> None:
    """Verify the model and become the server process (exec), for `ideaforge model serve`.

    Fails clearly when the port is taken; a healthy server of ours already on the port counts as
    taken too (one server per port). Does not return.
    """
    spec = get_model_spec(settings.local_model)
    paths = _Paths.of(settings)
    alias, port, key = settings.local_model, settings.local_model_port, _api_key(settings)
    with file_lock(paths.lock, settings.local_model_start_timeout_s + LOCK_MARGIN_S):
        model_file = ensure_model_file(spec, Path(settings.local_model_dir))
        record = _read_pid_file(paths.pid)
        if record is not None and not is_our_server(record["pid"], alias, port):
            paths.pid.unlink(missing_ok=True)
            record = None
        state, why = probe_port(port, alias, key)
        if record is not None or state is not PortState.FREE:
            owner = f"pid {record['pid']}" if record else why or str(state)
            raise PortInUseError(
                f"a server already runs on 127.0.0.1:{port} ({owner}); stop it first "
                f"(`ideaforge model stop`) or choose another IDEAFORGE_LOCAL_MODEL_PORT"
            )
        _write_pid_file(paths.pid, os.getpid(), settings, model_file)
        argv = _launch_argv(settings, model_file, launcher or DEFAULT_LAUNCHER, paths.pid)
        env = _launch_env(settings)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)
