"""Bad input over the CLI, the brief contract the HTTP API calls, and the queue itself.

Each CLI case: one clear line on stderr, exit code 2, no traceback, nothing stored changed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from typer.testing import CliRunner

from agents.brief import parse_brief
from agents.errors import InvalidBrief
from config.settings import Settings, get_settings
from ideaforge.cli import app
from tests.conftest import run_burst
from tests.faults.redis_server import PrivateRedis, free_port
from workers.api import Ideaforge

TOPIC = "Ways to reduce food waste in university cafeterias"


def snapshot(client: redis.Redis) -> dict[bytes, str]:
    """Every stored key with a digest of its dumped value; short-lived maintenance locks (a worker's
    sweep lock, set and expired on its own clock) are not stored data and are left out."""
    dumps = {k: client.dump(k) for k in sorted(client.keys("*")) if not k.endswith(b":lock")}
    return {k: hashlib.sha256(v).hexdigest() for k, v in dumps.items() if v is not None}


def _file(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


NESTED = "[" * 5000 + "]" * 5000  # 10 KB of nested arrays

# (id, argv builder, expected words in the message)
CLI_CASES: list[tuple[str, Any, str]] = [
    ("empty-topic", lambda t: ["submit", ""], "topic must not be empty"),
    ("whitespace-topic", lambda t: ["submit", "   \t "], "topic must not be empty"),
    ("100kb-topic", lambda t: ["submit", "x" * 100_000], "the limit is 2000"),
    ("control-chars", lambda t: ["submit", "ideas\x07 for \x1b[2J bells"], "control characters"),
    ("invalid-utf8-file", lambda t: ["submit", "-f", _file(t, "b.yaml", b"topic: caf\xe9\xff\n")], "UTF-8"),
    ("unknown-strategy", lambda t: ["submit", TOPIC, "--strategy", "brainwash"], "unknown strategy"),
    ("rounds-0", lambda t: ["submit", TOPIC, "--rounds", "0"], "rounds"),
    ("rounds-negative", lambda t: ["submit", TOPIC, "--rounds", "-1"], "rounds"),
    ("rounds-10^6", lambda t: ["submit", TOPIC, "--rounds", "1000000"], "rounds"),
    ("ideas-0", lambda t: ["submit", TOPIC, "--ideas", "0"], "ideas_per_round"),
    ("ideas-21", lambda t: ["submit", TOPIC, "--ideas", "21"], "ideas_per_round"),
    (
        "deny-not-a-list",
        lambda t: ["submit", "-f", _file(t, "d.yaml", f"topic: {TOPIC}\ndeny: composting\n")],
        "deny",
    ),
    ("yaml-not-a-mapping", lambda t: ["submit", "-f", _file(t, "l.yaml", "- a\n- b\n")], "mapping"),
    (
        "unknown-key",
        lambda t: ["submit", "-f", _file(t, "k.yaml", f"topic: {TOPIC}\ncolour: red\n")],
        "unknown key 'colour'",
    ),
    ("broken-yaml", lambda t: ["submit", "-f", _file(t, "y.yaml", "topic: [unclosed\n")], "not valid YAML"),
    ("missing-file", lambda t: ["submit", "-f", str(t / "nope.yaml")], "cannot read brief file"),
    ("no-topic", lambda t: ["submit", "-f", _file(t, "n.yaml", "rounds: 2\n")], "a topic is required"),
    ("mix-one-concept", lambda t: ["submit", TOPIC, "-s", "mix", "--concepts", "auctions"], "two concepts"),
    ("bad-namespace", lambda t: ["submit", TOPIC, "--namespace", "../etc"], "namespace"),
    (
        "negative-budget",
        lambda t: ["submit", "-f", _file(t, "g.yaml", f"topic: {TOPIC}\nbudget: {{max_tokens: -5}}\n")],
        "budget.max_tokens",
    ),
    (
        "deny-5000-nested-arrays",
        lambda t: ["submit", "-f", _file(t, "n.json", f'{{"topic": "{TOPIC}", "deny": {NESTED}}}')],
        "nested too deeply",
    ),
    (
        "rounds-true",
        lambda t: ["submit", "-f", _file(t, "r.json", f'{{"topic": "{TOPIC}", "rounds": true}}')],
        "rounds",
    ),
    (
        "budget-infinity-yaml",
        lambda t: ["submit", "-f", _file(t, "i.yaml", f"topic: {TOPIC}\nbudget: {{max_cost_usd: .inf}}\n")],
        "budget.max_cost_usd: Input should be a finite number",
    ),
    (
        "budget-infinity-json",
        lambda t: [
            "submit",
            "-f",
            _file(t, "i.json", f'{{"topic": "{TOPIC}", "budget": {{"max_seconds": Infinity}}}}'),
        ],
        "budget.max_seconds",
    ),
    ("lone-surrogate-topic", lambda t: ["submit", "caf\udce9 waste"], "not valid Unicode"),
    ("lone-surrogate-deny", lambda t: ["submit", TOPIC, "--deny", "\udcff"], "not valid Unicode"),
    ("unknown-run-show", lambda t: ["show", "feedfacecafe"], "no run with id"),
    ("unknown-run-cancel", lambda t: ["cancel", "feedfacecafe"], "no run with id"),
    ("unknown-run-shortlist", lambda t: ["shortlist", "feedfacecafe"], "no run with id"),
    ("unknown-run-watch", lambda t: ["watch", "feedfacecafe"], "no run with id"),
]


@pytest.mark.parametrize(("argv", "expected"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_rejects_bad_input(
    env: dict[str, str], redis_client: redis.Redis, tmp_path: Path, argv: Any, expected: str
) -> None:
    Ideaforge(get_settings()).submit({"topic": TOPIC})  # something stored that must stay unchanged
    before = snapshot(redis_client)
    result = CliRunner().invoke(app, argv(tmp_path))
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output  # one clear line
    assert "Traceback" not in result.output
    assert snapshot(redis_client) == before


def test_undecodable_bytes_in_argv_are_one_line_and_exit_2(
    env: dict[str, str], redis_client: redis.Redis
) -> None:
    """What a non-UTF-8 terminal sends: Python reads each undecodable byte as a lone surrogate."""
    for argv in (
        ["submit", b"caf\xe9 waste"],
        ["submit", TOPIC, "--deny", b"\xff"],
        ["runs", "--status", b"caf\xe9"],
        ["show", b"caf\xe9"],
        ["verdict", "feedfacecafe", "i1", "accept", "--note", b"caf\xe9"],
    ):
        result = subprocess.run([sys.executable, "-m", "ideaforge", *argv], capture_output=True, timeout=60)
        err = result.stderr.decode()
        assert result.returncode == 2, (argv, err)
        assert "is not valid Unicode" in err and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    assert redis_client.dbsize() == 0


def test_http_refuses_the_same_bad_bodies_with_422(settings: Settings, redis_client: redis.Redis) -> None:
    from fastapi.testclient import TestClient

    from ideaforge.web.app import create_app

    client = TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False)
    bodies = {
        f'{{"topic": "{TOPIC}", "deny": {NESTED}}}': "nested too deeply",
        '{"topic": "caf\\udce9 waste"}': "not valid Unicode",
        f'{{"topic": "{TOPIC}", "rounds": true}}': "rounds",
        f'{{"topic": "{TOPIC}", "budget": {{"max_cost_usd": Infinity}}}}': "finite",
        f'{{"topic": "{TOPIC}", "budget": {{"max_tokens": NaN}}}}': "budget.max_tokens",
    }
    for body, expected in bodies.items():
        answer = client.post("/runs", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and expected in answer.json()["detail"], (body[:60], answer.text)
    verdict = client.post(
        "/runs/feedfacecafe/ideas/i1/verdict", content=NESTED, headers={"content-type": "application/json"}
    )
    assert 400 <= verdict.status_code < 500, verdict.text
    assert redis_client.dbsize() == 0


def test_redis_password_with_reserved_characters(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A real redis-server whose password holds / # @ ?: percent-encoded, every command works; raw,
    every command (and `ideaforge web`) says so in one line, exit 2, without a password character."""
    password = "s3c/r#t@p?w"
    server = PrivateRedis(tmp_path, "--requirepass", password)
    server.start()
    try:
        encoded = f"redis://:{quote(password, safe='')}@127.0.0.1:{server.port}/0"
        monkeypatch.setenv("IDEAFORGE_REDIS_URL", encoded)
        get_settings.cache_clear()
        ok = CliRunner().invoke(app, ["submit", "-q", TOPIC])
        assert ok.exit_code == 0, ok.output
        assert redis.Redis(port=server.port, password=password).exists(f"ideaforge:run:{ok.stdout.strip()}")
        raw = f"redis://:{password}@127.0.0.1:{server.port}/0"
        for argv in (
            ["submit", TOPIC],
            ["runs"],
            ["show", "feedfacecafe"],
            ["web", "--port", "0"],
            ["scheduler"],
        ):
            result = subprocess.run(
                [sys.executable, "-m", "ideaforge", *argv],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "IDEAFORGE_REDIS_URL": raw},
            )
            out = result.stdout + result.stderr
            assert result.returncode == 2, (argv, out)
            assert len(out.strip().splitlines()) == 1 and "Traceback" not in out, (argv, out)
            assert "percent-encode" in out and "redis://, rediss://, unix://" in out, out
            assert not any(part in out for part in ("s3c", "r#t", "p?w", "/r", "t@")), out
        for bad in ("http://127.0.0.1:6379/0", "redis+sentinel://127.0.0.1:26379/0", "127.0.0.1:6379"):
            monkeypatch.setenv("IDEAFORGE_REDIS_URL", bad)
            get_settings.cache_clear()
            result = CliRunner().invoke(app, ["runs"])
            assert result.exit_code == 2 and "supported schemes" in result.output, result.output
    finally:
        server.kill()


