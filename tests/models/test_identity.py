"""Content hashes of local model directories: stable, path-independent, memoised."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from assay.errors import AssayError
from assay.models.identity import LocalModel, cache_path, dir_hash, hashed_files


@pytest.fixture(autouse=True)
def _hash_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path / "cache"))


def _model_dir(path, weights=b"w1"):
    path.mkdir()
    (path / "config.json").write_text('{"a": 1}')
    (path / "model.safetensors").write_bytes(weights)
    (path / "README.md").write_text("docs")
    (path / "checkpoint-10").mkdir()
    (path / "checkpoint-10" / "model.safetensors").write_bytes(b"old")
    return path


def test_hash_is_over_names_and_contents_only(tmp_path):
    a = _model_dir(tmp_path / "a")
    b = _model_dir(tmp_path / "b")
    assert [f.name for f in hashed_files(a)] == ["config.json", "model.safetensors"]
    expected = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        digest = hashlib.sha256((a / name).read_bytes()).hexdigest()
        expected.update(f"{name}\0{digest}\n".encode())
    assert dir_hash(a) == dir_hash(b) == expected.hexdigest()
    (b / "README.md").write_text("other docs")  # not part of the model
    assert dir_hash(b) == dir_hash(a)


def test_changed_weights_change_the_hash_even_with_memo(tmp_path):
    a = _model_dir(tmp_path / "a")
    before = dir_hash(a)
    memo = json.loads(cache_path().read_text())
    assert len(memo) == 2
    (a / "model.safetensors").write_bytes(b"w2-longer")
    assert dir_hash(a) != before


def test_memo_is_used_for_unchanged_files(tmp_path):
    a = _model_dir(tmp_path / "a")
    first = dir_hash(a)
    # Poison the memo: a hit must come from it, without reading the file again.
    memo = {k: "0" * 64 for k in json.loads(cache_path().read_text())}
    cache_path().write_text(json.dumps(memo))
    assert dir_hash(a) != first


def test_hf_cache_blob_names_are_used_as_digests(tmp_path):
    blob = tmp_path / "blobs" / ("ab" * 32)
    blob.parent.mkdir()
    blob.write_bytes(b"anything")
    snap = tmp_path / "snap"
    snap.mkdir()
    os.symlink(blob, snap / "model.safetensors")
    expected = hashlib.sha256(f"model.safetensors\0{'ab' * 32}\n".encode()).hexdigest()
    assert dir_hash(snap) == expected


def test_adapter_tokenizer_wins_and_empty_dir_errors(tmp_path):
    base = _model_dir(tmp_path / "base")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"lora")
    with pytest.raises(AssayError, match="not a PEFT adapter directory"):
        LocalModel.locate(str(base), str(adapter))
    (adapter / "adapter_config.json").write_text("{}")
    assert LocalModel.locate(str(base), str(adapter)).tokenizer_dir == base.resolve()
    (adapter / "tokenizer_config.json").write_text(json.dumps({"chat_template": "T"}))
    located = LocalModel.locate(str(base), str(adapter))
    assert located.tokenizer_dir == adapter.resolve()
    ident = located.identity("hf", "base", "float32")
    assert ident["chat_template"] == hashlib.sha256(b"T").hexdigest()
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssayError, match="no model files"):
        dir_hash(tmp_path / "empty")
