"""Small process and HTTP probes used by the server manager: is a pid ours, is a port ours."""

from __future__ import annotations

import enum
import os
import signal
import socket
import time
from pathlib import Path

import httpx

PROBE_TIMEOUT_S = 2.0


class PortState(enum.StrEnum):
    """What answers on the port."""

    FREE = "free"  # nothing listens
    OURS = "ours"  # a healthy OpenAI-compatible server that lists our alias
    LOADING = "loading"  # a llama.cpp server still loading its model (HTTP 503 on /health)
    FOREIGN = "foreign"  # something else


def probe_port(port: int, alias: str, api_key: str | None = None) -> tuple[PortState, str]:
    """Classify what listens on 127.0.0.1:`port`; the string explains a FOREIGN answer."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT_S, headers=headers, trust_env=False) as client:
            health = client.get(f"{base}/health")
            if health.status_code == 503:
                return PortState.LOADING, "loading"
            if health.status_code != 200:
                return PortState.FOREIGN, f"GET /health answered HTTP {health.status_code}"
            models = client.get(f"{base}/v1/models")
            if models.status_code != 200:
                return PortState.FOREIGN, f"GET /v1/models answered HTTP {models.status_code}"
            served = [str(item.get("id")) for item in models.json().get("data", [])]
    except httpx.ConnectError:
        return (
            (PortState.FOREIGN, "it accepts connections but is not HTTP")
            if port_open(port)
            else (
                PortState.FREE,
                "",
            )
        )
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return PortState.FOREIGN, f"it does not answer like a model server ({type(exc).__name__})"
    if alias in served:
        return PortState.OURS, ""
    return PortState.FOREIGN, f"it serves {', '.join(served) or 'no model'}, not {alias!r}"


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int) -> bool:
    """True for a live process (zombies count as dead on Linux)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        try:
            return "\nState:\tZ" not in status.read_text(encoding="utf-8")
        except OSError:
            return False
    return True


def cmdline(pid: int) -> list[str] | None:
    """The argv of `pid` (Linux /proc), or None where it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_our_server(pid: int, alias: str, port: int) -> bool:
    """True when `pid` is alive and runs a launcher for this alias and port (guards pid reuse)."""
    if not pid_alive(pid):
        return False
    argv = cmdline(pid)
    if argv is None:  # no /proc: trust the pid file
        return True

    def value(flag: str) -> str | None:
        return argv[argv.index(flag) + 1] if flag in argv[:-1] else None

    return value("--alias") == alias and value("--port") == str(port)


def rss_bytes(pid: int) -> int | None:
    """Resident set size of `pid` in bytes (Linux), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def terminate(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM the process (its whole group when it leads one), then SIGKILL after `grace_s`."""

    def send(sig: signal.Signals) -> None:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    send(signal.SIGCONT)  # a stopped (hung) process must run to act on SIGTERM
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
