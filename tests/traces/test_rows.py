"""Rows in the format TRL's SDPOTrainer reads: checked against the trainer's own code."""

from __future__ import annotations

import dataclasses
import json

import pytest

from assay.traces import MineConfig, RowConfig, mine, privileged_context, write_rows
from assay.traces.episodes import Diagnostic


@pytest.fixture
def rows(pi_fixtures):
    return mine([pi_fixtures], MineConfig(min_score=0.0)).rows


def test_row_columns_and_types(rows):
    assert len(rows) == 5
    for row in rows:
        assert set(row) == {"prompt", "privileged_context", "score", "categories", "source"}
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        assert all(isinstance(m["content"], str) for m in row["prompt"])
        assert isinstance(row["privileged_context"], str) and row["privileged_context"].strip()
        assert isinstance(row["score"], float)
        assert row["categories"] == sorted(set(row["categories"]))
        assert set(row["source"]) == {"file", "entry_ids", "lines"}


def test_rows_match_what_sdpo_trainer_reads(rows):
    trl = pytest.importorskip("trl")
    assert trl.__version__.startswith("1.16")
    from trl.data_utils import is_conversational
    from trl.experimental.sdpo import SDPOConfig, SDPOTrainer
    from trl.experimental.sdpo.sdpo_trainer import _extract_last_user_text

    class Stub:
        _signature_columns = None

    stub = Stub()
    SDPOTrainer._set_signature_columns_if_needed(stub)
    assert set(stub._signature_columns) <= set(rows[0])  # the columns the trainer keeps
    defaults = {f.name: f.default for f in dataclasses.fields(SDPOConfig)}
    for row in rows:
        assert is_conversational({"prompt": row["prompt"]})
        # the teacher reprompt keeps the system turn and rewrites the last user turn's text
        assert _extract_last_user_text(row["prompt"]) == row["prompt"][-1]["content"]
        feedback = defaults["feedback_template"].format(feedback_raw=row["privileged_context"])
        reprompt = defaults["reprompt_template"].format(
            prompt=row["prompt"][-1]["content"], solution="", feedback=feedback)
        assert row["privileged_context"] in reprompt


def test_rows_load_into_datasets(rows, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "rows.jsonl"
    assert write_rows(rows, out) == 5
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert ds.num_rows == 5
    assert ds[0]["prompt"][1]["content"] == rows[0]["prompt"][1]["content"]
    assert ds[0]["privileged_context"] == rows[0]["privileged_context"]


def test_best_row_by_hand(rows, pi_fixtures):
    best = rows[0]
    assert best["score"] == 10.2
    assert best["categories"] == ["test_or_assertion", "user_feedback"]
    assert best["source"] == {"file": str(pi_fixtures / "v3_branches.jsonl"),
                              "entry_ids": ["e0000002", "e0000004", "e000000b"], "lines": [3, 12]}
    assert best["prompt"][0]["content"].endswith("Working directory: <cwd>")
    assert best["privileged_context"] == (
        "[test_or_assertion] bash `pytest tests/test_parser.py` exited with code 1:\n"
        "FAILED tests/test_parser.py::test_empty - AssertionError: assert 0 == 1\n"
        "1 failed, 3 passed\n\nCommand exited with code 1\n\n"
        "[user_feedback] The user then corrected the agent:\n"
        "no, that's wrong: the empty input must return an empty list, not None")


def test_privileged_context_budgets():
    diags = tuple(Diagnostic("tool_error", f"error {i} " + "x" * 5000, f"d{i}", i, "bash",
                             "make", 2, "build_lint_compile") for i in range(10))
    text = privileged_context(diags, RowConfig(item_chars=500, total_chars=1500))
    blocks = text.split("\n\n[build_lint_compile]")
    assert len(blocks) == 2  # two labelled items fit in 1500 characters
    assert text.endswith("[... 8 more diagnostics omitted ...]")
    assert all(len(b) < 600 for b in blocks)
    with pytest.raises(ValueError, match="item_chars"):
        RowConfig(item_chars=1)


def test_write_rows_is_atomic_and_leaves_no_temp_file(tmp_path):
    out = tmp_path / "sub" / "rows.jsonl"

    def boom():
        yield {"a": 1}
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_rows(boom(), out)
    assert not out.exists() and list((tmp_path / "sub").iterdir()) == []
    write_rows([{"a": 1}], out)
    assert json.loads(out.read_text()) == {"a": 1}
