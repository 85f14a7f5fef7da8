"""Search speed of the ledger's VectorIndex: 100 new ideas against 10,000 (and more) stored vectors.

    python -m benchmarks.novelty_search

Baseline in the same run: a naive per-query Python loop of dot products (numpy per row).
Target from the issue: 100 queries x 10,000 vectors in <= 100 ms (top-1). On a busy 2-core machine
BLAS threads fight for cores: `OPENBLAS_NUM_THREADS=1` gives steadier numbers there.
"""

from __future__ import annotations

import time

import numpy as np

from agents.novelty.embedder import normalize_rows
from agents.novelty.index import VectorIndex

DIM = 384
MODEL = "bench"


def _best_ms(fn: object, repeat: int = 7) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def _naive_top1(query: np.ndarray, rows: np.ndarray) -> int:
    return int(np.argmax([float(row @ query) for row in rows]))


def main() -> None:
    rng = np.random.default_rng(0)
    queries = normalize_rows(rng.standard_normal((100, DIM)))
    print(f"100 queries, dim {DIM}, best of 7")
    print(f"{'stored':>8} {'append ms':>10} {'top1 ms':>8} {'top5 ms':>8} {'naive ms':>9}")
    for n in (1_000, 10_000, 50_000):
        vecs = normalize_rows(rng.standard_normal((n, DIM)))
        ix = VectorIndex(MODEL, DIM)
        t0 = time.perf_counter()
        for start in range(0, n, 500):  # appended incrementally, as a ledger grows
            ix.add([f"k{i}" for i in range(start, min(start + 500, n))], vecs[start : start + 500], MODEL)
        append_ms = (time.perf_counter() - t0) * 1000
        top1 = _best_ms(lambda ix=ix: ix.top1(queries, MODEL))
        top5 = _best_ms(lambda ix=ix: ix.search(queries, MODEL, k=5))
        sample = vecs[:1000]
        naive = _best_ms(lambda sample=sample: [_naive_top1(q, sample) for q in queries[:10]], 1)
        naive_scaled = naive * 10 * (n / 1000)  # 10 of 100 queries over 1,000 rows, scaled linearly
        print(f"{n:>8} {append_ms:>10.1f} {top1:>8.2f} {top5:>8.2f} {naive_scaled:>9.0f}")
    print("naive: per-row Python loop, measured on 10 queries x 1,000 rows and scaled linearly")


if __name__ == "__main__":
    main()
