"""The plots draw what the numbers say: each model's own interval clipped to the metric's range
(never the difference's interval moved onto a value), the paired difference with its own
interval, slice bars with n and intervals, accept/reject labels, slanted long category labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assay import tasks
from assay.compare import MetricComparison, compare_runs
from assay.report import plots

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _m(name="accuracy", kind="rate", base=0.98, cand=0.99, **kw) -> MetricComparison:
    fields = dict(name=name, kind=kind, test="mcnemar", direction="higher", role="primary",
                  family="confirmatory", verdict="inconclusive", n=100, base=base,
                  candidate=cand, difference=cand - base, ci_low=-0.02, ci_high=0.05,
                  pvalue=0.5, pvalue_holm=0.5)
    return MetricComparison(**{**fields, **kw})


@pytest.fixture
def captured(monkeypatch):
    """The figures the plot functions would save (kept open to read back)."""
    figs = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figs.append(fig) or path)
    return figs


def _line(ax, gid):
    return next(line for line in ax.lines if line.get_gid() == gid)


def test_each_models_interval_is_its_own_and_clipped_to_the_range():
    m = _m(base_ci_low=0.93, base_ci_high=0.995, candidate_ci_low=0.95, candidate_ci_high=1.004)
    assert plots.value_intervals(m) == {"base": (0.98, 0.93, 0.995),
                                        "candidate": (0.99, 0.95, 1.0)}
    plt = plots._plt()
    fig, ax = plt.subplots()
    plots.value_row(ax, m, "base", "ft")
    assert list(_line(ax, "ci-candidate").get_xdata()) == [0.95, 1.0]
    assert list(_line(ax, "ci-base").get_xdata()) == [0.93, 0.995]
    # the old plot drew base + the difference's interval: [0.96, 1.03], past 1
    assert max(x for line in ax.lines for x in line.get_xdata()) <= 1.0
    plt.close(fig)


def test_range_by_kind_and_no_clipping_when_unknown_or_contradicted():
    assert plots.metric_range(_m()) == (0.0, 1.0)
    assert plots.metric_range(_m("kappa", "confusion", 0.1, -0.2)) == (-1.0, 1.0)
    assert plots.metric_range(_m("f1", "confusion", 0.4, 0.5)) == (0.0, 1.0)
    assert plots.metric_range(_m("words", "mean", 40.0, 41.0)) is None
    m = _m("words", "mean", 40.0, 41.0, base_ci_low=38.0, base_ci_high=42.0,
           candidate_ci_low=39.5, candidate_ci_high=42.5)
    assert plots.value_intervals(m)["candidate"] == (41.0, 39.5, 42.5)
    assert plots.value_intervals(_m())["base"] is None  # no interval: none drawn


def test_difference_row_draws_the_paired_interval_around_zero():
    m = _m(ci_low=-0.021, ci_high=0.047)
    assert plots.difference_interval(m) == (pytest.approx(0.01), -0.021, 0.047)
    plt = plots._plt()
    fig, ax = plt.subplots()
    plots.difference_row(ax, m)
    assert list(_line(ax, "ci-difference").get_xdata()) == [-0.021, 0.047]
    lo, hi = ax.get_xlim()
    assert lo < -0.021 and hi > 0.047 and lo < 0 < hi
    plt.close(fig)


def _err_segments(ax, side):
    coll = next(c for c in ax.collections if c.get_gid() == f"err-{side}")
    return [(seg[0][1], seg[1][1]) for seg in coll.get_segments()]


def test_slice_bars_carry_n_and_each_models_clipped_interval(captured, tmp_path):
    easy = _m("accuracy/easy", base=0.5, cand=0.9, n=50, base_ci_low=0.37, base_ci_high=0.63,
              candidate_ci_low=0.79, candidate_ci_high=1.02)
    hard = _m("accuracy/hard", base=0.4, cand=0.45, n=30, base_baseline=0.5)
    rows = [plots.slice_bar("easy", easy), plots.slice_bar("hard", hard)]
    plots.plot_slices("accuracy", rows, ("base", "ft"), tmp_path / "x.png")
    ax = captured[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["easy\nn=50", "hard\nn=30"]
    base = _err_segments(ax, "base")
    cand = _err_segments(ax, "candidate")
    assert base[0] == pytest.approx((0.37, 0.63)) and cand[0] == pytest.approx((0.79, 1.0))
    assert base[1] == pytest.approx((0.4, 0.4)) and cand[1] == pytest.approx((0.45, 0.45))


def test_comparison_slice_intervals_are_wilson_intervals_of_each_model(monkeypatch, captured,
                                                                      tmp_path):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task
    from statsmodels.stats.proportion import proportion_confint

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    recs = cmp_task.table_records()
    for r in recs:
        r["scores"]["slice"] = "easy" if int(r["id"]) % 2 else "hard"
    cmp = compare_runs(cmp_task.write_run(tmp_path / "run", recs), n_resamples=200)
    m = cmp.metric("accuracy/easy")
    k = round(m.candidate * m.n)
    lo, hi = proportion_confint(k, m.n, alpha=0.05, method="wilson")
    assert plots.value_intervals(m)["candidate"] == pytest.approx((m.candidate, lo, hi))
    plots.comparison_plots(cmp, tmp_path / "plots")
    slices_fig = next(f for f in captured if f.axes[0].get_title().startswith("accuracy by"))
    assert _err_segments(slices_fig.axes[0], "candidate")[0] == pytest.approx((lo, hi))


def test_accept_reject_labels_and_slanted_long_category_names(captured, tmp_path):
    from assay.tasks.paper_review import _details

    cm = {"tp": 5, "fn": 2, "fp": 1, "tn": 7, "positive": "accept", "negative": "reject"}
    assert plots.as_confusion(cm)[0] == ["accept", "reject"]
    assert plots.as_confusion({"tp": 1, "fn": 1, "fp": 1, "tn": 1})[0] == ["positive",
                                                                           "negative"]
    row = {"id": "1", "model": "m", "pass": "original", "sample": None, "output": "x",
           "parse_error": None, "scores": {"gold": "accept", "predicted": "accept",
                                           "correct": True, "venue": None}}
    assert _details([row])["confusion"]["negative"] == "reject"
    labels = ["refactoring", "discussion", "functional", "documentation"]
    plots.plot_confusions([("ft", labels, np.eye(4).tolist())], "confusion", tmp_path / "c.png")
    ticks = captured[0].axes[0].get_xticklabels()
    assert [t.get_text() for t in ticks] == labels
    assert all(t.get_rotation() == 35 and t.get_ha() == "right" for t in ticks)
    fig = captured[0]
    fig.canvas.draw()  # readable: no two x labels overlap once drawn
    boxes = [t.get_window_extent() for t in ticks]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))
