from __future__ import annotations

import numpy as np
import pytest

from agents.errors import EmbedderMismatch
from agents.novelty.embedder import normalize_rows
from agents.novelty.index import VectorIndex


def _rand(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    return normalize_rows(np.random.default_rng(seed).standard_normal((n, d)))


def test_add_grow_and_search() -> None:
    ix = VectorIndex("m", 8, capacity=2)
    vecs = _rand(50)
    for start in range(0, 50, 7):
        ix.add(
            [f"k{i}" for i in range(start, min(start + 7, 50))],
            vecs[start : start + 7],
            "m",
            labels=[f"t{i}" for i in range(start, min(start + 7, 50))],
        )
    assert len(ix) == 50
    hits = ix.search(vecs[[3, 40]], "m", k=3)
    assert [h[0].key for h in hits] == ["k3", "k40"] and hits[0][0].label == "t3"
    assert hits[0][0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0][0].score >= hits[0][1].score >= hits[0][2].score
    brute = vecs @ vecs[3]
    assert [h.key for h in hits[0]] == [f"k{i}" for i in np.argsort(-brute)[:3]]
    ix.add(["k3"], vecs[:1], "m")  # present already: skipped
    assert len(ix) == 50
    top = ix.top1(vecs[[3, 4]], "m")
    assert top[0] is not None and top[0].key == "k3" and top[1] is not None and top[1].key == "k4"
    assert ix.matrix.shape == (50, 8)


def test_empty_and_mismatch() -> None:
    ix = VectorIndex("m", 8)
    assert ix.top1(_rand(2), "m") == [None, None]
    with pytest.raises(EmbedderMismatch):
        ix.search(_rand(1), "other")
    with pytest.raises(EmbedderMismatch):
        ix.add(["a"], _rand(1, d=4), "m")
