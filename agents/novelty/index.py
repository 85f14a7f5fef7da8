"""`VectorIndex`: one growing float32 matrix of unit vectors with exact cosine top-k search.

One index holds one namespace's vectors from one embedding model; adding or searching with another
model id (or dimension) raises `EmbedderMismatch`, so vectors of different spaces are never compared.
Rows are appended incrementally (capacity doubles, so appends are amortised O(1)); search is one
matrix product, exact, and fast enough for tens of thousands of rows (see benchmarks/novelty_search.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.errors import EmbedderMismatch
from agents.novelty.embedder import Matrix, normalize_rows


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the row's key and label and its cosine similarity to the query."""

    key: str
    label: str
    score: float
    row: int
    tag: str = ""


class VectorIndex:
    """Unit vectors of one namespace and one embedding model, searchable by cosine."""

    def __init__(self, model_id: str, dim: int, namespace: str = "default", capacity: int = 64) -> None:
        self.model_id = model_id
        self.dim = dim
        self.namespace = namespace
        self._mat = np.zeros((max(capacity, 1), dim), dtype=np.float32)
        self._n = 0
        self.keys: list[str] = []
        self.labels: list[str] = []
        self.tags: list[str] = []
        self._rows: dict[str, int] = {}

    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    @property
    def matrix(self) -> Matrix:
        """A read-only view of the live rows."""
        view = self._mat[: self._n]
        view.flags.writeable = False
        return view

    def check(self, model_id: str, dim: int | None = None) -> None:
        """Raise `EmbedderMismatch` unless vectors of `model_id` (and `dim`) belong here."""
        if model_id != self.model_id:
            raise EmbedderMismatch(
                f"index {self.namespace!r} holds {self.model_id!r} vectors; refusing to mix in {model_id!r}"
            )
        if dim is not None and dim != self.dim:
            raise EmbedderMismatch(f"index {self.namespace!r} has dim {self.dim}, got vectors of dim {dim}")

    def add(
        self,
        keys: list[str],
        vectors: Matrix,
        model_id: str,
        labels: list[str] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Append rows (re-normalised); a key already present is skipped, not duplicated.

        `labels` are display texts, `tags` short kinds (e.g. a ledger entry's kind), both per row.
        """
        vecs = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        self.check(model_id, vecs.shape[1])
        if len(keys) != vecs.shape[0]:
            raise ValueError(f"{len(keys)} keys for {vecs.shape[0]} vectors")
        labels = labels if labels is not None else [""] * len(keys)
        if len(labels) != len(keys):
            raise ValueError(f"{len(labels)} labels for {len(keys)} keys")
        tags = tags if tags is not None else [""] * len(keys)
        if len(tags) != len(keys):
            raise ValueError(f"{len(tags)} tags for {len(keys)} keys")
        fresh: list[int] = []
        seen: set[str] = set()
        for i, key in enumerate(keys):  # skip stored keys and repeats within this call
            if key not in self._rows and key not in seen:
                seen.add(key)
                fresh.append(i)
        if not fresh:
            return
        need = self._n + len(fresh)
        if need > self._mat.shape[0]:
            grown = np.zeros((max(need, 2 * self._mat.shape[0]), self.dim), dtype=np.float32)
            grown[: self._n] = self._mat[: self._n]
            self._mat = grown
        self._mat[self._n : need] = normalize_rows(vecs[fresh])
        for i in fresh:
            self._rows[keys[i]] = len(self.keys)
            self.keys.append(keys[i])
            self.labels.append(labels[i])
            self.tags.append(tags[i])
        self._n = need

    def similarities(self, queries: Matrix, model_id: str) -> Matrix:
        """Cosine of every query row against every stored row, shape (queries, len(self))."""
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        self.check(model_id, q.shape[1])
        result: Matrix = q @ self._mat[: self._n].T
        return result

    def top1(self, queries: Matrix, model_id: str) -> list[Hit | None]:
        """The nearest row per query (None when the index is empty)."""
        return [hits[0] if hits else None for hits in self.search(queries, model_id, k=1)]

    def search(self, queries: Matrix, model_id: str, k: int = 5) -> list[list[Hit]]:
        """The `k` nearest rows per query, best first."""
        sims = self.similarities(queries, model_id)
        if self._n == 0 or k <= 0:
            return [[] for _ in range(sims.shape[0])]
        k = min(k, self._n)
        if k == 1:
            top = np.argmax(sims, axis=1)[:, None]
        else:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
            top = np.take_along_axis(part, order, axis=1)
        return [
            [Hit(self.keys[j], self.labels[j], float(sims[i, j]), int(j), self.tags[j]) for j in top[i]]
            for i in range(sims.shape[0])
        ]
