"""Collect real model output for the dedup calibration: the embedded model's deny-lists and ideas.

    IDEAFORGE_LOCAL_MODEL_THREADS=1 python -m benchmarks.novelty_collect \
        [--topics benchmarks/quality/topics.yaml] [--only 0,1,2] [--generate 1] [--ideas 3] \
        [--budget-s 1500] [--out tests/data/real_outputs.jsonl] [--pairs FILE]

For each topic it runs the production turns on a fresh run state (strategy `restrict`, the
defaults otherwise): `derive_deny` (the Generator's common answers, the run's deny-list) and then
`generate` `--generate` times (a second call sees the first call's titles as "already proposed", as
a top-up does). It starts the embedded model through `ideaforge.local_model.ensure_local_server`
(the model named by `IDEAFORGE_LOCAL_MODEL`) and appends one JSON line per topic to `--out`, with
its provenance (model, date, seconds). It stops when `--budget-s` seconds of model time are spent.
The pairs and their labels are formed from this file by hand (tests/data/real_idea_pairs.jsonl,
real_deny_pairs.jsonl; the labelling rule is in their header line).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from agents import turns
from agents.brief import parse_brief
from agents.context import EventLog
from agents.state import new_run_state
from config.settings import Settings
from ideaforge.local_model import ensure_local_server
from workers.evaluation.topics import load_topics
from workers.runtime import turn_context

ROOT = Path(__file__).resolve().parent.parent


async def collect_topic(settings: Settings, topic: str, generate_calls: int, ideas: int) -> dict[str, object]:
    """One topic: the derived deny-list and `generate_calls` Generator answers of up to `ideas`
    ideas each (production turns)."""
    brief = parse_brief({"topic": topic, "strategy": "restrict", "ideas_per_round": ideas})
    state = new_run_state(brief, "calibration", time.time())
    started = time.perf_counter()
    async with turn_context(settings, brief) as ctx:
        log = EventLog(state, time.time)
        await turns.derive_deny(state, ctx, log)
        drafts: list[dict[str, object]] = []
        for call in range(1, generate_calls + 1):
            before = len(state.ideas)
            await turns.generate(state, ctx, log)
            drafts += [
                {"id": i.id, "title": i.title, "summary": i.summary, "call": call}
                for i in state.ideas[before:]
            ]
    return {
        "topic": topic,
        "deny": state.deny,
        "ideas": drafts,
        "seconds": round(time.perf_counter() - started, 1),
    }


def candidate_pairs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pair the filter would score from collected rows, unlabelled (`same` None).

    Kinds: `run_run` (two ideas of one run, the earlier one as `a`), `known_idea` (a topic's known
    answer from topics.yaml as `a`, an idea as `b`), `deny_idea` (an item of the model's derived
    deny-list as `a`, an idea as `b`). Ideas are `{"title", "summary"}`; known and deny items strings.
    """
    pairs: list[dict[str, Any]] = []
    for row in rows:
        base = {"topic": row["topic"], "model": row["model"], "date": row["date"], "same": None}
        ideas = [{"title": i["title"], "summary": i["summary"]} for i in row["ideas"]]
        for j, b in enumerate(ideas):
            pairs += [{**base, "kind": "run_run", "a": a, "b": b} for a in ideas[:j]]
            pairs += [{**base, "kind": "known_idea", "a": k, "b": b} for k in row["known"]]
            pairs += [{**base, "kind": "deny_idea", "a": d, "b": b} for d in row["deny"]]
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--topics", type=Path, default=ROOT / "benchmarks" / "quality" / "topics.yaml")
    parser.add_argument("--only", default="", help="comma-separated topic indexes (default: all)")
    parser.add_argument("--generate", type=int, default=1, help="Generator calls per topic")
    parser.add_argument("--ideas", type=int, default=3, help="ideas per round (the brief's)")
    parser.add_argument("--budget-s", type=float, default=1500.0, help="stop starting topics after this")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "real_outputs.jsonl")
    parser.add_argument(
        "--pairs", type=Path, default=None, help="write the unlabelled candidate pairs of --out here and exit"
    )
    args = parser.parse_args()
    if args.pairs is not None:
        rows = [json.loads(x) for x in args.out.read_text(encoding="utf-8").splitlines() if x.strip()]
        with args.pairs.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in candidate_pairs(rows))
        return
    settings = Settings()
    endpoint = ensure_local_server(settings)
    topics = load_topics(args.topics)
    wanted = {int(x) for x in args.only.split(",") if x.strip()}
    spent = 0.0
    for k, t in enumerate(topics):
        if wanted and k not in wanted:
            continue
        if spent >= args.budget_s:
            print(f"budget spent ({spent:.0f} s); stopping before topic {k}")
            break
        row = asyncio.run(collect_topic(settings, t.topic, args.generate, args.ideas))
        spent += float(row["seconds"])  # type: ignore[arg-type]
        row = {
            "model": endpoint.model,
            "date": dt.date.today().isoformat(),
            "threads": settings.local_model_threads,
            "known": list(t.known),
            **row,
        }
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"[{k}] {t.topic}: {len(row['deny'])} deny, {len(row['ideas'])} ideas, {row['seconds']} s")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