def test_cancelling_a_finished_run_is_refused(env: dict[str, str], redis_client: redis.Redis) -> None:
    forge = Ideaforge(get_settings())
    run_id = forge.submit({"topic": TOPIC, "rounds": 1, "ideas_per_round": 1})
    run_burst(get_settings())
    before = snapshot(redis_client)
    result = CliRunner().invoke(app, ["cancel", run_id])
    assert result.exit_code == 2 and "has already stopped (finished)" in result.output, result.output
    assert snapshot(redis_client) == before


@pytest.mark.parametrize("case", ["unreachable-redis", "wrong-redis-password"])
def test_cli_redis_problems(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    server = PrivateRedis(tmp_path, "--requirepass", "right-password")
    if case == "unreachable-redis":
        target, expected = f"redis://127.0.0.1:{free_port()}/0", "cannot reach Redis"
    else:
        server.start()
        target = f"redis://:wrong-password@127.0.0.1:{server.port}/0"
        expected = f"Redis at redis://:***@127.0.0.1:{server.port}/0 refused the credentials"
    try:
        _run_against(monkeypatch, target, expected)
    finally:
        server.kill()


def _run_against(monkeypatch: pytest.MonkeyPatch, target: str, expected: str) -> None:
    monkeypatch.setenv("IDEAFORGE_REDIS_URL", target)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["submit", TOPIC])
    assert result.exit_code == 2, result.output
    assert expected in result.output and "wrong-password" not in result.output, result.output
    assert "Traceback" not in result.output


