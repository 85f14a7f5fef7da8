"""Fixtures for the local model manager: fake part packages, a fake launcher, free ports."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from ideaforge.local_model import catalog, server
from ideaforge.local_model.catalog import ModelSpec, PartPackage
from ideaforge.local_model.process import pid_alive, terminate

FAKE_LAUNCHER_SCRIPT = Path(__file__).with_name("fake_launcher.py")
FAKE_ALIAS = "fake-model"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_launcher(mode: str = "ok") -> list[str]:
    return [sys.executable, str(FAKE_LAUNCHER_SCRIPT), "--mode", mode]


def make_part_dist(site: Path, dist: str, version: str, payload: bytes) -> None:
    """Write an installed distribution (dist-info + RECORD) whose one data file is `payload`."""
    pkg = dist.replace("-", "_")
    data = site / pkg / "data" / f"{pkg}.bin"
    data.parent.mkdir(parents=True)
    data.write_bytes(payload)
    info = site / f"{pkg}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{pkg}/data/{pkg}.bin,,{len(payload)}\n{info.name}/METADATA,,\n")


PARTS = [b"GGUF fake model, part one. ", b"part two. ", b"part three."]


@pytest.fixture
def make_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModelSpec]:
    """Install fake part packages on sys.path and register a catalog entry for them."""

    def make(sha256: str | None = None, install: bool = True) -> ModelSpec:
        site = tmp_path / "site"
        parts = tuple(PartPackage(f"ideaforge-fake-part{i}", "1.0") for i in range(1, len(PARTS) + 1))
        if install and not site.exists():
            for part, payload in zip(parts, PARTS, strict=True):
                make_part_dist(site, part.dist, part.version, payload)
            monkeypatch.syspath_prepend(str(site))
        whole = b"".join(PARTS)
        spec = ModelSpec(
            name=FAKE_ALIAS,
            description="fake",
            parts=parts,
            file_name="fake-model.gguf",
            sha256=sha256 or hashlib.sha256(whole).hexdigest(),
            size=len(whole),
            extra="local-fake",
        )
        monkeypatch.setitem(catalog.CATALOG, FAKE_ALIAS, spec)
        return spec

    return make


@pytest.fixture
def launches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Lines the fake launcher wrote, one per start."""
    log = tmp_path / "launches.txt"
    monkeypatch.setenv("FAKE_LAUNCH_LOG", str(log))
    return lambda: log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = Settings(
        local_model=FAKE_ALIAS,
        local_model_port=free_port(),
        local_model_dir=tmp_path / "models",
        local_model_start_timeout_s=5.0,
        local_model_threads=1,
    )
    yield s
    # never leave a server behind: stop what the pid file names and anything this process started
    with contextlib.suppress(Exception):
        server.stop_local_server(s)
    for pid in list(server._children):
        if pid_alive(pid):
            terminate(pid, grace_s=2)
        server._reap(pid)
