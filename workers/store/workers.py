"""Which ideaforge workers are alive: a set of names and a short-lived key per worker.

Every ideaforge worker registers its name in `Keys.workers` and keeps `Keys.worker_alive(name)`
fresh (a beat every few seconds, expiring after `worker_dead_after_s`). An expired key means the
worker is dead, and its abandoned turn may be taken over (workers/recovery.py).
"""

from __future__ import annotations

import redis

from workers.store.keys import Keys


class WorkerLiveness:
    """Liveness keys under `keys` on `client`; `ttl_ms` is how long one beat keeps a worker alive."""

    def __init__(self, client: redis.Redis, keys: Keys, ttl_ms: int) -> None:
        self.r = client
        self.keys = keys
        self.ttl_ms = ttl_ms

    def register(self, name: str) -> None:
        """`name` joins the live workers, alive for `ttl_ms` from now."""
        with self.r.pipeline() as pipe:
            pipe.sadd(self.keys.workers, name)
            pipe.set(self.keys.worker_alive(name), "1", px=self.ttl_ms)
            pipe.execute()

    def beat(self, name: str) -> None:
        """`name` is alive for another `ttl_ms`."""
        self.r.set(self.keys.worker_alive(name), "1", px=self.ttl_ms)

    def unregister(self, name: str) -> None:
        """`name` stopped cleanly."""
        with self.r.pipeline() as pipe:
            pipe.srem(self.keys.workers, name)
            pipe.delete(self.keys.worker_alive(name))
            pipe.execute()

    def alive(self, name: str) -> bool | None:
        """True: one of ours, beating. False: one of ours whose beat expired (dead). None: not one of
        ours (the caller asks RQ)."""
        if self.r.exists(self.keys.worker_alive(name)):
            return True
        if self.r.sismember(self.keys.workers, name):
            return False
        return None
