"""Contamination against eval sets: exact (normalised) and 13-gram overlap, with planted cases."""

from __future__ import annotations

import json

import pytest

from assay.distill import check_item, exclusion_set, item_input, ngrams, split_contaminated, words
from assay.errors import InputError
from assay.tasks import get_task

EVAL_DIFF = ("+def load(path):\n+    with open(path) as handle:\n"
             "+        data = json.load(handle)\n"
             "+    return data if data is not None else default_value_for_missing_configuration")


def _items(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def task():
    return get_task("haiku-review")


@pytest.fixture
def eval_set(task, tmp_path):
    rows = [{"id": "e1", "diff": EVAL_DIFF, "comment": "close the file"},
            {"id": "e2", "diff": "+x = 1", "comment": "name it"}]
    return exclusion_set(task, _items(tmp_path / "eval.jsonl", rows), n=13)


def _window(text: str, start: int, n: int) -> str:
    return " ".join(words(text)[start:start + n])


def test_the_input_is_the_render_without_the_system_turn(task):
    item = {"id": "a", "diff": "+x = 1", "comment": "c"}
    assert "senior code reviewer" not in item_input(task, item)
    assert "+x = 1" in item_input(task, item)


def test_exact_matches_survive_case_and_whitespace(task, eval_set):
    item = {"id": "a", "diff": "+X   =  1", "comment": "different comment"}
    hit = check_item("a", item_input(task, item), [eval_set])
    assert hit is not None and hit.how == "exact" and hit.overlap_ratio == 1.0


def test_a_shared_13gram_is_contamination_and_its_ratio_is_reported(task, eval_set):
    eval_text = item_input(task, {"id": "e1", "diff": EVAL_DIFF, "comment": ""})
    planted = f"+# unrelated header line here\n+{_window(eval_text, 6, 13)}\n+print('done')"
    item = {"id": "p", "diff": planted, "comment": "x"}
    text = item_input(task, item)
    hit = check_item("p", text, [eval_set])
    assert hit is not None and hit.how == "ngram"
    mine = ngrams(words(text), 13)
    theirs = ngrams(words(eval_text), 13)
    assert hit.shared_ngrams == len(mine & theirs) >= 1
    assert hit.overlap_ratio == pytest.approx(len(mine & theirs) / len(mine))


def test_a_shared_12gram_is_not(task, eval_set):
    eval_text = item_input(task, {"id": "e1", "diff": EVAL_DIFF, "comment": ""})
    planted = f"+zzz {_window(eval_text, 6, 12)} qqq"
    assert check_item("q", item_input(task, {"id": "q", "diff": planted}), [eval_set]) is None


def test_split_keeps_clean_items_in_order(task, eval_set):
    items = [{"id": "c1", "diff": "+y = 2", "comment": "a"},
             {"id": "d1", "diff": "+x = 1", "comment": "b"},
             {"id": "c2", "diff": "+z = 3", "comment": "c"}]
    clean, hits = split_contaminated(task, items, [eval_set])
    assert [i["id"] for i in clean] == ["c1", "c2"]
    assert list(hits) == ["d1"]


def test_summary_names_the_file_and_hashes(eval_set):
    s = eval_set.summary()
    assert s["n_items"] == 2 and s["n_hashes"] == 2 and len(s["sha256"]) == 64
    assert s["ngram"] == 13 and s["n_ngrams"] > 0


def test_a_missing_file_is_named(task, tmp_path):
    with pytest.raises(InputError, match="nope.jsonl"):
        exclusion_set(task, tmp_path / "nope.jsonl")
