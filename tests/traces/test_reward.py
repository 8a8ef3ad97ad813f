"""The grounding reward: hand-made completions that do and do not address their diagnostics."""

from __future__ import annotations

import pytest

from assay.traces import GroundingConfig, anchors, grounding_reward

CONTEXT = (
    "[build_lint_compile] bash `cd packages/tui && npm run check` exited with code 2:\n"
    "src/theme.ts(28,2): error TS2739: Type 'Theme' is missing properties selectedPrefix\n\n"
    "[missing_file_or_command] bash `grep -n x src/wrap-ansi.ts` exited with code 2:\n"
    "grep: src/wrap-ansi.ts: No such file or directory")


def test_anchors_of_a_context():
    a = anchors(CONTEXT)
    assert a.files == ("theme.ts", "wrap-ansi.ts")
    assert a.commands == ("npm run check", "grep")
    assert a.identifiers == ("ts2739",)
    assert [sorted(m) for m in a.messages] == [
        ["error", "missing", "properties", "selectedprefix", "theme", "type"],
        ["ansi", "directory", "file", "grep", "such", "wrap"]]


def test_addressing_completions_score_higher_than_generic_ones():
    good = ("theme.ts fails TS2739: the Theme type is missing properties like selectedPrefix. "
            "wrap-ansi.ts does not exist (No such file or directory), so grep fails; I will add "
            "selectedPrefix and rerun npm run check.")
    partial = "Let me fix the TS2739 error in theme.ts."
    generic = "I made some changes; it should work now."
    scores = grounding_reward(["p"] * 3, [good, partial, generic],
                              privileged_context=[CONTEXT] * 3)
    # partial: files 1/2, commands 0/2, identifiers 1/1, messages 0/2 -> (0.5 + 0 + 1 + 0) / 4
    assert scores[1] == pytest.approx(0.375)
    assert scores[2] == 0.0
    # good: files 2/2, commands 2/2, identifiers 1/1, messages 2/2 (>= half of the words)
    assert scores[0] == pytest.approx(1.0)


def test_conversational_completions_and_rows_without_context():
    completion = [{"role": "assistant", "content": "see theme.ts and wrap-ansi.ts"}]
    scores = grounding_reward([[{"role": "user", "content": "x"}]] * 3,
                              [completion, completion, completion],
                              privileged_context=[CONTEXT, None, "nothing concrete here"],
                              score=[1.0] * 3, trainer_state=None)
    assert scores == [pytest.approx(0.25), 0.0, 0.0]
    assert grounding_reward(["p"], ["x"]) == [0.0]


def test_bad_input():
    with pytest.raises(ValueError, match="privileged_context has 1 items for 2 completions"):
        grounding_reward(["a", "b"], ["a", "b"], privileged_context=[CONTEXT])
    with pytest.raises(ValueError, match="message_overlap"):
        GroundingConfig(message_overlap=0)
