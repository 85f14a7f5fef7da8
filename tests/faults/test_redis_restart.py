"""Redis SIGKILLed and restarted (AOF, appendfsync always) mid-run: runs resume and complete."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import get_settings
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.faults.integrity import check_run
from tests.faults.procs import ROOT, Workers, child_env, wait_for
from tests.faults.redis_server import PrivateRedis
from workers.api import Ideaforge


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.mark.parametrize("outage_s", [2.0, 20.0], ids=["2s-outage", "20s-outage"])
def test_redis_restart_mid_run(
    outage_s: float,
    env: dict[str, str],
    fast_recovery: dict[str, str],
    private_redis: PrivateRedis,
    fake_model: FakeModelServer,
    workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("IDEAFORGE_REDIS_URL", private_redis.url)
    env["IDEAFORGE_REDIS_URL"] = private_redis.url
    env["IDEAFORGE_LOG_LEVEL"] = "INFO"
    get_settings.cache_clear()
    fake_model.set_latency(100)
    forge = Ideaforge(get_settings())
    workers.start(2)
    brief = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 2, "ideas_per_round": 2}
    run_ids = [forge.submit(brief) for _ in range(4)]
    watch_log = tmp_path / "watch.log"
    with open(watch_log, "wb") as out:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "ideaforge", "watch", run_ids[0], "--format", "json"],
            cwd=ROOT,
            env=child_env(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: any(forge.get_run(r).step >= 3 for r in run_ids), timeout=60, what="progress")
        before = {r: forge.get_run(r).step for r in run_ids}
        private_redis.kill()
        # Redis stays down for a while: the outage itself is the fault; 20 s is longer than the
        # clients' retry window (RQ's scheduler process dies on it, turns fail while it lasts)
        time.sleep(outage_s)
        private_redis.start()
        back_at = time.monotonic()
        forge.client.connection_pool.disconnect()
        for r in run_ids:  # nothing committed before the crash was lost
            assert forge.get_run(r).step >= before[r]
        at_restart = {r: forge.get_run(r).step for r in run_ids}
        resumed_after: dict[str, float] = {}

        def all_resumed() -> bool:
            for r in run_ids:
                state = forge.get_run(r)
                if r not in resumed_after and (state.terminal or state.step > at_restart[r]):
                    resumed_after[r] = time.monotonic() - back_at
            return len(resumed_after) == len(run_ids)

        def all_done() -> bool:
            return all_resumed() and all(forge.get_run(r).terminal for r in run_ids)

        try:
            wait_for(all_done, timeout=90, interval=0.1, what="runs to finish after the restart")
        except AssertionError:
            states = [(r, forge.get_run(r).step, forge.get_run(r).status.value) for r in run_ids]
            jobs = {k.decode(): forge.client.hget(k, "status") for k in forge.client.keys("rq:job:*")}
            raise AssertionError(f"{states}\n{jobs}\n{workers.logs()[-6000:]}") from None
        resumed_in = max(resumed_after.values())
        watcher.wait(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    for r in run_ids:
        state, _ = check_run(forge.store, r)
        assert state.status.value == "finished", (r, state.status, state.errors)
    assert len(workers.live()) == 2, "a worker crashed on the outage:\n" + workers.logs()[-3000:]
    if outage_s < 5:  # within the client's retry window, `watch` follows the run to its end
        assert watcher.returncode == 0, watch_log.read_text()[-2000:]
    else:  # past it, `watch` gives up with one clean line (exit 2), never a traceback
        assert watcher.returncode in (0, 2), watch_log.read_text()[-2000:]
        if watcher.returncode == 2:
            assert watch_log.read_text().splitlines()[-1].startswith("error: cannot reach Redis at")
    logs = workers.logs()
    assert "Traceback" not in watch_log.read_text()
    assert resumed_in < 10, f"a run resumed {resumed_in:.1f}s after Redis came back: {resumed_after}"
    print(
        f"\nREDIS restart after a {outage_s:.0f} s outage: every run resumed within {resumed_in:.1f}s of "
        "Redis coming back; 4/4 finished"
    )
    print("worker log lines about the outage:")
    for line in logs.splitlines():
        if "redis" in line.lower() and ("connect" in line.lower() or "unavailable" in line.lower()):
            print("   ", line[:200])
