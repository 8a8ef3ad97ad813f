"""Content hashes of local model weights and adapters, for the store's cache key.

Two local models are the same model only if their files are the same, whatever their paths: a
retrained adapter written over the old directory must not be served the old adapter's answers.
``dir_hash(path)`` is a sha256 over the names and contents of the files in the directory that
change what the model computes (weights, configs, tokenizer files, chat template, custom code);
it skips READMEs, licences, ``.git*`` files and subdirectories (training checkpoints, the
``original/`` duplicates some hub repos carry).

Hashing a 15 GB checkpoint takes ~10 s, so each file's digest is memoised in a small JSON file
keyed by (real path, size, mtime in ns): ``$ASSAY_CACHE_DIR/file_hashes.json``, by default
``~/.cache/assay/file_hashes.json``. A file that changes changes its size or mtime and is hashed
again. Files in the Hugging Face cache are symlinks to blobs named by their sha256 (for LFS
files), so those are not even read.

Hub ids resolve only from the local Hugging Face cache (nothing is downloaded at run time).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssayError
from .chat import hash_template

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".json", ".model", ".jinja",
                   ".txt", ".tiktoken", ".py", ".vocab", ".spm")
SKIP_NAMES = {"README.md", "LICENSE", "LICENSE.txt", "USE_POLICY.md", ".gitattributes",
              "training_args.bin", "trainer_state.json"}
_SHA256_NAME = re.compile(r"[0-9a-f]{64}")


def cache_path() -> Path:
    """Where per-file digests are memoised (``$ASSAY_CACHE_DIR`` or ``~/.cache/assay``)."""
    root = os.environ.get("ASSAY_CACHE_DIR") or Path.home() / ".cache" / "assay"
    return Path(root) / "file_hashes.json"


def resolve_local(model: str) -> Path:
    """A local directory for ``model``: the path itself, its snapshot in the local HF cache, or
    for ``embedded:NAME`` the embedded model's converted directory (converted on first use)."""
    if model.startswith("embedded:"):
        from .embedded import model_dir

        return model_dir(model)
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.exists():
        raise AssayError(f"'{model}' is a file; hf/vllm specs need a model directory or a hub id")
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise AssayError(f"model directory '{model}' does not exist")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, HFValidationError, or no huggingface_hub
        raise AssayError(
            f"model '{model}' is neither a local directory nor in the local Hugging Face cache "
            "(assay never downloads weights at run time). Fix: download it first with "
            f"`hf download {model}` (or `huggingface-cli download {model}`), or pass the path "
            "of a local model directory") from exc


def resolve_adapter(adapter: str) -> Path:
    """A PEFT adapter directory (the one `assay train` writes), checked before anything loads."""
    path = Path(adapter).expanduser()
    if not path.exists():
        if adapter.startswith((".", "/", "~")) or adapter.count("/") != 1:
            raise AssayError(f"adapter directory '{adapter}' does not exist. Fix: give the "
                             "directory `assay train` wrote (its --out) after the '+' in "
                             "hf:MODEL+ADAPTER_DIR")
        path = resolve_local(adapter)  # an adapter already in the local HF cache
    if not path.is_dir():
        raise AssayError(f"adapter '{adapter}' is a file. Fix: give the adapter's directory "
                         "after the '+' in hf:MODEL+ADAPTER_DIR")
    if not (path / "adapter_config.json").is_file():
        full = (path / "config.json").is_file()
        hint = (" it looks like a full model: evaluate it alone as hf:" + adapter) if full else (
            " give the directory `assay train` wrote (its --out)")
        raise AssayError(f"'{adapter}' is not a PEFT adapter directory (no adapter_config.json)."
                         f" Fix:{hint}")
    return path.resolve()


def hashed_files(directory: Path) -> list[Path]:
    """The top-level files of ``directory`` that take part in its content hash, sorted by name."""
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and p.name not in SKIP_NAMES and not p.name.startswith(".")
                  and p.name.endswith(WEIGHT_SUFFIXES))


def dir_hash(directory: str | Path) -> str:
    """sha256 over (name, content sha256) of the hashed files; memoised per file."""
    directory = Path(directory)
    files = hashed_files(directory)
    if not files:
        raise AssayError(f"'{directory}' holds no model files (config, weights, tokenizer)")
    memo = _load_memo()
    before = len(memo)
    total = hashlib.sha256()
    for f in files:
        total.update(f"{f.name}\0{_file_hash(f, memo)}\n".encode())
    if len(memo) != before:
        _save_memo(memo)
    return total.hexdigest()


def _file_hash(path: Path, memo: dict[str, str]) -> str:
    real = os.path.realpath(path)
    if os.path.islink(path) and _SHA256_NAME.fullmatch(os.path.basename(real)):
        return os.path.basename(real)  # HF cache blob: its name is its sha256
    st = os.stat(real)
    key = f"{real}\0{st.st_size}\0{st.st_mtime_ns}"
    if key not in memo:
        with open(real, "rb") as fh:
            memo[key] = hashlib.file_digest(fh, "sha256").hexdigest()
    return memo[key]


def _load_memo() -> dict[str, str]:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # absent or damaged: it is only a cache


def _save_memo(memo: dict[str, str]) -> None:
    # Atomic replace: a concurrent writer can lose an entry (recomputed later), never corrupt it.
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".file_hashes.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(memo, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs re-hashing next time


@dataclass(frozen=True)
class LocalModel:
    """Where a local spec's files are: the model, the adapter, and whose tokenizer to use.

    The adapter's own tokenizer (and chat template) wins when its directory carries one, as a
    fine-tuning run that changed the template saves it there.
    """

    model_dir: Path
    adapter_dir: Path | None
    tokenizer_dir: Path

    @classmethod
    def locate(cls, model: str, adapter: str | None = None) -> LocalModel:
        model_dir = resolve_local(model)
        adapter_dir = resolve_adapter(adapter) if adapter else None
        own = adapter_dir is not None and (adapter_dir / "tokenizer_config.json").is_file()
        return cls(model_dir, adapter_dir, adapter_dir if own else model_dir)

    def identity(self, backend: str, model: str, dtype: str) -> dict[str, Any]:
        """The cache-key identity: backend, model name, content hashes, template hash, dtype.

        Read from the files without loading anything, so a fully cached rerun stays fast.
        """
        return {"backend": backend, "model": model, "weights": dir_hash(self.model_dir),
                "adapter": dir_hash(self.adapter_dir) if self.adapter_dir else None,
                "chat_template": hash_template(chat_template_text(self.tokenizer_dir)),
                "dtype": dtype}


def chat_template_text(directory: Path) -> str | None:
    """The chat template a tokenizer loaded from ``directory`` would carry (read without loading).

    transformers >= 4.43 saves it as ``chat_template.jinja``; older saves keep it in
    ``tokenizer_config.json`` (a string, or a list of named templates).
    """
    jinja = directory / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    config = directory / "tokenizer_config.json"
    if not config.is_file():
        return None
    template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
    if isinstance(template, list):  # [{"name": ..., "template": ...}]
        return "\n".join(f"{t['name']}\n{t['template']}" for t in
                         sorted(template, key=lambda t: t["name"]))
    return template
