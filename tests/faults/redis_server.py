"""A private redis-server with AOF (appendfsync always) on a free port, for restart tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import redis

from tests.faults.procs import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    def __init__(self, directory: Path, *extra_args: str) -> None:
        self.extra_args = list(extra_args)
        self.dir = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def password(self) -> str | None:
        args = self.extra_args
        return args[args.index("--requirepass") + 1] if "--requirepass" in args else None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                *self.extra_args,
            ],
            stdout=open(self.dir / "redis.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, password=self.password)
        wait_for(lambda: _pings(client), timeout=10, what="private redis to start")
        client.close()

    def kill(self) -> None:
        """SIGKILL: no clean shutdown; only the AOF keeps what was written."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
