"""The episode score: each documented weight, checked on hand-computed cases."""

from __future__ import annotations

import pytest

from assay.traces import Diagnostic, Episode, ScoreConfig, score_episode


def _episode(prompt, categories, went_on=False):
    diags = tuple(Diagnostic("tool_error", "x", f"d{i}", i, category=c)
                  for i, c in enumerate(categories))
    return Episode("f", prompt, "p", 1, 2, (), diags, 1, went_on)


TWELVE_WORDS = "please fix the failing unit tests in the parser and rerun them"


def test_weights_add_up_as_documented():
    assert len(TWELVE_WORDS.split()) == 12
    s = score_episode(_episode(TWELVE_WORDS, ["test_or_assertion", "user_feedback"], True))
    # 12 words x 0.1 + test 4.0 + feedback 3.0 + went on 2.0
    assert s.eligible and s.total == pytest.approx(10.2)
    assert s.parts == {"prompt": 1.2, "test_or_assertion": 4.0, "user_feedback": 3.0,
                       "went_on": 2.0}


def test_repeats_add_a_capped_bonus_and_prompt_points_are_capped():
    long_prompt = " ".join(["word"] * 80)
    s = score_episode(_episode(long_prompt, ["command_error"] * 6))
    # prompt capped at 3.0; command_error 2.0 + min(5 x 0.5, 1.5)
    assert s.total == pytest.approx(3.0 + 2.0 + 1.5)


def test_unknown_user_category_uses_its_weight_or_two():
    config = ScoreConfig(weights={"network": 2.75})
    assert score_episode(_episode(TWELVE_WORDS, ["network"]), config).total == \
        pytest.approx(1.2 + 2.75)
    assert score_episode(_episode(TWELVE_WORDS, ["brand_new"])).total == pytest.approx(1.2 + 2.0)


@pytest.mark.parametrize("prompt, cats, reason", [
    ("/model", ["command_error"], "prompt under 5 words"),
    ("fix it now", ["command_error"], "prompt under 5 words"),
    (TWELVE_WORDS, [], "no diagnostics"),
])
def test_ineligible_episodes_score_zero(prompt, cats, reason):
    s = score_episode(_episode(prompt, cats))
    assert (s.eligible, s.total, s.reason) == (False, 0.0, reason)


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="went_on_bonus must be >= 0"):
        ScoreConfig(went_on_bonus=-1)
