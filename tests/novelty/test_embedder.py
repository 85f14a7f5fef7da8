from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from agents.errors import EmbeddingModelError
from agents.novelty.embedder import (
    MINILM_DIM,
    Embedder,
    LocalMiniLMEmbedder,
    default_model_path,
    default_tokenizer_path,
    idea_text,
)


def test_vectors_are_unit_float32_rows(embedder: LocalMiniLMEmbedder) -> None:
    v = embedder.embed(["A cat sits on the mat.", "Quarterly tax filing.", ""])
    assert v.shape == (3, MINILM_DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1.0, atol=1e-5)
    assert isinstance(embedder, Embedder)
    assert embedder.embed([]).shape == (0, MINILM_DIM)


def test_semantics_paraphrase_closer_than_unrelated(embedder: LocalMiniLMEmbedder) -> None:
    a, b, c = embedder.embed(
        ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Interest rates rose in March."]
    )
    assert float(a @ b) > 0.6 > 0.2 > float(a @ c)


def test_batching_and_order_do_not_change_vectors(embedder: LocalMiniLMEmbedder) -> None:
    texts = [f"idea {i}: " + "solar " * i for i in range(1, 40)]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts[::7]])
    assert np.allclose(together[::7], alone, atol=1e-4)


def test_truncates_at_256_tokens_not_128(embedder: LocalMiniLMEmbedder) -> None:
    head = " ".join(f"word{i}" for i in range(60))  # ~180 tokens: beyond 128, within 256
    v_short, v_long, v_longer = embedder.embed([head, head + " tail" * 300, head + " tail" * 600])
    assert float(v_long @ v_longer) > 0.9999  # both cut at 256 tokens
    assert float(v_short @ v_long) < 0.999  # the tokens past 128 count


def test_idea_text() -> None:
    assert idea_text("Bus lanes", "Cameras on buses.") == "Bus lanes. Cameras on buses."
    assert idea_text("Why not?", "Because.") == "Why not? Because."
    assert idea_text(" T ", "") == "T"


def test_wrong_model_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(EmbeddingModelError, match="sha256"):
        LocalMiniLMEmbedder(model_path=bad).embed(["x"])
    tok = tmp_path / "tokenizer.json"
    shutil.copy(default_tokenizer_path(), tok)
    tok.write_text(tok.read_text().replace('"[UNK]"', '"[UNKNOWN]"', 1))
    with pytest.raises(EmbeddingModelError, match="tokenizer"):
        LocalMiniLMEmbedder(model_path=default_model_path(), tokenizer_path=tok).embed(["x"])
    with pytest.raises(EmbeddingModelError, match="not found"):
        LocalMiniLMEmbedder(model_path=tmp_path / "missing.onnx").embed(["x"])


def test_embedding_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("the embedder tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = LocalMiniLMEmbedder(threads=1)  # loads model and tokenizer under the patch
    v = fresh.embed(["Offline embedding of an idea. Nothing leaves the machine."])
    assert v.shape == (1, MINILM_DIM)
    assert calls == []
