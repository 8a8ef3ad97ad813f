"""crc-py loading, the seeded stratified split, and `assay data split-crc`."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.data import CRC_CATEGORIES, load_crc, stratified_split, write_split
from assay.errors import InputError


def _rec(cid, category, comment="fix this", code="@@ -1 +1 @@\n-a\n+b"):
    return {"comment_id": cid, "category": category, "comment": comment, "code": code,
            "repo": "r", "file_path": "f.py", "subcategory": "s"}


@pytest.fixture
def crc_file(tmp_path):
    recs = [_rec(i, CRC_CATEGORIES[i % 4], comment=f"comment {i}") for i in range(40)]
    recs += [_rec(100, "false positive"), _rec(5, "discussion", comment="Comment 5"),
             _rec(7, "functional", comment="another text under a repeated id")]
    path = tmp_path / "manual_labeled_data.json"
    path.write_text(json.dumps(recs))
    return path


def test_load_drops_false_positives_and_duplicates(crc_file):
    data = load_crc(crc_file.parent)
    assert data.dropped_false_positive == 1
    assert data.dropped_duplicates == 1            # same id, same text up to case
    assert len(data.items) == 41                   # 40 + the repeated id with a new text
    assert data.items[-1]["id"] == "crc-7-2"
    assert set(data.items[0]) >= {"id", "diff", "comment", "category"}


def test_bad_input_names_the_field(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([_rec(1, "style")]))
    with pytest.raises(InputError, match="field 'category'.*unknown category"):
        load_crc(path)
    with pytest.raises(InputError, match="file not found"):
        load_crc(tmp_path / "missing.json")


def test_split_is_stratified_seeded_and_order_free(crc_file):
    items = load_crc(crc_file).items
    a = stratified_split(items, holdout=8, seed=3)
    b = stratified_split(list(reversed(items)), holdout=8, seed=3)
    c = stratified_split(items, holdout=8, seed=4)
    assert [i["id"] for i in a.test] == [i["id"] for i in b.test]
    assert [i["id"] for i in a.test] != [i["id"] for i in c.test]
    assert len(a.test) == 8 and len(a.train) == len(items) - 8
    assert not {i["id"] for i in a.test} & {i["id"] for i in a.train}
    assert sorted(Counter(i["category"] for i in a.test).values()) == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="holdout must be an int between 1 and 40"):
        stratified_split(items, holdout=41)


def test_write_split(crc_file, tmp_path):
    split = stratified_split(load_crc(crc_file).items, holdout=4, seed=0)
    paths = write_split(split, tmp_path / "out")
    test_rows = [json.loads(x) for x in paths["test"].read_text().splitlines()]
    assert [r["id"] for r in test_rows] == [i["id"] for i in split.test]


def test_cli_split_crc_json(crc_file, tmp_path):
    res = CliRunner().invoke(app, ["data", "split-crc", "--source", str(crc_file), "--out",
                                   str(tmp_path / "o"), "--holdout", "8", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n_test"] == 8 and out["n_train"] == 33
    assert (tmp_path / "o" / "train.jsonl").exists()


@pytest.mark.realdata
def test_real_crc_split(shared_data):
    data = load_crc(shared_data / "crc-py")
    assert data.dropped_false_positive == 7
    assert len(data.items) == 1030 - 7 - data.dropped_duplicates
    split = stratified_split(data.items, holdout=100, seed=0)
    counts = Counter(i["category"] for i in split.test)
    assert counts == {"refactoring": 39, "discussion": 26, "functional": 23, "documentation": 12}
