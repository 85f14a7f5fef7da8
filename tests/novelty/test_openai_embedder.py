from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import numpy as np
import pytest

from agents.errors import EmbedderMismatch, ModelUnavailable
from agents.novelty.embedder import OpenAIEmbedder


class _Fake(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    status = 200
    dim = 4

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if self.status != 200:
            self.send_response(self.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0, 2.0][: self.dim]}
            for i, t in enumerate(body["input"])
        ][::-1]  # out of order on purpose
        payload = {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        raw = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Fake.requests = []
    _Fake.status = 200
    _Fake.dim = 4
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_openai_embedder_against_fake_server(server: str) -> None:
    emb = OpenAIEmbedder(model="emb-small", dim=4, api_key="k", base_url=server, max_retries=0)
    assert emb.model_id == "openai:emb-small"
    v = emb.embed(["ab", "abcd"])
    assert v.dtype == np.float32 and v.shape == (2, 4)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    expected = np.array([[2, 1, 0, 2], [4, 1, 0, 2]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(v, expected, atol=1e-6)  # re-sorted by index
    assert _Fake.requests[0]["path"] == "/v1/embeddings"
    assert _Fake.requests[0]["body"]["model"] == "emb-small"


def test_openai_embedder_errors(server: str) -> None:
    _Fake.status = 503
    emb = OpenAIEmbedder(model="m", dim=4, base_url=server, max_retries=0)
    with pytest.raises(ModelUnavailable):
        emb.embed(["x"])
    _Fake.status = 200
    _Fake.dim = 3
    with pytest.raises(EmbedderMismatch):
        emb.embed(["x"])
