"""Fixtures for the training tests: small data sets (the tiny model is in tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TITLES = ["Low-Rank Adapters for Continual Learning", "Better Results with More Layers",
          "Contrastive Decoding Improves Factuality", "Translating Poetry Is Impossible",
          "Graph Networks for Molecule Solubility", "We Tried a Thing and It Worked",
          "Sparse Attention for Long Documents", "A Survey Nobody Asked For"]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def paper_items(tmp_path_factory) -> Path:
    """Eight paper-review items (short abstracts, no bodies), half accepted."""
    rows = [{"id": f"p{i}", "title": t, "abstract": f"We study {t.lower()} on {i + 2} benchmarks.",
             "decision": "accept" if i % 2 == 0 else "reject", "venue": "ml"}
            for i, t in enumerate(TITLES)]
    return write_jsonl(tmp_path_factory.mktemp("data") / "papers.jsonl", rows)


@pytest.fixture(scope="session")
def pref_file(tmp_path_factory) -> Path:
    """Prompt/chosen/rejected pairs in TRL's conversational format."""
    rows = [{"prompt": [{"role": "user", "content": f"Is paper {i} sound? Answer yes or no."}],
             "chosen": "The answer is yes.", "rejected": "The answer is no."} for i in range(8)]
    return write_jsonl(tmp_path_factory.mktemp("pref") / "pairs.jsonl", rows)


def small(**overrides):
    """Recipe overrides that keep a CPU test to a few seconds."""
    base = {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 1,
            "max_steps": 3, "logging_steps": 1}
    return {**base, **overrides}
