"""Assembly of the model file from installed part packages, and its sha256 verification."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agents.errors import ModelIntegrityError, ModelNotInstalled, UnknownLocalModel
from ideaforge.local_model.assemble import ensure_model_file, find_part_files, model_path
from ideaforge.local_model.catalog import CATALOG, get_model_spec

from .conftest import PARTS


def test_assembles_once_and_caches(make_spec, tmp_path: Path) -> None:
    spec = make_spec()
    path = ensure_model_file(spec, tmp_path / "m")
    assert path.read_bytes() == b"".join(PARTS)
    mtime = path.stat().st_mtime_ns
    assert ensure_model_file(spec, tmp_path / "m") == path
    assert path.stat().st_mtime_ns == mtime  # not rewritten
    assert not [p for p in path.parent.iterdir() if ".tmp-" in p.name]


def test_sha_mismatch_is_a_clear_error_and_writes_nothing(make_spec, tmp_path: Path) -> None:
    spec = make_spec(sha256="0" * 64)
    actual = hashlib.sha256(b"".join(PARTS)).hexdigest()
    with pytest.raises(ModelIntegrityError) as err:
        ensure_model_file(spec, tmp_path / "m")
    message = str(err.value)
    assert "0" * 64 in message and actual in message
    assert str(model_path(spec, tmp_path / "m")) in message
    assert "not written or loaded" in message
    assert not model_path(spec, tmp_path / "m").exists()
    assert not [p for p in (tmp_path / "m").iterdir() if p.suffix != ".lock"]


def test_corrupt_cached_file_is_rebuilt_from_the_parts(make_spec, tmp_path: Path) -> None:
    spec = make_spec()
    path = ensure_model_file(spec, tmp_path / "m")
    path.write_bytes(b"tampered")  # changes size and mtime, so the sidecar no longer vouches for it
    assert ensure_model_file(spec, tmp_path / "m").read_bytes() == b"".join(PARTS)


def test_missing_parts_name_the_install_command(make_spec, tmp_path: Path) -> None:
    spec = make_spec(install=False)
    with pytest.raises(ModelNotInstalled) as err:
        find_part_files(spec)
    assert "pip install 'ideaforge[local-fake]'" in str(err.value)
    assert "ideaforge-fake-part1==1.0 (not installed)" in str(err.value)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(UnknownLocalModel, match=r"qwen2\.5-coder-0\.5b"):
        get_model_spec("gpt-17")


def test_catalog_pins_exact_versions() -> None:
    for spec in CATALOG.values():
        assert len(spec.sha256) == 64
        assert all(part.version and "=" not in part.version for part in spec.parts)
        assert spec.requirements()[0].count("==") == 1
