"""The two real pi sessions (legacy format) in ../shared/data/pi-sessions.

The counts below were checked by hand against the files: every user message starts an episode
except the two bare "continue" messages (large-session lines 235 and 277); every tool error is
one diagnostic (19 and 12 `"isError": true` results); the categories of the listed lines were
read one by one (e.g. line 62 is `tsgo --noEmit` failing with error TS2739, line 118 is grep's
"No such file or directory", line 625 is node's MODULE_NOT_FOUND, line 80 is an edit whose old
text was not found, line 18 is "you fucked thet component up ... try again").
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from assay.traces import MineConfig, build_episodes, default_classifier, mine, open_session

pytestmark = pytest.mark.realdata


def _labelled(path):
    classifier = default_classifier()
    with open_session(path) as s:
        episodes = [replace(e, diagnostics=classifier.label(e.diagnostics))
                    for e in build_episodes(s, str(path), s.info.header.get("cwd"))]
    return episodes, s.info


def _raw_counts(path):
    users = errors = 0
    for line in open(path, encoding="utf-8"):
        msg = json.loads(line).get("message") or {}
        users += msg.get("role") == "user"
        errors += msg.get("role") == "toolResult" and msg.get("isError") is True
    return users, errors


@pytest.mark.parametrize("name, lines, episodes, users, tool_errors, feedback, categories", [
    ("large-session.jsonl", 1019, 86, 88, 19, 20,
     {"user_feedback": 20, "command_error": 11, "build_lint_compile": 4,
      "missing_file_or_command": 2, "other_marked_error": 2}),
    ("before-compaction.jsonl", 1003, 55, 55, 12, 6,
     {"other_marked_error": 6, "build_lint_compile": 3, "user_feedback": 6,
      "missing_file_or_command": 2, "command_error": 1}),
])
def test_episode_and_category_counts(shared_data, name, lines, episodes, users, tool_errors,
                                     feedback, categories):
    path = shared_data / "pi-sessions" / name
    eps, info = _labelled(path)
    assert info.version is None and info.lines == lines and info.malformed == []
    assert info.entries_total == lines - 1  # all but the header
    assert (users, tool_errors) == _raw_counts(path)  # independent count of the raw lines
    assert len(eps) == episodes
    kinds = Counter(d.kind for e in eps for d in e.diagnostics)
    assert kinds == {"tool_error": tool_errors, "user_feedback": feedback}
    assert Counter(d.category for e in eps for d in e.diagnostics) == categories


def test_hand_checked_lines(shared_data):
    large, _ = _labelled(shared_data / "pi-sessions" / "large-session.jsonl")
    before, _ = _labelled(shared_data / "pi-sessions" / "before-compaction.jsonl")
    by_line = {(f, d.line): d for f, eps in (("L", large), ("B", before)) for e in eps
               for d in e.diagnostics}
    expected = {("L", 40): "command_error", ("L", 62): "build_lint_compile",
                ("L", 118): "missing_file_or_command", ("L", 785): "missing_file_or_command",
                ("L", 992): "build_lint_compile", ("L", 18): "user_feedback",
                ("B", 80): "other_marked_error", ("B", 86): "build_lint_compile",
                ("B", 625): "missing_file_or_command", ("B", 544): "other_marked_error",
                ("B", 894): "command_error", ("B", 387): "user_feedback"}
    assert {k: by_line[k].category for k in expected} == expected
    assert by_line[("L", 62)].command == "cd packages/coding-agent && npm run check"
    # "Command exited with code 1" quoted inside source code a tool read is not a failure
    assert ("B", 35) not in by_line and ("B", 876) not in by_line
    # after the compaction at line 360 the summary is part of each later prompt's context
    after = [e for e in before if e.first_line > 360]
    assert all(e.context[-1].startswith("Summary of earlier work:\n# Context Checkpoint")
               for e in after)


def test_mined_rows_from_both_sessions(shared_data, tmp_path):
    result = mine([shared_data / "pi-sessions"], MineConfig())
    s = result.summary
    assert (s.sessions, s.lines, s.malformed_lines, s.episodes, s.eligible, s.kept) == \
        (2, 2022, 0, 141, 40, 23)
    assert (s.score_min, s.score_max) == (5.1, 10.9)
    text = json.dumps(result.rows)
    assert "/Users/badlogic" not in text and "Working directory: <cwd>" in text
    assert "--Users-badlogic" not in text
