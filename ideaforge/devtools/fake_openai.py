"""A deterministic, role-aware, OpenAI-compatible chat server for tests and benchmarks.

It answers `/v1/chat/completions` with JSON shaped for whatever the request asks (ideas, evolved ideas,
critiques, scores, deny-lists, questions, concept pairs, same-idea and pairwise verdicts),
derived from a hash of the prompt, so runs are reproducible. The kind of answer (and so the role
that asks) comes only from the request's JSON schema (`response_format`, or the schema hint of a
server without it); details (how many ideas, idea ids and titles, the two ideas of a match) are
read through the markers of `agents.prompts.markers`, never from our sentences. Latency, faults and
modes are set per server and can be changed over HTTP (`/_control/*`) while a test runs:

    python -m ideaforge.devtools.fake_openai --port 8099 --latency-ms 200 --mode reasoning

Modes make the server behave, on every request, as one model family's endpoint is documented to
(`MODES`); faults (`Fault`) are one-off misbehaviours, consumed by the next matching request.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agents.prompts import markers

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
    "dish rooms",
    "loading docks",
    "suppliers",
    "students",
    "logistics",
    "night shifts",
    "forecasting",
    "vending",
    "packaging",
    "catering contracts",
    "canteens",
    "interns",
    "cleaners",
    "budgets",
    "nutrition",
]
# Summaries are composed from independent slots so that the fake's ideas are far apart under MiniLM
# (the novelty filter must not merge them): actor x mechanism x instrument.
ACTORS = [
    "Night-shift cooks",
    "First-year students",
    "The purchasing office",
    "Delivery drivers",
    "Retired chefs",
    "A student radio club",
    "Dishwashing staff",
    "Campus librarians",
    "Local farmers",
    "The chemistry department",
    "Exchange students",
    "Security guards",
]
MECHANISMS = [
    "trade surplus credits in a weekly sealed-bid auction",
    "publish a live map of which counters run out first",
    "vote by text message on tomorrow's single special",
    "rent unused freezer space to neighbouring bakeries",
    "run a pop-up repair stall for broken kitchen gear",
    "log every spoiled crate with a barcode photo",
    "swap duty rosters through a points-based exchange",
    "stage monthly blind tastings of rescued ingredients",
    "print a newsletter ranking suppliers by punctuality",
    "pre-order lunches through a chatbot that predicts turnout",
    "turn fryer oil into fuel for the campus shuttle",
    "lend reusable crates through a deposit scheme",
    "teach a short course on fermenting vegetables",
    "measure queue lengths with ceiling cameras",
    "sell mystery boxes of near-expiry stock at closing time",
    "grow herbs in hydroponic towers beside the tills",
    "commission murals that show each week's spoilage in kilograms",
    "hold a quarterly hackathon on routing the supply vans",
    "insure small vendors against unsold stock with a mutual fund",
    "translate recipes into twelve languages for visiting staff",
    "broadcast a podcast interviewing the farmers who grow the produce",
    "certify kitchens with a bronze, silver or gold badge for efficiency",
    "train a sniffer dog to find spoiled produce in storage rooms",
    "pay cashback to diners who return their trays sorted",
]
INSTRUMENTS = [
    "using a shared spreadsheet",
    "with a paper ledger at the door",
    "via a mobile app with badges",
    "tracked on a public whiteboard",
    "settled in campus tokens",
    "coordinated over a group chat",
    "backed by a small grant",
    "audited by an outside volunteer",
]
FATAL_MARKER = "Perpetual"
RECEIVED_KEPT = 2000  # requests `FakeState.received` keeps (the newest), so a long benchmark stays small
# The answer schema's distinguishing property -> the role whose answer has that shape.
ROLE_OF_KIND = {
    "common_answers": "generator",
    "questions": "generator",
    "pairs": "generator",
    "ideas": "generator",
    "what_changed": "generator",  # an evolution operator's one idea (combine, simplify)
    "flaws": "skeptic",
    "more_novel": "judge",  # before "novelty": the eval's preference verdict
    "novelty": "judge",
    "recurring_flaws": "judge",
    "same": "judge",
    "winner": "judge",
}


def _h(*parts: object) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def _schema(body: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer's JSON schema: `response_format`, else the schema hint in the last user message."""
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema")
    if isinstance(schema, dict):
        return schema
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    return next((s for s in map(markers.schema_hint, reversed(users)) if s is not None), {})


