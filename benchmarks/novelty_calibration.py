"""Calibrate the dedup thresholds on the labelled pairs in tests/data/, and measure the band's decisions.

    python -m benchmarks.novelty_calibration
    IDEAFORGE_LOCAL_MODEL_THREADS=1 python -m benchmarks.novelty_calibration --judge 12   # + the Judge

Two kinds of labelled pairs, each in a hand-written file and a file of real model output:
- idea vs idea (full texts): `idea_pairs.jsonl` (hand-written) + `real_idea_pairs.jsonl` (two ideas of
  one embedded-model run);
- known item vs idea (a deny-list item, a known answer, a short text): `deny_pairs.jsonl`
  (hand-written) + `real_deny_pairs.jsonl` (the embedded model's derived deny-list and
  topics.yaml's known answers against the model's ideas).
The real files were made by `benchmarks/novelty_collect.py`; their header line (`{"_about": ...}`)
holds the provenance and the labelling rule.

For each kind it prints the cosine distribution per pair kind, a single-threshold sweep, and the
two-threshold policy (auto-drop >= high, ask the Judge in [low, high)) on the hand-written, the real
and the pooled pairs: drop-P / drop-R (precision and recall of the automatic drops alone), judged-R
(recall if the Judge answered every band pair right), judge% (share of pairs asked) and in-band-same
(the labelled-same share of the band). Then the settings' defaults on each set, the pairs that
reached the issue (a false drop at 0.606, a near miss at 0.54), and, with `--judge N`, the Judge's
real answers (`agents.novelty.filter.ask_same_idea` on the embedded model) for up to N band pairs of
the real files: precision and recall of its "same", and of the whole policy with them.
Embeds with the local MiniLM embedder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.novelty.dedup import Thresholds
from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text
from config.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
Pair = dict[str, Any]

# The two cases of issue 14 (embedded model, 1.5B): a deny item vs an idea, and a known answer vs an
# idea. The issue gives titles and cosines; the summaries are reconstructed to land near the reported
# cosines (tests/novelty/test_calibration.py uses the same texts).
ISSUE_CASES: list[Pair] = [
    {
        "kind": "false drop at 0.606 (issue 14)",
        "same": False,
        "a": "Introduce more diverse programming projects for teens",
        "b": {
            "title": "Implement online communities and forums",
            "summary": "Create online communities and forums where teens can share their programming "
            "projects, ask questions and get feedback from peers.",
        },
    },
    {
        "kind": "near miss at 0.54 (issue 14)",
        "same": True,
        "a": "Composting food scraps",
        "b": {
            "title": "Compost the cafeteria's food scraps",
            "summary": "Collect the food scraps from the kitchen and the plates and compost them for the "
            "campus gardens.",
        },
    },
]


def load_pairs(path: Path) -> list[Pair]:
    """The labelled pairs of a JSONL file; a header line (`{"_about": ...}`) is skipped."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "_about" not in r]


def pair_text(side: object) -> str:
    if isinstance(side, str):
        return side
    assert isinstance(side, dict)
    return idea_text(str(side["title"]), str(side.get("summary", "")))


def cosines(pairs: list[Pair], embedder: LocalMiniLMEmbedder) -> np.ndarray:
    a = embedder.embed([pair_text(p["a"]) for p in pairs])
    b = embedder.embed([pair_text(p["b"]) for p in pairs])
    return np.sum(a * b, axis=1)


def prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(pred & truth))
    p = tp / max(float(pred.sum()), 1.0)
    r = tp / max(float(truth.sum()), 1.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass(frozen=True)
class Policy:
    """What a two-threshold policy does on labelled pairs (see the module docstring for the names)."""

    drops: int
    drop_p: float
    drop_r: float
    judged_r: float
    asked: float
    in_band_same: float
    false_drops: int

    @classmethod
    def of(cls, sims: np.ndarray, truth: np.ndarray, th: Thresholds) -> Policy:
        drop = sims >= th.high
        band = (sims >= th.low) & ~drop
        dp, dr, _ = prf(drop, truth)
        jr = float(np.sum((drop | band) & truth)) / max(float(truth.sum()), 1.0)
        return cls(
            drops=int(drop.sum()),
            drop_p=dp,
            drop_r=dr,
            judged_r=jr,
            asked=float(band.mean()) if len(sims) else 0.0,
            in_band_same=float(np.sum(band & truth)) / max(float(band.sum()), 1.0),
            false_drops=int(np.sum(drop & ~truth)),
        )


def report(
    name: str,
    pairs: list[Pair],
    sims: np.ndarray,
    highs: tuple[float, ...],
    lows: tuple[float, ...],
) -> None:
    truth = np.array([bool(p["same"]) for p in pairs])
    print(f"\n== {name}: {len(pairs)} pairs, {int(truth.sum())} labelled same")
    print(f"{'kind':<14} {'same':>5} {'n':>4} {'min':>6} {'median':>7} {'max':>6}")
    for kind in sorted({str(p["kind"]) for p in pairs}):
        for same in (True, False):
            s = [
                float(x) for x, p in zip(sims, pairs, strict=True) if p["kind"] == kind and p["same"] is same
            ]
            if s:
                print(
                    f"{kind:<14} {str(same).lower():>5} {len(s):>4} {min(s):>6.3f} "
                    f"{statistics.median(s):>7.3f} {max(s):>6.3f}"
                )
    print(f"\nsingle threshold: duplicate iff cosine >= t\n{'t':>5} {'prec':>6} {'recall':>6} {'F1':>6}")
    for t in np.arange(0.40, 0.96, 0.05):
        p, r, f = prf(sims >= t, truth)
        print(f"{t:>5.2f} {p:>6.3f} {r:>6.3f} {f:>6.3f}")
    print("\ntwo thresholds: auto-drop >= high; ask the Judge in [low, high)")
    print(
        f"{'low':>5} {'high':>5} {'drops':>5} {'false':>5} {'drop-P':>7} {'drop-R':>7} {'judged-R':>8} "
        f"{'judge%':>6} {'in-band-same':>12}"
    )
    for high in highs:
        for low in lows:
            pol = Policy.of(sims, truth, Thresholds(high=high, low=low))
            print(
                f"{low:>5.2f} {high:>5.2f} {pol.drops:>5} {pol.false_drops:>5} {pol.drop_p:>7.3f} "
                f"{pol.drop_r:>7.3f} {pol.judged_r:>8.3f} {pol.asked:>6.1%} {pol.in_band_same:>12.3f}"
            )


def defaults_table(rows: list[tuple[str, list[Pair], np.ndarray, Thresholds]]) -> None:
    """The settings' default bands on each labelled set."""
    print("\n== the defaults (config/settings.py) on each labelled set")
    print(
        f"{'set':<34} {'bands':<12} {'n':>4} {'same':>4} {'drops':>5} {'false':>5} {'drop-P':>7} "
        f"{'drop-R':>7} {'judged-R':>8} {'judge%':>6}"
    )
    for name, pairs, sims, th in rows:
        truth = np.array([bool(p["same"]) for p in pairs])
        pol = Policy.of(sims, truth, th)
        print(
            f"{name:<34} {f'{th.low:.2f}-{th.high:.2f}':<12} {len(pairs):>4} {int(truth.sum()):>4} "
            f"{pol.drops:>5} {pol.false_drops:>5} {pol.drop_p:>7.3f} {pol.drop_r:>7.3f} "
            f"{pol.judged_r:>8.3f} {pol.asked:>6.1%}"
        )


async def ask_judge(pairs: list[Pair], settings: Settings) -> list[tuple[bool | None, str, float]]:
    """The Judge's same-idea answer for each pair (None: no usable answer), its reason and seconds.

    `a` is the known side (its label: a deny-list item for a short text, an idea of this run else)."""
    from agents.brief import parse_brief
    from agents.novelty.filter import ask_same_idea
    from agents.prompts.judging import KNOWN_IDEA_LABELS, same_idea_prompt
    from workers.evaluation.arms import role_model
    from workers.pricing import role_prices

    rm = role_model(settings, "judge", parse_brief({"topic": "calibration"}))
    judge = rm.role_agent(role_prices(settings, rm))
    out: list[tuple[bool | None, str, float]] = []
    try:
        for p in pairs:
            label = KNOWN_IDEA_LABELS["deny" if isinstance(p["a"], str) else "run"]
            question = same_idea_prompt(pair_text(p["b"]), pair_text(p["a"]), label)
            started = time.perf_counter()
            verdict, _ = await ask_same_idea(judge, question)
            took = time.perf_counter() - started
            out.append((None if verdict is None else verdict.same, verdict.reason if verdict else "", took))
            print(
                f"  judge {took:5.1f} s  label={p['same']!s:<5} judge={out[-1][0]!s:<5} "
                f"{pair_text(p['b'])[:60]!r}"
            )
    finally:
        await judge.client.close()
    return out


def judge_report(
    pairs: list[Pair], sims: np.ndarray, bands: list[Thresholds], limit: int, out: Path | None
) -> None:
    """Ask the Judge for up to `limit` band pairs (labelled-same ones first, then the closest others)
    and print the precision and recall of its "same"."""
    from ideaforge.local_model import ensure_local_server

    settings = Settings()
    if not settings.endpoint_configured:
        ensure_local_server(settings)
    in_band = [i for i, (s, th) in enumerate(zip(sims, bands, strict=True)) if th.low <= s < th.high]
    same = [i for i in in_band if pairs[i]["same"]]
    other = sorted((i for i in in_band if not pairs[i]["same"]), key=lambda i: -float(sims[i]))
    half = max(1, limit // 2)
    chosen = same[:half] + other[: limit - min(len(same), half)]
    chosen = chosen[:limit]
    print(f"\n== the Judge on {len(chosen)} of the {len(in_band)} band pairs of the real files")
    answers = asyncio.run(ask_judge([pairs[i] for i in chosen], settings))
    truth = np.array([bool(pairs[i]["same"]) for i in chosen])
    said = np.array([a is True for a, _, _ in answers])
    p, r, _ = prf(said, truth)
    unusable = sum(1 for a, _, _ in answers if a is None)
    secs = [t for _, _, t in answers]
    print(
        f"judge 'same': precision {p:.3f}, recall {r:.3f} ({int(truth.sum())} same, "
        f"{len(chosen) - int(truth.sum())} different, {unusable} unusable answers), "
        f"{statistics.median(secs):.1f} s a call (median)"
    )
    if out is not None:
        with out.open("w", encoding="utf-8") as fh:
            for i, (a, why, t) in zip(chosen, answers, strict=True):
                row = {"pair": pairs[i], "cosine": round(float(sims[i]), 3), "judge_same": a, "reason": why}
                fh.write(json.dumps({**row, "seconds": round(t, 1)}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=Path, default=DATA / "idea_pairs.jsonl")
    parser.add_argument("--deny-pairs", type=Path, default=DATA / "deny_pairs.jsonl")
    parser.add_argument("--real-pairs", type=Path, default=DATA / "real_idea_pairs.jsonl")
    parser.add_argument("--real-deny-pairs", type=Path, default=DATA / "real_deny_pairs.jsonl")
    parser.add_argument(
        "--judge", type=int, default=0, help="ask the Judge for up to N band pairs (real files)"
    )
    parser.add_argument("--judge-out", type=Path, default=None, help="write the Judge's answers here (JSONL)")
    args = parser.parse_args()
    embedder = LocalMiniLMEmbedder()
    defaults = Settings.model_fields
    idea_th = Thresholds(high=defaults["novelty_high"].default, low=defaults["novelty_low"].default)
    deny_th = Thresholds(high=defaults["novelty_deny_high"].default, low=defaults["novelty_deny_low"].default)

    sets: dict[str, list[Pair]] = {
        "ideas, hand-written": load_pairs(args.pairs),
        "ideas, real output": load_pairs(args.real_pairs) if args.real_pairs.is_file() else [],
        "known items, hand-written": load_pairs(args.deny_pairs) if args.deny_pairs.is_file() else [],
        "known items, real output": load_pairs(args.real_deny_pairs)
        if args.real_deny_pairs.is_file()
        else [],
    }
    sims = {name: cosines(pairs, embedder) if pairs else np.zeros(0) for name, pairs in sets.items()}
    idea_grid = ((0.75, 0.80, 0.85, 0.90), (0.45, 0.50, 0.55, 0.60))
    deny_grid = ((0.55, 0.60, 0.65, 0.70, 0.75), (0.35, 0.40, 0.45))
    for name, pairs in sets.items():
        if pairs:
            report(name, pairs, sims[name], *(idea_grid if name.startswith("ideas") else deny_grid))
    for kind, grid in (("ideas", idea_grid), ("known items", deny_grid)):
        pooled = [p for n, ps in sets.items() if n.startswith(kind) for p in ps]
        pooled_sims = np.concatenate([sims[n] for n in sets if n.startswith(kind)])
        report(f"{kind}, pooled", pooled, pooled_sims, *grid)

    defaults_table(
        [
            (name, pairs, sims[name], idea_th if name.startswith("ideas") else deny_th)
            for name, pairs in sets.items()
            if pairs
        ]
    )
    case_sims = cosines(ISSUE_CASES, embedder)
    print("\n== the pairs that reached issue 14 (known item vs idea, deny bands)")
    for case, s in zip(ISSUE_CASES, case_sims, strict=True):
        print(
            f"{case['kind']:<32} cosine {s:.3f} -> {deny_th.action(float(s)).value:<9} "
            f"{case['a']!r} / {pair_text(case['b'])[:50]!r}"
        )

    if args.judge > 0:
        real = sets["ideas, real output"] + sets["known items, real output"]
        real_sims = np.concatenate([sims["ideas, real output"], sims["known items, real output"]])
        bands = [idea_th] * len(sets["ideas, real output"]) + [deny_th] * len(
            sets["known items, real output"]
        )
        judge_report(real, real_sims, bands, args.judge, args.judge_out)


if __name__ == "__main__":
    main()
