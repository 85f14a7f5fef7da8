"""Schemathesis fuzzes every operation of /openapi.json against the running app: never a 500."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.conftest import ROOT, TOKEN, LiveServer

pytestmark = pytest.mark.fuzz
MAX_EXAMPLES = int(os.environ.get("IDEAFORGE_FUZZ_EXAMPLES", "25"))


def test_openapi_fuzzing_finds_no_server_errors(token_server: LiveServer, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{token_server.url}/openapi.json",
            "--checks", "not_a_server_error",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", "6",
            "--request-timeout", "20",
            "--header", f"Authorization: Bearer {TOKEN}",
            "--generation-deterministic",
            "--no-color",
        ],
        cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache in its working directory
        env={**os.environ, "SCHEMATHESIS_HOOKS": "", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=420,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output or "passed" in output.lower(), output[-3000:]
    for operation in (
        "POST /runs",
        "GET /runs/{run_id}/events",
        "POST /runs/{run_id}/ideas/{idea_id}/verdict",
    ):
        assert operation in output, f"{operation} was not fuzzed"
