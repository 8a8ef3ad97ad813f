"""Selection: the task's tiered key, strict and best-effort admission."""

from __future__ import annotations

import pytest

from assay.distill import NEVER_PASSED, PASSED, Attempt, ItemRun, select
from assay.tasks import Check, get_task
from assay.tasks.haiku_review import HaikuReview, form_distance
from assay.tasks.paper_review import DECISION_LINES, SECTIONS

VALID = "the lock needs a guard\na slow change here breaks at night\nso check it once more"
FIVE_TEN_FIVE = ("the lock needs a guard\na slow change here breaks at night and then it "
                 "breaks more\nso check it once more")
FIVE_SEVEN_SIX = ("the lock needs a guard\na slow change here breaks at night\n"
                  "so check it once more now")


def _attempt(text, round_, ok, candidate=0, feedback=""):
    return Attempt("i", round_, candidate, f"k{round_}{candidate}", "h", text,
                   Check(ok, feedback), None, 1, 1, False)


def test_default_key_is_the_first_valid_attempt():
    task = get_task("bias-judge")
    run = ItemRun({"id": "i"}, [_attempt("a", 0, False), _attempt("b", 1, True),
                                _attempt("c", 2, True)], PASSED)
    sel = select(task, run)
    assert sel.index == 1 and sel.admitted and not sel.best_effort


def test_strict_admits_nothing_that_never_passed_and_says_why():
    task = get_task("bias-judge")
    run = ItemRun({"id": "i"}, [_attempt("a", 0, False, feedback="no <verdict> tag")],
                  NEVER_PASSED)
    sel = select(task, run)
    assert sel.index is None and not sel.admitted
    assert "never passed" in sel.reason and "no <verdict> tag" in sel.reason
    effort = select(task, run, keep="best-effort")
    assert effort.index == 0 and effort.admitted and effort.best_effort


class FixedRelevance(HaikuReview):
    """The haiku key with relevances given by the test (no embedding model)."""

    def __init__(self, rel):
        super().__init__()
        self.rel = rel

    def _relevances(self, item, texts):
        return [self.rel[t] for t in texts]


def test_form_distance_counts_syllables_off_target():
    assert form_distance(VALID) == 0
    assert form_distance(FIVE_SEVEN_SIX) == 1
    assert form_distance(FIVE_TEN_FIVE) >= 3
    assert form_distance("no haiku here") == 99


def test_haiku_tiers_follow_lgtm575_v2():
    draft, drifted, kept = "d\ne\nf", VALID, VALID.replace("lock", "queue")
    task = FixedRelevance({draft: 0.60, drifted: 0.50, kept: 0.58})
    atts = [_attempt(draft, 0, False), _attempt(drifted, 1, True), _attempt(kept, 2, True)]
    tiers = task.selection_tiers({"comment": "c"}, atts, relevance_tol=0.05)
    assert [t.tier for t in tiers] == [2, 1, 3]
    assert tiers[1].values["drifted"] and not tiers[2].values["drifted"]
    assert select(task, ItemRun({"id": "i", "comment": "c"}, atts, PASSED)).index == 2
    loose = task.selection_tiers({"comment": "c"}, atts, relevance_tol=0.2)
    assert [t.tier for t in loose] == [2, 3, 3]


def test_form_distance_beats_a_relevance_edge():
    """The case that added the term: a 5-10-5 must not beat a 5-7-6 on 0.02 of relevance."""
    task = FixedRelevance({FIVE_TEN_FIVE: 0.52, FIVE_SEVEN_SIX: 0.50})
    atts = [_attempt(FIVE_TEN_FIVE, 0, False), _attempt(FIVE_SEVEN_SIX, 0, False, candidate=1)]
    run = ItemRun({"id": "i", "comment": "c"}, atts, NEVER_PASSED)
    sel = select(task, run, keep="best-effort")
    assert sel.index == 1 and sel.best_effort


def _review(sections, decision_last=True):
    body = "\n\n".join(f"## {s}\ntext" for s in sections)
    line = DECISION_LINES["accept"]
    return body + (f"\n{line}" if decision_last else f"\n{line}\nP.S. more")


@pytest.mark.parametrize("text,tier", [
    ("no decision at all", 0),
    (_review(SECTIONS[:3]), 1),
    (_review(SECTIONS, decision_last=False), 2),
    (_review(SECTIONS), 3),
])
def test_paper_review_tiers(text, tier):
    task = get_task("paper-review")
    item = {"id": "p", "decision": "accept"}
    att = _attempt(text, 0, task.check(item, text).ok)
    assert task.selection_tiers(item, [att])[0].tier == tier
