"""Redis cost per turn: commands (by name) and bytes per turn, and no per-turn SCAN/KEYS.

Two independent counts, both confined to the benchmark DB (the shared server's INFO commandstats
also counts every other client, so a diff of it is noise on a busy machine):

- commands: `redis-cli MONITOR`, keeping only lines for the benchmark DB, while one worker (forking
  `Worker`, then `SimpleWorker`) runs a brainstorm; this includes RQ's own bookkeeping.
- bytes: an in-process `SimpleWorker` whose Redis connections count the bytes they send and receive
  at the socket (RESP on the wire, both directions).
"""

from __future__ import annotations

import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from typing import Any, ClassVar
from urllib.parse import urlsplit

import redis
from redis.connection import Connection

from benchmarks.common import (
    REDIS_URL,
    TOPIC,
    Check,
    FakeServer,
    Options,
    Result,
    WorkerProcs,
    bench_env,
    flush_bench_db,
    process_env,
    redis_client,
    wait_terminal,
)
from workers.store import as_text

BRIEF: dict[str, Any] = {"topic": TOPIC, "rounds": 3, "ideas_per_round": 3}
FULL_SCANS = {"SCAN", "KEYS"}
_LINE = re.compile(r'^\d+\.\d+ \[(\d+) [^\]]*\] "([^"]+)"')


class _Stats:
    sent = 0
    received = 0
    commands: ClassVar[Counter[str]] = Counter()


class _CountingSocket(socket.socket):
    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        n = super().recv_into(buffer, nbytes, flags)
        _Stats.received += n
        return n

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        _Stats.received += len(data)
        return data


class _CountingPacker:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def pack(self, *args: Any) -> list[bytes]:
        packed = self.inner.pack(*args)
        name = as_text(args[0])
        _Stats.commands[name.split()[0].upper()] += 1
        _Stats.sent += sum(len(p) for p in packed)
        return list(packed)


class CountingConnection(Connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command_packer = _CountingPacker(self._command_packer)

    def _connect(self) -> socket.socket:
        sock = super()._connect()
        timeout = sock.gettimeout()
        counted = _CountingSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        counted.settimeout(timeout)
        return counted


def bytes_per_turn() -> dict[str, Any]:
    """In-process SimpleWorker on counting connections: exact bytes both ways."""
    import workers.connection as conn
    from workers.api import Ideaforge
    from workers.worker import build_worker

    flush_bench_db()
    client = redis.Redis.from_url(REDIS_URL, connection_class=CountingConnection)
    conn._pools[REDIS_URL] = client
    try:
        forge = Ideaforge()
        run_id = forge.submit(BRIEF)
        _Stats.sent = _Stats.received = 0
        _Stats.commands = Counter()
        build_worker(forge.settings, simple=True).work(burst=True, logging_level="WARNING")
        state = forge.get_run(run_id)
        assert state.terminal
        return {
            "turns": state.step,
            "sent": _Stats.sent,
            "received": _Stats.received,
            "commands": Counter(_Stats.commands),
            "state_bytes": len(state.model_dump_json()),
        }
    finally:
        conn._pools.pop(REDIS_URL, None)
        client.close()


def monitored(env: dict[str, str], simple: bool) -> dict[str, Any]:
    """Commands seen by MONITOR for the benchmark DB while one worker process runs a brainstorm."""
    from workers.api import Ideaforge

    url = urlsplit(REDIS_URL)
    db = (url.path or "/0").strip("/") or "0"
    flush_bench_db()
    client = redis_client()
    forge = Ideaforge()
    with tempfile.NamedTemporaryFile("w+", suffix=".monitor") as out:
        with WorkerProcs(env, 1, simple=simple) as workers:
            workers.wait_registered(client)
            mon = subprocess.Popen(
                shlex.split(f"redis-cli -h {url.hostname or '127.0.0.1'} -p {url.port or 6379} monitor"),
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
            try:
                time.sleep(0.3)
                run_id = forge.submit(BRIEF)
                wait_terminal(forge.store, [run_id], poll_s=0.2)
                time.sleep(0.3)
            finally:
                mon.send_signal(signal.SIGTERM)
                mon.wait(timeout=10)
        out.seek(0)
        commands: ClassVar[Counter[str]] = Counter()
        for line in out:
            m = _LINE.match(line)
            if m and m.group(1) == db:
                commands[m.group(2).upper()] += 1
    turns = forge.get_run(run_id).step
    client.close()
    # the poller (wait_terminal: GET every 0.2 s) and submit are this benchmark, not the turns
    return {"turns": turns, "commands": commands}


def run(opts: Options) -> Result:
    t0 = time.time()
    rows: list[list[Any]] = []
    checks: list[Check] = []
    notes: list[str] = []
    with FakeServer(latency_ms=0) as fake:
        env = bench_env(fake.base_url)
        with process_env(env):
            b = bytes_per_turn()
            turns = b["turns"]
            total = sum(b["commands"].values())
            top = ", ".join(f"{k} {v / turns:.1f}" for k, v in b["commands"].most_common(8))
            rows.append(
                [
                    "SimpleWorker in-process (socket count)",
                    turns,
                    f"{total / turns:.1f}",
                    f"{b['sent'] / turns / 1024:.1f}",
                    f"{b['received'] / turns / 1024:.1f}",
                    top,
                ]
            )
            notes.append(
                f"Final run state JSON: {b['state_bytes'] / 1024:.1f} KiB (written once per turn, "
                "read twice per turn: load + CAS check)."
            )
            scans = sum(b["commands"][c] for c in FULL_SCANS)
            if not opts.profile:
                for label, simple in (("Worker (forking), MONITOR", False), ("SimpleWorker, MONITOR", True)):
                    m = monitored(env, simple)
                    cmds: Counter[str] = m["commands"]
                    n = m["turns"]
                    tot = sum(cmds.values())
                    top = ", ".join(f"{k} {v / n:.1f}" for k, v in cmds.most_common(8))
                    rows.append([label, n, f"{tot / n:.1f}", "", "", top])
                    scans += sum(cmds[c] for c in FULL_SCANS)
            checks.append(
                Check("SCAN/KEYS commands during the turns", "none per turn", str(scans), scans == 0)
            )
    notes.append(
        "MONITOR counts include RQ's worker bookkeeping and this benchmark's own GET poll of the "
        "run state every 0.2 s."
    )
    return Result(
        name="redis_cost",
        title=f"Redis cost per turn ({BRIEF['rounds']}-round brainstorm, fake model 0 ms)",
        columns=[
            "worker / method",
            "turns",
            "commands/turn",
            "KiB sent/turn",
            "KiB received/turn",
            "top commands per turn",
        ],
        rows=rows,
        checks=checks,
        notes=notes,
        seconds=time.time() - t0,
    )
