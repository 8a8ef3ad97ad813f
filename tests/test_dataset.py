"""Item loading: JSONL, JSON, Parquet and HF dataset dirs; errors name file, line, field, value."""

from __future__ import annotations

import json

import pytest

from assay.dataset import Field, file_sha256, load_items
from assay.errors import InputError

SCHEMA = (Field("id", (str, int)), Field("text"), Field("label", choices=("a", "b")),
          Field("note", required=False))
ROWS = [{"id": 1, "text": "x", "label": "a"}, {"id": "2", "text": "y", "label": "b", "note": "n"}]


def test_jsonl_json_parquet_and_hf_dir_load_the_same(tmp_path):
    import datasets

    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS) + "\n")
    (tmp_path / "a.json").write_text(json.dumps(ROWS))
    rows = [{**r, "id": str(r["id"]), "note": r.get("note")} for r in ROWS]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "a.parquet"))
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    for name in ("a.jsonl", "a.json", "a.parquet", "hf"):
        ds = load_items(tmp_path / name, SCHEMA)
        assert [str(i["id"]) for i in ds.items] == ["1", "2"], name
        assert len(ds.sha256) == 64


@pytest.mark.parametrize("line,message", [
    ('{"id": 3, "text": "z"}', "line 3: field 'label': missing required field"),
    ('{"id": 3, "text": "z", "label": "c"}', "line 3: field 'label': must be one of ['a', 'b'] (got 'c')"),
    ('{"id": 3, "text": 4, "label": "a"}', "line 3: field 'text': expected str, found int (got 4)"),
    ('{"id": 1, "text": "z", "label": "a"}', "line 3: field 'id': duplicate id (first seen on line 1)"),
    ('{"id": 3, "text": "z", "label": "a"', "line 3: malformed JSON"),
    ('[1, 2]', "line 3: expected a JSON object"),
])
def test_errors_name_file_line_field_and_value(tmp_path, line, message):
    p = tmp_path / "items.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS) + line + "\n")
    with pytest.raises(InputError) as exc:
        load_items(p, SCHEMA)
    assert f"{p}, {message}" in str(exc.value)
    assert "Fix:" in str(exc.value) or "got" in str(exc.value)
    ds = load_items(p, SCHEMA, skip_invalid=True)
    assert len(ds.items) == 2 and len(ds.skipped) == 1


def test_bool_is_not_an_int(tmp_path):
    p = tmp_path / "items.jsonl"
    p.write_text('{"id": true, "text": "x", "label": "a"}\n')
    with pytest.raises(InputError, match="field 'id'"):
        load_items(p, SCHEMA)


def test_hash_changes_with_content(tmp_path):
    p = tmp_path / "f.jsonl"
    p.write_text("a")
    h1 = file_sha256(p)
    p.write_text("b")
    assert file_sha256(p) != h1