def _kind(schema: dict[str, Any]) -> str:
    props = schema.get("properties") or {}
    return next((key for key in ROLE_OF_KIND if key in props), "text")


SAME_OVERLAP = 0.5  # the fake Judge calls two ideas "the same" when their words overlap this much


def _jaccard(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"[a-z0-9]+", a.lower())), set(re.findall(r"[a-z0-9]+", b.lower()))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def _idea_text(seed: int, k: int) -> tuple[str, str]:
    """The `k`-th idea (title, summary) of an answer whose request hashed to `seed`."""
    h = _h(seed, k)
    title = (
        f"{ADJECTIVES[h % len(ADJECTIVES)]} {NOUNS[(h // 31) % len(NOUNS)]} "
        f"for {DOMAINS[(h // 997) % len(DOMAINS)]} {h % 1000}"
    )
    summary = (
        f"{ACTORS[_h(h, 'actor') % len(ACTORS)]} {MECHANISMS[(seed + 7 * k) % len(MECHANISMS)]}, "
        f"{INSTRUMENTS[_h(h, 'with') % len(INSTRUMENTS)]}."
    )
    return title, summary


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
        count = markers.requested_count(user) or 3
        survivors = markers.idea_ids(user)
        ideas = []
        for k in range(count):
            title, summary = _idea_text(seed, k)
            ideas.append(
                {
                    "title": title,
                    "summary": summary,
                    "angle": "",
                    "builds_on": survivors[:1] if survivors and k == 0 else [],
                }
            )
        return {"ideas": ideas}
    if kind == "what_changed":
        title, summary = _idea_text(seed, 0)
        parents = " and ".join(markers.idea_ids(user)) or "the idea shown"
        return {"title": title, "summary": summary, "what_changed": f"made from {parents}"}
    title = markers.first_title(user) or user[:40]
    th = _h(title)
    if kind == "flaws":
        return {
            "flaws": [f"Adoption cost for {title[:30]}", "Needs a pilot to prove savings"],
            "strongest_objection": f"Staff time needed to run {title[:40]}",
            "verdict": "fatal" if FATAL_MARKER in title else "fixable",
        }
    if kind == "recurring_flaws":
        return {"recurring_flaws": ["Adoption costs are left unpriced", "No pilot proves the savings"]}
    if kind == "novelty":
        return {
            "novelty": 1 + th % 10,
            "feasibility": 1 + (th // 10) % 10,
            "rationale": f"Scored deterministically for {title[:40]}.",
        }
    if kind == "same":
        a, b = markers.two_ideas(user)
        overlap = _jaccard(a, b)
        same = overlap >= SAME_OVERLAP
        return {"same": same, "reason": f"word overlap {overlap:.2f}: {'same' if same else 'different'} idea"}
    if kind == "winner":
        a, b = markers.two_ideas(user)
        if not (a and b):
            return {"winner": "A" if seed % 2 else "B", "reason": "A is more specific"}
        # consistent in both orders: the idea with the larger hash wins, wherever it is shown
        return {"winner": "A" if _h(a) >= _h(b) else "B", "reason": "it is the more specific idea"}
    if kind == "more_novel":
        a, b = markers.two_ideas(user)
        # consistent in both orders: the larger hash is more novel, the smaller more feasible
        a_wins = _h(a) >= _h(b)
        novel, feasible = ("A", "B") if a_wins else ("B", "A")
        return {"more_novel": novel, "more_feasible": feasible, "reason": "decided by the ideas' hashes"}
    return "ok"


# Server-wide behaviours, each reproducing one model family's documented behaviour.
MODES = {
    # OpenAI o1/o3/o4-mini and gpt-5: a 400 for `max_tokens` (they want `max_completion_tokens`) and
    # for a temperature other than 1, worded and coded as OpenAI words them.
    "reasoning": "OpenAI reasoning models: 400 on max_tokens and on temperature != 1",
    # DeepSeek R1 / Qwen3 served raw (llama.cpp, Ollama, vLLM without a reasoning parser): the
    # answer follows a <think> block that quotes braces.
    "thinking": "R1/Qwen3: <think>...</think> with braces before the JSON answer",
    # DeepSeek's API and vLLM with a reasoning parser: the reasoning in `message.reasoning_content`.
    "reasoning_content": "R1 via an API: the reasoning in message.reasoning_content",
    # Ollama's OpenAI-compatible endpoint with a model that ignores response_format: fenced JSON.
    "fenced": "Ollama-style: the JSON answer in a ```json code fence, usage reported",
    # Any endpoint honours the answer cap: longer answers are cut off with finish_reason "length".
    "cap": "answers longer than max_tokens / max_completion_tokens (4 characters a token) are cut off",
}
THINKING = (
    '<think>\nThe user wants JSON like {"ideas": [...]} or {"flaws": ...}. Let me think about '
    "the topic first: {not json} ... I will answer with the object only.\n</think>\n\n"
)


@dataclass
class Fault:
    """One injected failure. kind: status | reset | timeout | non_json | bad_schema | empty | long |
    content_filter | length | idea.

    `content_filter` answers as Azure does when its filter withholds an answer (content null,
    `finish_reason: "content_filter"`, usage reported); `length` cuts the answer in half with
    `finish_reason: "length"`; a `status` fault's error body carries `code` (Azure refuses a
    filtered prompt with 400 and code "content_filter"). `idea` is not a failure: the next Generator
    answer's first idea becomes `title`/`summary` (to make the model repeat itself on purpose, e.g.
    a near-copy of an earlier or a rejected idea). `role`: only requests from this role consume it;
    `match`: only requests whose (first) idea title contains it.
    """

    kind: str
    status: int = 500
    retry_after: float | None = None
    seconds: float = 5.0
    role: str | None = None  # only requests from this role consume it
    match: str | None = None  # only requests about an idea whose title contains this
    code: str | None = None  # the error code of a `status` fault (e.g. Azure's "content_filter")
    title: str = ""
    summary: str = ""

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Fault:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class FakeState:
    latency_ms: float = 0.0
    modes: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    prompt_chars: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the 400 messages a mode answered
    # the newest requests' (answer kind, last user message), for tests that check what a model was sent
    received: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=RECEIVED_KEPT))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, role: str, generating: bool = False, title: str | None = None) -> Fault | None:
        with self.lock:
            for n, fault in enumerate(self.faults):
                if fault.kind == "idea" and not generating:
                    continue  # waits for the next request that generates ideas
                if fault.match is not None and fault.match not in (title or ""):
                    continue
                if fault.role in (None, role):
                    return self.faults.pop(n)
        return None


