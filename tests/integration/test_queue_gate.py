"""The queue gate: job hashes written by a foreign producer (plain HSET + RPUSH, as redis-cli
would) never make an ideaforge worker import, run or request anything ideaforge did not enqueue."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import redis
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from config.settings import Settings
from tests.conftest import run_burst
from workers.api import Ideaforge
from workers.gate import ALLOWED_FUNCTIONS, ON_TURN_FAILURE, SUBMIT_BRIEF, TAKE_TURN, GatedJob
from workers.queue import make_queue

ROOT = Path(__file__).resolve().parents[2]
TOUCH = "tests.integration.gate_payloads.touch"
VALID_BRIEF = {"topic": "Less food waste", "rounds": 1}


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pwned"
    monkeypatch.setenv("GATE_MARKER", str(path))
    return path


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_url() -> Iterator[str]:
    _Hits.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def foreign_job(
    client: redis.Redis, settings: Settings, job_id: str, data: list[Any] | bytes, **fields: str
) -> None:
    """What a producer in any language writes: the job hash, then the id on the queue list."""
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    mapping = {
        "data": payload,
        "status": "queued",
        "origin": settings.queue_name,
        "description": "foreign",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "enqueued_at": "2026-01-01T00:00:00.000000Z",
        **fields,
    }
    client.hset(f"rq:job:{job_id}", mapping=mapping)
    client.sadd("rq:queues", f"rq:queue:{settings.queue_name}")
    client.rpush(f"rq:queue:{settings.queue_name}", job_id)


def assert_refused(client: redis.Redis, settings: Settings, job_id: str, *words: str) -> str:
    job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED
    assert job_id in FailedJobRegistry(queue=make_queue(client, settings)).get_job_ids()
    result = job.latest_result()
    text = result.exc_string if result is not None else ""
    assert text and "refused by the ideaforge queue gate" in text, text
    for word in words:
        assert word in text, text
    assert client.llen(f"rq:queue:{settings.queue_name}") == 0
    return text


def test_the_allowlist_names_the_functions_ideaforge_enqueues() -> None:
    from workers.intake import submit_brief
    from workers.jobs import on_turn_failure, take_turn

    for name, fn in (
        (TAKE_TURN, take_turn),
        (SUBMIT_BRIEF, submit_brief),
        (ON_TURN_FAILURE, on_turn_failure),
    ):
        assert name == f"{fn.__module__}.{fn.__qualname__}"
    assert {TAKE_TURN, SUBMIT_BRIEF} == ALLOWED_FUNCTIONS


def test_a_foreign_function_is_refused_and_never_runs(
    settings: Settings, redis_client: redis.Redis, marker: Path
) -> None:
    foreign_job(redis_client, settings, "evil-func", ["os.system", None, [f"id > {marker}"], {}])
    run_burst(settings)
    assert not marker.exists()
    assert_refused(redis_client, settings, "evil-func", "'os.system'", "is not one ideaforge enqueues")


def test_an_instance_is_refused(settings: Settings, redis_client: redis.Redis) -> None:
    foreign_job(redis_client, settings, "evil-instance", [SUBMIT_BRIEF, {"x": 1}, [VALID_BRIEF], {}])
    run_burst(settings)
    assert_refused(redis_client, settings, "evil-instance", "instance must be null")
    assert Ideaforge(settings).list_runs() == []


def test_a_pickled_payload_is_refused(settings: Settings, redis_client: redis.Redis) -> None:
    foreign_job(redis_client, settings, "evil-pickle", b"\x80\x04\x95not json")
    run_burst(settings)
    assert_refused(redis_client, settings, "evil-pickle", "not ideaforge's JSON payload")


@pytest.mark.parametrize(
    ("field", "func", "brief"),
    [
        ("success_callback_name", SUBMIT_BRIEF, VALID_BRIEF),  # would succeed: success callback
        ("failure_callback_name", SUBMIT_BRIEF, {"topic": "x", "rounds": 0}),  # would fail: failure callback
        ("stopped_callback_name", SUBMIT_BRIEF, VALID_BRIEF),
    ],
)
def test_a_foreign_callback_is_refused_and_never_runs(
    settings: Settings, redis_client: redis.Redis, marker: Path, field: str, func: str, brief: dict[str, Any]
) -> None:
    foreign_job(redis_client, settings, "evil-cb", [func, None, [brief], {}], **{field: TOUCH})
    run_burst(settings)
    assert not marker.exists()
    kind = field.split("_")[0]
    assert_refused(redis_client, settings, "evil-cb", f"{kind} callback '{TOUCH}' is not allowed")
    assert Ideaforge(settings).list_runs() == []  # the job itself did not run either


def test_ideaforges_own_failure_callback_is_refused_on_another_function(
    settings: Settings, redis_client: redis.Redis
) -> None:
    foreign_job(
        redis_client,
        settings,
        "evil-own-cb",
        [SUBMIT_BRIEF, None, [VALID_BRIEF], {}],
        failure_callback_name=ON_TURN_FAILURE,
    )
    run_burst(settings)
    assert_refused(redis_client, settings, "evil-own-cb", f"failure callback '{ON_TURN_FAILURE}'")


@pytest.mark.parametrize("status", ["finished", "failed"])
def test_webhooks_are_refused_and_never_requested(
    settings: Settings, redis_client: redis.Redis, webhook_url: str, status: str
) -> None:
    hooks = json.dumps(
        [{"url": webhook_url, "job_status": s, "method": "POST"} for s in ("finished", "failed")]
    )
    brief = VALID_BRIEF if status == "finished" else {"topic": "x", "rounds": 0}
    foreign_job(redis_client, settings, "evil-hook", [SUBMIT_BRIEF, None, [brief], {}], webhooks=hooks)
    run_burst(settings)
    time.sleep(0.2)
    assert _Hits.hits == []
    assert_refused(redis_client, settings, "evil-hook", "webhooks are not allowed", webhook_url)


def test_an_abandoned_foreign_job_runs_no_failure_callback_in_registry_cleanup(
    settings: Settings, redis_client: redis.Redis, marker: Path, webhook_url: str
) -> None:
    """RQ's started-job registry cleanup (run by every worker and by the web queue page) calls the
    failure callback and webhooks of an expired job: a foreign hash there resolves nothing."""
    hooks = json.dumps([{"url": webhook_url, "job_status": "failed"}])
    foreign_job(
        redis_client,
        settings,
        "evil-wip",
        [SUBMIT_BRIEF, None, [VALID_BRIEF], {}],
        status="started",
        failure_callback_name=TOUCH,
        webhooks=hooks,
    )
    redis_client.delete(f"rq:queue:{settings.queue_name}")
    redis_client.zadd(f"rq:wip:{settings.queue_name}", {"evil-wip:exec1": 1})
    assert Ideaforge(settings).queue_report()["depths"]["failed"] == 1  # the web queue page
    run_burst(settings)  # a worker's maintenance runs the same cleanup
    time.sleep(0.2)
    assert not marker.exists()
    assert _Hits.hits == []


def test_ideaforge_jobs_still_run_through_the_gate(settings: Settings, redis_client: redis.Redis) -> None:
    # the raw intake job a foreign producer may write, then take_turn jobs with their failure callback
    foreign_job(redis_client, settings, "legit-brief", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}])
    run_burst(settings)
    job = Job.fetch("legit-brief", connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    state = Ideaforge(settings).get_run(job.return_value())
    assert state.status.value == "finished" and state.step > 0


def _worker_commands(settings: Settings) -> list[list[str]]:
    return [
        [sys.executable, "-m", "ideaforge", "worker", "--burst", "--quiet"],
        # a plain `rq worker` with ideaforge's worker class, even without --serializer (pickle)
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            settings.queue_name,
            "--burst",
            "--quiet",
            "--url",
            settings.redis_url,
            "--worker-class",
            "workers.worker.TurnWorker",
        ],
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["ideaforge-worker", "rq-worker"])
def test_real_worker_processes_refuse_foreign_jobs(
    settings: Settings,
    redis_client: redis.Redis,
    env: dict[str, str],
    marker: Path,
    webhook_url: str,
    which: int,
) -> None:
    foreign_job(redis_client, settings, "evil-1", ["os.system", None, [f"id > {marker}"], {}])
    foreign_job(
        redis_client, settings, "evil-2", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], success_callback_name=TOUCH
    )
    hooks = json.dumps([{"url": webhook_url, "job_status": "finished"}])
    foreign_job(redis_client, settings, "evil-3", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], webhooks=hooks)
    foreign_job(redis_client, settings, "legit", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}])
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "GATE_MARKER": str(marker)}
    proc = subprocess.run(_worker_commands(settings)[which], cwd=ROOT, env=child_env, timeout=180)
    assert proc.returncode == 0
    assert not marker.exists()
    assert _Hits.hits == []
    assert_refused(redis_client, settings, "evil-1", "'os.system'")
    assert_refused(redis_client, settings, "evil-2", "success callback")
    assert_refused(redis_client, settings, "evil-3", "webhooks")
    legit = Job.fetch("legit", connection=redis_client, serializer=JSONSerializer)
    assert legit.get_status() == JobStatus.FINISHED
    assert Ideaforge(settings).get_run(legit.return_value()).status.value == "finished"


def test_a_compressed_hash_is_checked_too(
    settings: Settings, redis_client: redis.Redis, marker: Path
) -> None:
    data = zlib.compress(json.dumps(["os.system", None, [f"id > {marker}"], {}]).encode())
    foreign_job(redis_client, settings, "evil-zip", data)
    run_burst(settings)
    assert not marker.exists()
    assert_refused(redis_client, settings, "evil-zip", "'os.system'")


MALFORMED: list[tuple[str, list[Any] | bytes, dict[str, str]]] = [
    ("func-list", [["workers.intake.submit_brief"], None, [], {}], {}),
    ("func-dict", [{"f": "x"}, None, [], {}], {}),
    ("bad-timeout", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], {"timeout": "abc"}),
    ("bad-created", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], {"created_at": "notadate"}),
    ("bad-status", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], {"status": "weird"}),
    ("bad-deps", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], {"dependency_ids": "notjson"}),
    ("bad-retries", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], {"retries_left": "x"}),
    ("bad-cb-timeout", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}], {"success_callback_timeout": "abc"}),
]


@pytest.mark.parametrize(("job_id", "data", "fields"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_hash_rq_cannot_read_is_refused_and_the_worker_goes_on(
    settings: Settings, redis_client: redis.Redis, job_id: str, data: list[Any], fields: dict[str, str]
) -> None:
    """A malformed field used to raise while the worker fetched the job: the worker quit (exit 0),
    the job stayed `queued` with no reason, and every job behind it waited."""
    foreign_job(redis_client, settings, job_id, data, **fields)
    foreign_job(redis_client, settings, "legit-after", [SUBMIT_BRIEF, None, [VALID_BRIEF], {}])
    run_burst(settings)
    job = GatedJob.fetch(job_id, connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED
    result = job.latest_result()
    assert result is not None and "refused by the ideaforge queue gate" in (result.exc_string or "")
    after = Job.fetch("legit-after", connection=redis_client, serializer=JSONSerializer)
    assert after.get_status() == JobStatus.FINISHED  # the worker carried on
    assert Ideaforge(settings).queue_report()["depths"]["failed"] == 1  # and the queue page reads it


def test_a_pickled_job_the_gate_refused_does_not_break_the_queue_page(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """The README's raw-queue example with `serializer=JSONSerializer` forgotten: RQ pickles the
    payload, the gate refuses it, and the queue page (`/queues`) answered 500 while it was listed."""
    from rq import Queue

    Queue(settings.queue_name, connection=redis_client).enqueue(SUBMIT_BRIEF, {"topic": "forgot it"})
    run_burst(settings)
    report = Ideaforge(settings).queue_report()
    assert report["depths"]["failed"] == 1
    assert "refused by the ideaforge queue gate" in report["failed"][0]["error"]
