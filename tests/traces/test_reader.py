"""The pi session reader: v3 trees (active branch), legacy files, and every kind of bad line."""

from __future__ import annotations

import json

import pytest

from assay.traces import ReaderConfig, open_session, read_session


def test_v3_follows_the_active_branch_from_the_last_leaf(pi_fixtures):
    entries, info = read_session(pi_fixtures / "v3_branches.jsonl")
    ids = [e.id for e in entries]
    # e0000005/e0000006 (an edit and its error) were abandoned when the user went back to e0000004
    assert "e0000005" not in ids and "e0000006" not in ids
    assert ids[:5] == ["e0000001", "e0000002", "e0000003", "e0000004", "e0000007"]
    assert ids[-1] == "e0000011" and len(ids) == 15
    assert info.version == 3 and info.is_tree
    assert info.lines == 18 and info.entries_total == 17 and info.branch_entries == 15
    assert info.header["cwd"] == "/home/alice/proj"
    assert info.malformed == []
    assert dict(info.unknown_types) == {"weird_future_type": 1}
    assert entries[-1].type == "weird_future_type"  # unknown types are kept, not fatal
    assert entries[4].parent_id == "e0000004"


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(pi_fixtures):
    path = pi_fixtures / "v3_compaction.jsonl"
    entries, info = read_session(path)
    reasons = {m.line: m.reason for m in info.malformed}
    assert set(reasons) == {5, 6, 7, 14, 15}
    assert reasons[5].startswith("two JSON values on one line")
    assert reasons[6].startswith("truncated JSON")
    assert reasons[7].startswith("not UTF-8")
    assert reasons[14] == "a JSON list, not an object"
    assert reasons[15] == "v3 entry of type 'message' has no 'id'"
    assert all(m.file == str(path) for m in info.malformed)
    assert info.lines == 21 and info.entries_total == 14  # blank line 10 is neither
    assert [e.id for e in entries][-3:] == ["x0000001", "x0000002", "x0000003"]
    assert sum(info.type_counts.values()) == 14 and info.type_counts["compaction"] == 1


def test_legacy_entries_come_in_file_order_with_line_ids(pi_fixtures):
    entries, info = read_session(pi_fixtures / "v1_legacy.jsonl")
    assert info.version is None and not info.is_tree
    assert [e.id for e in entries] == [f"L{i}" for i in range(2, 10)]
    assert [e.role for e in entries][:3] == ["user", "assistant", "toolResult"]


def test_empty_and_junk_files_give_counts_not_crashes(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    entries, info = read_session(empty)
    assert entries == [] and info.lines == 0 and info.malformed == []
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\x00\x01\x02\xff\n\x89PNG\r\n\x1a\n{not json\n")
    entries, info = read_session(junk)
    assert entries == [] and info.lines == 4  # "\r\n" ends a line too: 4 newline-terminated lines
    assert [m.line for m in info.malformed] == [1, 2, 3, 4]


def test_a_line_over_the_limit_is_skipped_without_losing_the_rest(tmp_path):
    path = tmp_path / "long.jsonl"
    big = json.dumps({"type": "message", "message": {"role": "user", "content": "x" * 50_000}})
    ok = json.dumps({"type": "message", "message": {"role": "user", "content": "after"}})
    path.write_text(big + "\n" + ok + "\n")
    entries, info = read_session(path, ReaderConfig(max_line_bytes=4096))
    assert [m.line for m in info.malformed] == [1]
    assert "longer than 4096 bytes" in info.malformed[0].reason
    assert [e.message["content"] for e in entries] == ["after"]
    with pytest.raises(ValueError, match="max_line_bytes"):
        ReaderConfig(max_line_bytes=10)


def _v3(entries):
    header = {"type": "session", "version": 3, "id": "s", "timestamp": "t", "cwd": "/tmp"}
    return "\n".join(json.dumps(o) for o in [header, *entries]) + "\n"


def test_deep_branches_cycles_and_missing_parents(tmp_path):
    deep = [{"type": "custom", "id": f"n{i}", "parentId": f"n{i - 1}" if i else None}
            for i in range(20_000)]
    path = tmp_path / "deep.jsonl"
    path.write_text(_v3(deep))
    entries, info = read_session(path)
    assert len(entries) == 20_000 and entries[0].id == "n0" and entries[-1].id == "n19999"

    cyc = [{"type": "custom", "id": "a", "parentId": "b"}, {"type": "custom", "id": "b",
                                                            "parentId": "a"}]
    path.write_text(_v3(cyc))
    entries, _ = read_session(path)
    assert [e.id for e in entries] == ["a", "b"]  # walk stops where it would loop

    orphan = [{"type": "custom", "id": "x", "parentId": "gone"},
              {"type": "custom", "id": "y", "parentId": "x"}]
    path.write_text(_v3(orphan))
    assert [e.id for e in read_session(path)[0]] == ["x", "y"]


def test_iterating_outside_with_is_an_error(pi_fixtures):
    stream = open_session(pi_fixtures / "v1_legacy.jsonl")
    with pytest.raises(ValueError, match="with open_session"):
        list(stream)
