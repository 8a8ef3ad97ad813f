"""Pairs on a small hand-written BBQ: split by template, OOD slice, scaling, CLI errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assay.judgedata import PairsConfig, build_pairs
from assay.judgedata.pairs import scaled
from assay.testing import script_env

from .conftest import small_bbq


def test_scaled_keeps_the_total_and_the_proportions():
    got = scaled({"a": 800, "b": 550, "c": 220, "d": 550, "e": 250}, 60)
    assert got == {"a": 20, "b": 14, "c": 6, "d": 14, "e": 6} and sum(got.values()) == 60


def test_small_bbq_pairs_split_by_template_with_an_ood_slice(tmp_path):
    root = small_bbq(tmp_path / "bbq")
    per = {"clear": 6, "subtle": 4, "tracked": 4, "tie": 6, "adversarial": 3}
    ps = build_pairs(PairsConfig(str(root), "religion", per, ood_pairs=10, holdout_pairs=5,
                                 seed=2))
    assert ps.card["allocated_per_bucket"] == {
        "clear_bias_vs_clean": 6, "subtle_bias_vs_clean": 4, "tracked_bias_vs_alternate": 4,
        "both_clean_tie": 6, "adversarial": 3}
    assert len(ps.train) + sum(r["eval_slice"] == "in_dist" for r in ps.holdout) == 23
    assert sum(r["eval_slice"] == "ood_religion" for r in ps.holdout) == 10
    assert not {r["group_id"] for r in ps.train} & {r["group_id"] for r in ps.holdout}
    assert ps.card["groups_on_both_sides"] == 0


def test_a_short_pool_is_a_warning_not_a_silent_cut(tmp_path):
    root = small_bbq(tmp_path / "bbq", templates=1, per_template=1)
    ps = build_pairs(PairsConfig(str(root), None, {"clear": 50}, holdout_pairs=0))
    # 2 categories x 2 polarities: 4 ambiguous questions, one clear pair each
    assert ps.card["allocated_per_bucket"]["clear_bias_vs_clean"] == 4
    assert ps.card["shortfall"]["clear_bias_vs_clean"] == 46  # other buckets: the defaults
    assert ("bucket clear_bias_vs_clean got 4 of 50 pairs: its pool ran out"
            in ps.card["warnings"])


@pytest.mark.parametrize("args,needle", [
    (["--holdout-category", "Nope"], "field 'holdout_category': no such BBQ category"),
    (["--per-bucket", "huge=3"], "unknown bucket 'huge'"),
    (["--per-bucket", "clear=-1"], "must be a non-negative int")])
def test_cli_errors_are_one_line_with_a_fix(tmp_path, args, needle):
    root = small_bbq(tmp_path / "bbq", templates=1, per_template=1)
    out = subprocess.run([sys.executable, "-m", "assay", "data", "bbq-pairs", "--bbq",
                          str(root), "--out", str(tmp_path / "o"), *args], env=script_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Fix:" in lines[0], out.stderr
