"""Calibrate the dedup thresholds on the labelled idea pairs in tests/data/.

    python -m benchmarks.novelty_calibration [--pairs tests/data/idea_pairs.jsonl]

Prints the cosine distribution per pair kind, precision/recall/F1 of "duplicate" for a single
threshold sweep, and the two-threshold policy (auto-drop >= high, ask the Judge in [low, high))
with the share of pairs that would cost a Judge call. Embeds with the local MiniLM embedder.
Deny-list items are short phrases, so their cosines to full ideas run lower and they get their own
thresholds (`agents.novelty.dedup.DEFAULT_PER_SOURCE`).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def load_pairs(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pair_text(side: object) -> str:
    if isinstance(side, str):
        return side
    assert isinstance(side, dict)
    return idea_text(str(side["title"]), str(side.get("summary", "")))


def cosines(pairs: list[dict[str, object]], embedder: LocalMiniLMEmbedder) -> np.ndarray:
    a = embedder.embed([pair_text(p["a"]) for p in pairs])
    b = embedder.embed([pair_text(p["b"]) for p in pairs])
    return np.sum(a * b, axis=1)


def prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(pred & truth))
    p = tp / max(float(pred.sum()), 1.0)
    r = tp / max(float(truth.sum()), 1.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(
    name: str,
    pairs: list[dict[str, object]],
    sims: np.ndarray,
    highs: tuple[float, ...],
    lows: tuple[float, ...],
) -> None:
    truth = np.array([bool(p["same"]) for p in pairs])
    print(f"\n== {name}: {len(pairs)} pairs, {int(truth.sum())} labelled same")
    print(f"{'kind':<12} {'n':>4} {'min':>6} {'median':>7} {'max':>6}")
    for kind in sorted({str(p["kind"]) for p in pairs}):
        s = [float(x) for x, p in zip(sims, pairs, strict=True) if p["kind"] == kind]
        print(f"{kind:<12} {len(s):>4} {min(s):>6.3f} {statistics.median(s):>7.3f} {max(s):>6.3f}")
    print(f"\nsingle threshold: duplicate iff cosine >= t\n{'t':>5} {'prec':>6} {'recall':>6} {'F1':>6}")
    for t in np.arange(0.40, 0.96, 0.05):
        p, r, f = prf(sims >= t, truth)
        print(f"{t:>5.2f} {p:>6.3f} {r:>6.3f} {f:>6.3f}")
    print("\ntwo thresholds: auto-drop >= high; ask the Judge in [low, high)")
    print("  drop-P/drop-R: the automatic drops alone; judged-R: recall if the Judge answers right;")
    print(
        "  judge%: share of all pairs that need a Judge call; in-band-same: labelled-same share of the band"
    )
    print(
        f"{'low':>5} {'high':>5} {'drop-P':>7} {'drop-R':>7} {'judged-R':>8} {'judge%':>6} "
        f"{'in-band-same':>12}"
    )
    for high in highs:
        for low in lows:
            drop = sims >= high
            band = (sims >= low) & ~drop
            dp, dr, _ = prf(drop, truth)
            jr = float(np.sum((drop | band) & truth)) / max(float(truth.sum()), 1.0)
            share = float(band.mean())
            in_band = float(np.sum(band & truth)) / max(float(band.sum()), 1.0)
            print(f"{low:>5.2f} {high:>5.2f} {dp:>7.3f} {dr:>7.3f} {jr:>8.3f} {share:>6.1%} {in_band:>12.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=Path, default=DATA / "idea_pairs.jsonl")
    parser.add_argument("--deny-pairs", type=Path, default=DATA / "deny_pairs.jsonl")
    args = parser.parse_args()
    embedder = LocalMiniLMEmbedder()
    pairs = load_pairs(args.pairs)
    report(
        "idea vs idea", pairs, cosines(pairs, embedder), (0.75, 0.80, 0.85, 0.90), (0.45, 0.50, 0.55, 0.60)
    )
    if args.deny_pairs.is_file():
        deny = load_pairs(args.deny_pairs)
        report(
            "deny-list item vs idea",
            deny,
            cosines(deny, embedder),
            (0.55, 0.60, 0.65),
            (0.35, 0.40, 0.45, 0.50),
        )


if __name__ == "__main__":
    main()