def _check_modes(modes: set[str] | list[str]) -> set[str]:
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown fake-server modes {sorted(unknown)}; known: {sorted(MODES)}")
    return set(modes)


def _reasoning_refusal(body: dict[str, Any]) -> dict[str, Any] | None:
    """OpenAI's 400 body for a reasoning model's unsupported parameter, or None when all is accepted."""
    if "max_tokens" in body:
        return {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        return {
            "message": f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "unsupported_value",
        }
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
                        "modes": sorted(st.modes),
                        "refused": list(st.refused),
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
                if "modes" in body:
                    try:
                        st.modes = _check_modes(body["modes"])
                    except ValueError as exc:
                        self._send(400, {"error": {"message": str(exc)}})
                        return
                if body.get("reset"):
                    st.faults.clear()
                    st.requests.clear()
                    st.prompt_chars.clear()
                    st.refused.clear()
                    st.received.clear()
            self._send(200, {"latency_ms": st.latency_ms, "modes": sorted(st.modes)})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found"}})
            return
        self._complete(body)

    def _complete(self, body: dict[str, Any]) -> None:
        st = self.server.state
        messages = body.get("messages") or []
        kind = _kind(_schema(body, messages))
        role = ROLE_OF_KIND.get(kind, "unknown")
        user = str(messages[-1].get("content", "")) if messages else ""
        prompt_text = "".join(str(m.get("content", "")) for m in messages)
        with st.lock:
            st.requests[role] += 1
            st.requests["total"] += 1
            st.prompt_chars.append(len(prompt_text))
            st.received.append((kind, user))
            modes = set(st.modes)
        if st.latency_ms:
            time.sleep(st.latency_ms / 1000)
        refusal = _reasoning_refusal(body) if "reasoning" in modes else None
        if refusal is not None:
            with st.lock:
                st.refused.append(refusal["message"])
            self._send(400, {"error": refusal})
            return
        fault = st.take_fault(role, generating=kind == "ideas", title=markers.first_title(user))
        answer = _answer(kind, user)
        if fault is not None and fault.kind == "idea" and isinstance(answer, dict) and answer.get("ideas"):
            answer["ideas"][0].update(title=fault.title, summary=fault.summary, builds_on=[])
        content: str | None = answer if isinstance(answer, str) else json.dumps(answer)
        finish_reason = "stop"
        message: dict[str, Any] = {"role": "assistant"}
        if fault is not None:
            if fault.kind == "status":
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                error = {"message": f"injected {fault.status}", "code": fault.code}
                self._send(fault.status, {"error": error}, headers)
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
            elif fault.kind == "length":
                content, finish_reason = (content or "")[: len(content or "") // 2], "length"
            elif fault.kind == "content_filter":
                content, finish_reason = None, "content_filter"
        if finish_reason == "stop" and "fenced" in modes:
            content = f"```json\n{content}\n```"
        cap = body.get("max_completion_tokens") or body.get("max_tokens")
        over_cap = isinstance(cap, int) and len(content or "") > 4 * cap
        if finish_reason == "stop" and "cap" in modes and isinstance(cap, int) and over_cap:
            content, finish_reason = (content or "")[: 4 * cap], "length"
        if finish_reason == "stop" and "thinking" in modes:
            content = THINKING + (content or "")
        if "reasoning_content" in modes:
            message["reasoning_content"] = "The answer needs the schema's fields {...}; writing them now."
        message["content"] = content
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish_reason, "message": message}
        if finish_reason == "content_filter":  # Azure's annotation of what was filtered
            choice["content_filter_results"] = {"violence": {"filtered": True, "severity": "medium"}}
        prompt_tokens = max(1, len(prompt_text) // 4)
        completion_tokens = max(1, len(content or "") // 4)
        self._send(
            200,
            {
                "id": f"chatcmpl-{_h(user) % 10**9}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [choice],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
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

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0.0, modes: tuple[str, ...] = ()
    ) -> None:
        self.state = FakeState(latency_ms=latency_ms, modes=_check_modes(list(modes)))
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

    def set_modes(self, *modes: str) -> None:
        """Behave as `modes` (names of `MODES`) from the next request on; none: a plain endpoint."""
        checked = _check_modes(list(modes))
        with self.state.lock:
            self.state.modes = checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--mode", action="append", default=[], choices=sorted(MODES), help="behave as a model family does"
    )
    args = parser.parse_args()
    server = _Server((args.host, args.port), FakeState(latency_ms=args.latency_ms, modes=set(args.mode)))
    print(f"fake OpenAI server on http://{args.host}:{server.server_address[1]}/v1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
