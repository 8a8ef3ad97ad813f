"""Classification into the nine categories, and user patterns from YAML/JSON files."""

from __future__ import annotations

import json

import pytest

from assay.errors import InputError
from assay.traces import CATEGORIES, Diagnostic, default_classifier, load_patterns


def _diag(text, kind="tool_error", command=None, exit_code=None):
    return Diagnostic(kind, text, "id", 1, "bash", command, exit_code)


@pytest.mark.parametrize("text, kind, exit_code, expected", [
    ('Validation failed for tool "edit":\n - path: must have required property', "tool_error",
     None, "tool_schema_validation"),
    ("Tool frobnicate not found", "tool_error", None, "tool_schema_validation"),
    ("cat: /etc/shadow: Permission denied", "tool_error", 1, "permission_auth"),
    ("npm ERR! code E401 Unable to authenticate", "tool_error", 1, "permission_auth"),
    ("FAILED tests/test_x.py::test_a - AssertionError", "exit_code", 1, "test_or_assertion"),
    ("not ok 1 - adds\n# fail 1", "tool_error", 1, "test_or_assertion"),
    ("src/a.ts(3,5): error TS2322: Type 'string' is not assignable", "tool_error", 2,
     "build_lint_compile"),
    ("error[E0308]: mismatched types", "tool_error", 101, "build_lint_compile"),
    ("grep: src/wrap.ts: No such file or directory", "tool_error", 2, "missing_file_or_command"),
    ("bash: rg: command not found", "tool_error", 127, "missing_file_or_command"),
    ("Traceback (most recent call last):\nModuleNotFoundError: No module named 'x'", "tool_error",
     1, "missing_file_or_command"),
    ("Traceback (most recent call last):\n  File 'a.py'\nKeyError: 'x'", "tool_error", 1,
     "runtime_exception"),
    ("TypeError: cannot read properties of undefined\n    at run (/a/b.js:3:9)", "tool_error",
     1, "runtime_exception"),
    ("Command exited with code 1", "tool_error", 1, "command_error"),
    ("(no output)\n\nCommand exited with code 3", "exit_code", 3, "command_error"),
    ("Could not find the exact text in a.ts", "tool_error", None, "other_marked_error"),
    ("Command aborted", "tool_error", None, "other_marked_error"),
    ("you broke it, try again", "user_feedback", None, "user_feedback"),
])
def test_builtin_categories(text, kind, exit_code, expected):
    assert default_classifier().classify(_diag(text, kind, exit_code=exit_code)) == expected
    assert expected in CATEGORIES


def test_the_command_counts_as_evidence():
    diag = _diag("Command exited with code 2", command="npx tsc --noEmit", exit_code=2)
    assert default_classifier().classify(diag) == "build_lint_compile"


def test_user_patterns_from_yaml_win_and_may_add_categories(tmp_path):
    path = tmp_path / "patterns.yaml"
    path.write_text("network:\n  weight: 2.75\n  patterns: [ETIMEDOUT, 'getaddrinfo \\w+']\n"
                    "test_or_assertion: ['vitest .* FAIL']\n")
    classifier = load_patterns(path)
    assert classifier.classify(_diag("connect ETIMEDOUT 1.2.3.4:443\nCommand exited with code 1",
                                     exit_code=1)) == "network"
    assert classifier.classify(_diag("vitest run FAIL src/a.test.ts", exit_code=1)) == \
        "test_or_assertion"
    assert classifier.extra_weights == {"network": 2.75}


def test_user_patterns_from_json(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"permission_auth": "quota exceeded"}))
    assert load_patterns(path).classify(_diag("Error: quota exceeded")) == "permission_auth"


@pytest.mark.parametrize("content, match", [
    ("- just\n- a list\n", "must hold a mapping"),
    ("bad: ['(unclosed']\n", "invalid regular expression"),
    ("bad: {weight: -1, patterns: [x]}\n", "weight must be a number"),
    ("bad: [1, 2]\n", "list of regular expressions"),
    ("a: [b\n", "not valid YAML"),
])
def test_bad_pattern_files_name_file_and_fix(tmp_path, content, match):
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match=match) as info:
        load_patterns(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError, match="cannot read"):
        load_patterns(tmp_path / "absent.yaml")