# The HTTP API (ideaforge/web, in progress) validates request bodies with `parse_brief`:
# these are its 4xx cases, checked at that seam until the routes exist.
HTTP_BODIES: list[tuple[str, Any, str]] = [
    ("json-list", [TOPIC], "must be a mapping"),
    ("json-string", TOPIC, "must be a mapping"),
    ("json-null", None, "must be a mapping"),
    ("topic-number", {"topic": 42}, "topic"),
    ("rounds-string", {"topic": TOPIC, "rounds": "many"}, "rounds"),
    ("rounds-float", {"topic": TOPIC, "rounds": 2.5}, "rounds"),
    ("deny-dict", {"topic": TOPIC, "deny": {"a": 1}}, "deny"),
    ("deny-item-empty", {"topic": TOPIC, "deny": ["  "]}, "must not be empty"),
    ("too-many-deny", {"topic": TOPIC, "deny": [f"d{i}" for i in range(51)]}, "deny"),
    ("unknown-key", {"topic": TOPIC, "temperature": 2}, "unknown key 'temperature'"),
    ("budget-extra", {"topic": TOPIC, "budget": {"max_dollars": 1}}, "unknown key 'budget.max_dollars'"),
    ("version-2", {"topic": TOPIC, "version": 2}, "version"),
    ("shortlist-0", {"topic": TOPIC, "shortlist_size": 0}, "shortlist_size"),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in HTTP_BODIES], ids=[c[0] for c in HTTP_BODIES])
def test_http_brief_bodies_are_rejected_with_the_field_named(body: Any, expected: str) -> None:
    with pytest.raises(InvalidBrief) as exc:
        parse_brief(body)
    assert expected in str(exc.value)


def _foreign_job(client: redis.Redis, queue: str, job_id: str, data: bytes) -> None:
    now = "2026-01-01T00:00:00.000000Z"
    client.hset(
        f"rq:job:{job_id}",
        mapping={"data": data, "origin": queue, "status": "queued", "created_at": now, "enqueued_at": now},
    )
    client.rpush(f"rq:queue:{queue}", job_id)


class _Marker:
    """Unpickling this would create a file: proof that nothing on the queue is ever unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def test_foreign_malformed_json_and_pickle_on_the_queue(
    env: dict[str, str], redis_client: redis.Redis, tmp_path: Path
) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    good = forge.submit({"topic": TOPIC, "rounds": 1, "ideas_per_round": 1})
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_Marker(marker))
    pickle.loads(pickle.dumps(_Marker(tmp_path / "control")))  # the trap works when unpickled
    assert (tmp_path / "control").exists()
    _foreign_job(redis_client, settings.queue_name, "foreign-json", b'{"not": json')
    _foreign_job(redis_client, settings.queue_name, "foreign-pickle", payload)
    _foreign_job(
        redis_client, settings.queue_name, "foreign-args", b'["workers.jobs.take_turn", null, [42, 0], {}]'
    )
    run_burst(settings)  # returns: the worker did not crash
    assert not marker.exists(), "a pickled payload was unpickled"
    failed = {m.decode() for m in redis_client.zrange(f"rq:failed:{settings.queue_name}", 0, -1)}
    assert failed == {"foreign-json", "foreign-pickle", "foreign-args"}
    from rq.job import Job
    from rq.serializers import JSONSerializer

    errors = {j: Job.fetch(j, connection=redis_client, serializer=JSONSerializer) for j in ("foreign-args",)}
    result = errors["foreign-args"].latest_result()
    assert result is not None and "take_turn needs a run id string, got 42" in (result.exc_string or "")
    state = forge.get_run(good)  # the good run next to them is untouched
    assert state.status.value == "finished"
