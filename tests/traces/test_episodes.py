"""Episodes: prompt + diagnostics until the next prompt, corrections, continuations, context."""

from __future__ import annotations

import pytest

from assay.traces import EpisodeConfig, build_episodes, is_correction, open_session
from assay.traces.episodes import clip


def _episodes(path):
    with open_session(path) as s:
        return list(build_episodes(s, str(path), s.info.header.get("cwd")))


def test_branch_fixture_episodes(pi_fixtures):
    first, second = _episodes(pi_fixtures / "v3_branches.jsonl")
    assert first.prompt.startswith("Please fix the failing unit tests")
    assert first.prompt_entry_id == "e0000002" and first.first_line == 3
    # the pytest failure (exit code in a non-error result) and the user's "no, that's wrong";
    # the failed edit on the abandoned branch (line 7) is not part of the active branch
    assert [(d.line, d.kind, d.exit_code) for d in first.diagnostics] == [
        (5, "exit_code", 1), (12, "user_feedback", None)]
    assert first.diagnostics[0].command == "pytest tests/test_parser.py"
    assert first.diagnostics[0].tool == "bash"
    assert first.went_on_after_failure and first.tool_calls == 2
    assert first.entry_ids == ("e0000002", "e0000004", "e000000b")
    assert second.prompt.startswith("no, that's wrong")
    assert [(d.line, d.kind) for d in second.diagnostics] == [(14, "tool_error")]
    assert second.context == ("Working directory: /home/alice/proj",
                              "Summary of an abandoned branch:\nTried to edit src/parser.py with "
                              "stale text; the edit failed, so the user went back.")


def test_compaction_fixture_continue_merges_and_summary_becomes_context(pi_fixtures):
    first, second = _episodes(pi_fixtures / "v3_compaction.jsonl")
    assert [(d.line, d.kind) for d in first.diagnostics] == [(4, "tool_error"), (9, "tool_error")]
    assert first.diagnostics[0].command == '{"file": "app/cli.py"}'  # edit called without path
    assert first.last_line == 13  # "continue" at line 11 did not end the episode
    assert second.prompt == "Now run the build with npm run build and fix any type errors you see"
    assert [(d.kind, d.command, d.exit_code) for d in second.diagnostics] == [
        ("bash_execution", "npm run build", 2)]
    assert second.context[1].startswith("Summary of earlier work:\nGoal: add --verbose")


def test_legacy_fixture_last_prompt_without_diagnostics(pi_fixtures):
    first, second = _episodes(pi_fixtures / "v1_legacy.jsonl")
    assert [d.tool for d in first.diagnostics] == ["bash", "frobnicate"]
    assert second.prompt == "thanks" and second.diagnostics == ()
    assert not second.went_on_after_failure


@pytest.mark.parametrize("text, expected", [
    ("no, that's not it", True), ("you broke the build", True), ("why did you delete it?", True),
    ("that doesn't work either", True), ("wtf", True), ("it should be 8ABEB7", True),
    ("try again, read the full file", True), ("ok, make muted a little brighter", False),
    ("then we should be good to go", False), ("read the file if you need to", False),
    ("omfg that's it, now it renders the same", False), ("create a custom theme", False),
])
def test_correction_wording(text, expected):
    assert is_correction(text) is expected


def test_clip_keeps_head_and_tail():
    text = "HEAD" + "x" * 10_000 + "TAIL"
    out = clip(text, 300)
    assert out.startswith("HEAD") and out.endswith("TAIL") and len(out) < 340
    assert "characters cut" in out
    assert clip("short", 300) == "short"
    with pytest.raises(ValueError, match="capture_chars"):
        EpisodeConfig(capture_chars=5)
