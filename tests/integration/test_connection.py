"""The shared Redis client per URL, across an RQ-style fork."""

from __future__ import annotations

import os

from workers.connection import connect


def test_the_shared_client_gets_its_own_socket_in_a_fork_and_the_parent_keeps_its(redis_url: str) -> None:
    client = connect(redis_url)
    assert connect(redis_url) is client
    client.set("forked", "parent")
    parent_id = client.client_id()
    pid = os.fork()
    if pid == 0:  # the work horse: same client object, a fresh connection of its own
        try:
            child = connect(redis_url)
            ok = child is client and child.get("forked") == b"parent" and child.client_id() != parent_id
            child.set("forked", "child ok" if ok else "child wrong")
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    assert client.get("forked") == b"child ok"
    assert client.client_id() == parent_id  # the child neither used nor closed the parent's socket
