"""The gate's decision at the published thresholds, the dry-run draw and the cross-check
disagreement table."""

from __future__ import annotations

import pytest

from assay.judgedata.gate import (ABORT, MARGINAL, PROCEED, GateRule, decide, disagreements,
                                  dry_run_ids, gate)


@pytest.mark.parametrize("agree,hard,want", [
    (46, 24, PROCEED), (50, 30, PROCEED), (45, 30, MARGINAL), (46, 23, MARGINAL),
    (44, 22, MARGINAL), (43, 21, ABORT), (49, 21, ABORT)])
def test_decision_at_46_of_50_and_24_22_of_30(agree, hard, want):
    assert decide(GateRule(), 50, agree, 30, hard)[0] == want


def test_a_dry_run_without_hard_pairs_does_not_pass_vacuously():
    decision, reason = decide(GateRule(), 50, 50, 0, 0)
    assert decision == MARGINAL and "no hard-bucket pair" in reason
    assert decide(GateRule(min_hard=0, abort_hard=0), 50, 50, 0, 0)[0] == PROCEED


def test_thresholds_scale_with_the_dry_run_size():
    rule = GateRule(n=100)
    # 0.92 * 100 = 92; 0.8 * 60 = 48; 22/30 * 60 = 44
    assert decide(rule, 100, 92, 60, 48)[0] == PROCEED
    assert decide(rule, 100, 92, 60, 47)[0] == MARGINAL
    assert decide(rule, 100, 92, 60, 43)[0] == ABORT
    assert "92/100 overall (need 92), 43/60 on hard buckets (need 48, abort below 44)" in \
        decide(rule, 100, 92, 60, 43)[1]


@pytest.mark.parametrize("kw,needle", [({"n": 0}, "gate n"), ({"min_hard": 1.5}, "min_hard"),
                                       ({"abort_hard": 0.9}, "must not exceed min_hard")])
def test_bad_rules(kw, needle):
    with pytest.raises(ValueError, match=needle):
        GateRule(**kw)


def items(n_hard, n_easy):
    return ([{"id": f"h{i}", "bucket": ["subtle_bias_vs_clean", "adversarial",
                                          "tracked_bias_vs_alternate"][i % 3]}
             for i in range(n_hard)]
            + [{"id": f"e{i}", "pair_category": "both_clean_tie"} for i in range(n_easy)])


def test_dry_run_draws_30_hard_and_20_other_pairs_deterministically():
    pairs = items(100, 100)
    ids = dry_run_ids(pairs, GateRule(), 7)
    assert len(ids) == 50 and sum(i.startswith("h") for i in ids) == 30
    assert ids == dry_run_ids(pairs, GateRule(), 7) != dry_run_ids(pairs, GateRule(), 8)
    few = dry_run_ids(items(10, 100), GateRule(), 0)  # too few hard pairs: the rest from others
    assert len(few) == 50 and sum(i.startswith("h") for i in few) == 10


def test_agreement_table_and_confusion():
    pairs = items(3, 2)
    teacher = {"h0": "A", "h1": "B", "h2": None, "e0": "TIE", "e1": "TIE"}
    ref = {"h0": "A", "h1": "A", "h2": "B", "e0": "TIE", "e1": "A"}
    got = gate(pairs, teacher, ref, GateRule(n=5))
    assert (got.n, got.agree, got.hard_n, got.hard_agree) == (5, 2, 3, 1)
    assert got.by_bucket["subtle_bias_vs_clean"] == {"n": 1, "agree": 1}
    assert got.by_bucket["both_clean_tie"] == {"n": 2, "agree": 1}
    assert got.confusion["B"]["A"] == 1 and got.confusion[None]["B"] == 1
    assert got.decision == ABORT
    assert "both_clean_tie 1/2" in got.table()


def test_cross_check_disagreement_by_bucket():
    pairs = items(6, 0)
    teacher = {f"h{i}": "A" for i in range(6)}
    other = {"h0": "A", "h1": "B", "h2": "A", "h3": "TIE", "h4": "A"}  # h5 not checked
    got = disagreements(pairs, teacher, {"x": other})["x"]
    assert (got["n"], got["disagree"], got["ids"]) == (5, 2, ["h1", "h3"])
    assert got["rate"] == pytest.approx(0.4)
    assert got["by_bucket"]["adversarial"] == {"n": 2, "disagree": 1}
    assert got["by_bucket"]["subtle_bias_vs_clean"] == {"n": 2, "disagree": 1}
