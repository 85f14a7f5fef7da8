"""Find the installed part packages, concatenate them into one GGUF file once, verify its sha256.

Nothing is installed or downloaded here: the parts must already be installed (see the catalog's
extras). The assembled file is written atomically (temp file + rename) and cached in the model
directory; a sidecar `<file>.sha256` records the verified digest together with the file's size
and mtime, so later start-ups skip re-hashing unless the file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from agents.errors import ModelIntegrityError, ModelNotInstalled
from ideaforge.local_model.catalog import ModelSpec
from ideaforge.local_model.locking import file_lock

CHUNK = 8 * 1024 * 1024
ASSEMBLE_LOCK_TIMEOUT_S = 600.0


def find_part_files(spec: ModelSpec) -> list[Path]:
    """The data file of each installed part package, in order; a clear error if any is missing."""
    missing: list[str] = []
    found: list[Path] = []
    for part in spec.parts:
        try:
            dist = metadata.distribution(part.dist)
        except metadata.PackageNotFoundError:
            missing.append(f"{part.requirement} (not installed)")
            continue
        if dist.version != part.version:
            missing.append(f"{part.requirement} (installed: {dist.version})")
            continue
        data = [f for f in (dist.files or []) if str(f).endswith(".bin")]
        if len(data) != 1:
            missing.append(f"{part.requirement} (expected one .bin data file, found {len(data)})")
            continue
        path = Path(str(dist.locate_file(data[0])))
        if not path.is_file():
            missing.append(f"{part.requirement} (data file {path} is missing)")
            continue
        found.append(path)
    if missing:
        shown = "; ".join(missing[:4]) + (f"; and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ModelNotInstalled(
            f"local model {spec.name!r} is not installed: {shown}. Install it with: {spec.install_hint()}"
        )
    return found


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (hashlib reads it in chunks)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_path(spec: ModelSpec, model_dir: Path) -> Path:
    """Where the assembled model file lives."""
    return Path(model_dir).expanduser() / spec.file_name


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_sidecar(path: Path, sha256: str) -> None:
    record = {"sha256": sha256, **_stat_key(path)}
    tmp = _sidecar(path).with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, _sidecar(path))


def cached_digest_ok(spec: ModelSpec, path: Path) -> bool:
    """True when the sidecar says `path`, unchanged since it was hashed, has the pinned sha256."""
    try:
        record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        stat = _stat_key(path)
        return bool(record.get("sha256") == spec.sha256 and all(record.get(k) == v for k, v in stat.items()))
    except (OSError, ValueError, TypeError):
        return False


def verify_model_file(spec: ModelSpec, path: Path) -> None:
    """Hash `path` in full; raise `ModelIntegrityError` naming expected, actual and the path."""
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelIntegrityError(
            f"sha256 mismatch for local model {spec.name!r} at {path}: expected {spec.sha256}, "
            f"got {actual}. The file was not loaded. Reinstall the parts with: "
            f"pip install --force-reinstall {' '.join(spec.requirements())}"
        )
    _write_sidecar(path, actual)


def _assemble(spec: ModelSpec, parts: list[Path], target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise ModelIntegrityError(
                f"sha256 mismatch for local model {spec.name!r}: expected {spec.sha256}, got {actual} "
                f"(assembled from {len(parts)} parts under {parts[0].parent.parent.parent}; it would have "
                f"been {target}). The file was not written or loaded. Reinstall the parts with: "
                f"pip install --force-reinstall {' '.join(spec.requirements())}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(target, actual)


def ensure_model_file(spec: ModelSpec, model_dir: Path) -> Path:
    """The verified model file, assembled from the installed parts on first use (once per machine)."""
    target = model_path(spec, model_dir)
    if target.is_file() and cached_digest_ok(spec, target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.with_name(target.name + ".lock"), ASSEMBLE_LOCK_TIMEOUT_S):
        if target.is_file():
            if cached_digest_ok(spec, target):
                return target
            try:
                verify_model_file(spec, target)
                return target
            except ModelIntegrityError:
                target.unlink()  # a corrupt cached file: rebuild it from the parts below
                _sidecar(target).unlink(missing_ok=True)
        _assemble(spec, find_part_files(spec), target)
    return target
