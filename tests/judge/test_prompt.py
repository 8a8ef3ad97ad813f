"""The judge's answer: YAML read through the bounded parser; a malformed answer is a parse
failure with its reason; outcomes map slots to the candidate by order."""

from __future__ import annotations

import pytest

from assay.judge import CANDIDATE_FIRST, REFERENCE_FIRST, judge_messages, outcome_of, parse_verdict
from assay.tasks import Unparsed


def test_a_full_answer_is_read():
    v = parse_verdict("Sure.\n```yaml\nwhich_response_was_better: 2\nwhy: 'more precise: it "
                      "names the line'\nscore_response1: 4\nscore_response2: '8'\n```")
    assert (v.better, v.score_first, v.score_second) == (2, 4, 8) and "names" in v.why


def test_scores_are_optional_and_a_quoted_verdict_is_a_number():
    v = parse_verdict("which_response_was_better: '0'\nwhy: same\n")
    assert v.better == 0 and v.score_first is None


@pytest.mark.parametrize("text, reason", [
    ("which_response_was_better: 3\n", "which_response_was_better"),
    ("why: no verdict\nwhich_response_was_better:\n", "which_response_was_better"),
    ("Response 1 is better.", "no YAML answer"),
    ("which_response_was_better: 1\nscore_response1: 11\n", "score_response1"),
    ("which_response_was_better: [1\n", "malformed YAML"),
])
def test_a_malformed_answer_is_a_parse_failure_with_its_reason(text, reason):
    got = parse_verdict(text)
    assert isinstance(got, Unparsed) and reason in got.reason


def test_outcomes_follow_the_order():
    assert outcome_of(1, CANDIDATE_FIRST) == "win" and outcome_of(1, REFERENCE_FIRST) == "loss"
    assert outcome_of(2, CANDIDATE_FIRST) == "loss" and outcome_of(2, REFERENCE_FIRST) == "win"
    assert outcome_of(0, REFERENCE_FIRST) == "tie"


def test_the_judge_sees_the_task_and_both_responses_in_order():
    msgs = judge_messages("Review the PR.", "the diff", "FIRST", "SECOND")
    user = msgs[-1]["content"]
    assert user.index("Review the PR.") < user.index("the diff") < user.index("FIRST") \
        < user.index("SECOND")
    assert "which_response_was_better" in msgs[0]["content"]
