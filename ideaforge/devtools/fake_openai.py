"""A deterministic, role-aware, OpenAI-compatible chat server for tests and benchmarks.

It answers `/v1/chat/completions` with JSON shaped for whatever the request asks (ideas,
critiques, scores, deny-lists, questions, concept pairs, same-idea and pairwise verdicts),
derived from a hash of the prompt, so runs are reproducible. Latency and faults are set per
server and can be changed over HTTP (`/_control/*`) while a test runs:

    python -m ideaforge.devtools.fake_openai --port 8099 --latency-ms 200
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ADJECTIVES = [
    "Tidal",
    "Quiet",
    "Inverted",
    "Borrowed",
    "Seasonal",
    "Modular",
    "Swarm",
    "Ledger",
    "Reverse",
    "Folded",
    "Harvest",
    "Mirror",
    "Nomad",
    "Crowdsourced",
    "Lantern",
    "Orbit",
    "Patchwork",
    "Relay",
    "Perpetual",
    "Sleeper",
    "Glacier",
    "Compass",
    "Ember",
    "Tandem",
    "Prism",
]
NOUNS = [
    "market",
    "exchange",
    "atlas",
    "protocol",
    "cooperative",
    "registry",
    "auction",
    "pantry",
    "bounty",
    "index",
    "passport",
    "orchestra",
    "commons",
    "barometer",
    "ledger",
    "lottery",
    "apprenticeship",
    "census",
    "relay",
    "garden",
]
DOMAINS = [
    "kitchens",
    "timetables",
    "procurement",
    "compost",
    "menus",
    "suppliers",
    "students",
    "logistics",
    "donations",
    "forecasting",
    "leftovers",
    "packaging",
    "portions",
    "canteens",
    "interns",
    "cleaners",
    "budgets",
    "nutrition",
]
FATAL_MARKER = "Perpetual"
KEYS = ("common_answers", "questions", "pairs", "ideas", "flaws", "novelty", "same", "winner")


def _h(*parts: object) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def _kind(body: dict[str, Any], user: str) -> str:
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or {}
    props = schema.get("properties") or {}
    for key in KEYS:
        if key in props:
            return key
    for key in KEYS:
        if f'"{key}"' in user:
            return key
    return "text"


def _role(messages: list[dict[str, Any]]) -> str:
    system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    for role in ("Generator", "Skeptic", "Judge"):
        if f"You are the {role}" in system:
            return role.lower()
    return "unknown"


def _answer(kind: str, user: str) -> dict[str, Any] | str:
    seed = _h(user)
    if kind == "common_answers":
        return {
            "common_answers": [
                "donate leftovers to food banks",
                "smaller plates",
                "composting",
                "menu planning",
            ]
        }
    if kind == "questions":
        return {"questions": [f"Question {k} nobody asked about it?" for k in range(1, 7)]}
    if kind == "pairs":
        return {
            "pairs": [
                {"first": "tidal engineering", "second": "canteen queues"},
                {"first": "auction theory", "second": "leftover portions"},
            ]
        }
    if kind == "ideas":
        match = re.search(r"Propose exactly (\d+)", user)
        count = int(match.group(1)) if match else 3
        survivors = re.findall(r'<idea id="(i\d+)">', user)
        ideas = []
        for k in range(count):
            h = _h(seed, k)
            title = (
                f"{ADJECTIVES[h % len(ADJECTIVES)]} {NOUNS[(h // 31) % len(NOUNS)]} "
                f"for {DOMAINS[(h // 997) % len(DOMAINS)]} {h % 1000}"
            )
            ideas.append(
                {
                    "title": title,
                    "summary": f"{title}: a scheme where staff and students swap roles to cut waste. "
                    f"Variant {h % 97} of the approach.",
                    "angle": "",
                    "builds_on": survivors[:1] if survivors and k == 0 else [],
                }
            )
        return {"ideas": ideas}
    title_match = re.search(r"Title: (.*)", user)
    title = title_match.group(1) if title_match else user[:40]
    th = _h(title)
    if kind == "flaws":
        return {
            "flaws": [f"Adoption cost for {title[:30]}", "Needs a pilot to prove savings"],
            "strongest_objection": f"Staff time needed to run {title[:40]}",
            "fatal": FATAL_MARKER in title,
        }
    if kind == "novelty":
        return {
            "novelty": 1 + th % 10,
            "feasibility": 1 + (th // 10) % 10,
            "rationale": f"Scored deterministically for {title[:40]}.",
        }
    if kind == "same":
        return {"same": False, "reason": "different mechanisms"}
    if kind == "winner":
        return {"winner": "A" if seed % 2 else "B", "reason": "A is more specific"}
    return "ok"


@dataclass
class Fault:
    """One injected failure. kind: status | reset | timeout | non_json | bad_schema | empty | long."""

    kind: str
    status: int = 500
    retry_after: float | None = None
    seconds: float = 5.0
    role: str | None = None  # only requests from this role consume it

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Fault:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class FakeState:
    latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    prompt_chars: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, role: str) -> Fault | None:
        with self.lock:
            for n, fault in enumerate(self.faults):
                if fault.role in (None, role):
                    return self.faults.pop(n)
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: headers and body leave as two writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms on Linux), so a "0 ms" model answered in ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}") if length else {}
        return data if isinstance(data, dict) else {}

    def do_GET(self) -> None:
        st = self.server.state
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        elif self.path.startswith("/_control/stats"):
            with st.lock:
                self._send(
                    200,
                    {
                        "requests": dict(st.requests),
                        "prompt_chars": list(st.prompt_chars),
                        "faults_left": len(st.faults),
                        "latency_ms": st.latency_ms,
                    },
                )
        elif self.path.startswith("/health"):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        st = self.server.state
        body = self._body()
        if self.path.startswith("/_control/faults"):
            with st.lock:
                st.faults.extend(Fault.parse(f) for f in body.get("faults", []))
            self._send(200, {"faults": len(st.faults)})
            return
        if self.path.startswith("/_control/config"):
            with st.lock:
                if "latency_ms" in body:
                    st.latency_ms = float(body["latency_ms"])
                if body.get("reset"):
                    st.faults.clear()
                    st.requests.clear()
                    st.prompt_chars.clear()
            self._send(200, {"latency_ms": st.latency_ms})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found"}})
            return
        self._complete(body)

    def _complete(self, body: dict[str, Any]) -> None:
        st = self.server.state
        messages = body.get("messages") or []
        role = _role(messages)
        user = str(messages[-1].get("content", "")) if messages else ""
        prompt_text = "".join(str(m.get("content", "")) for m in messages)
        with st.lock:
            st.requests[role] += 1
            st.requests["total"] += 1
            st.prompt_chars.append(len(prompt_text))
        if st.latency_ms:
            time.sleep(st.latency_ms / 1000)
        fault = st.take_fault(role)
        kind = _kind(body, user)
        answer = _answer(kind, user)
        content = answer if isinstance(answer, str) else json.dumps(answer)
        if fault is not None:
            if fault.kind == "status":
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                self._send(fault.status, {"error": {"message": f"injected {fault.status}"}}, headers)
                return
            if fault.kind == "reset":
                self.close_connection = True
                self.connection.close()
                return
            if fault.kind == "timeout":
                time.sleep(fault.seconds)
            elif fault.kind == "non_json":
                self._send(200, b"<html>upstream error</html>")
                return
            elif fault.kind == "bad_schema":
                content = json.dumps({"unexpected": "shape"})
            elif fault.kind == "empty":
                content = ""
            elif fault.kind == "long":
                content = "x" * 200_000
        self._send(
            200,
            {
                "id": f"chatcmpl-{_h(user) % 10**9}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": max(1, len(prompt_text) // 4),
                    "completion_tokens": max(1, len(content) // 4),
                    "total_tokens": max(1, len(prompt_text) // 4) + max(1, len(content) // 4),
                },
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # listen backlog: the default 5 drops connects when more calls fan out at once (1 s SYN retry)
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], state: FakeState) -> None:
        super().__init__(addr, _Handler)
        self.state = state


class FakeModelServer:
    """Run the fake server in a background thread: `with FakeModelServer() as fake: fake.base_url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0.0) -> None:
        self.state = FakeState(latency_ms=latency_ms)
        self._server = _Server((host, port), self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_faults(self, *faults: Fault) -> None:
        with self.state.lock:
            self.state.faults.extend(faults)

    def set_latency(self, ms: float) -> None:
        self.state.latency_ms = ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    server = _Server((args.host, args.port), FakeState(latency_ms=args.latency_ms))
    print(f"fake OpenAI server on http://{args.host}:{server.server_address[1]}/v1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
