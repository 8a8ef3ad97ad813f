"""PNG plots where a picture says it better than the table: each model's value with its own
interval (clipped to the metric's range) against the floor, each paired difference with its
interval against zero, per-slice bars with n and intervals, score distributions against the
floor, confusion matrices (with the task's label names) and reliability diagrams; each file
named for what it shows. matplotlib is imported lazily with the Agg backend (no display needed).

What a task's ``details`` may hold for the plots (searched one level deep, by key name):
- a key containing ``confusion``: ``{"labels": [...], "matrix": [[...]]}`` (rows = true label),
  or ``{true: {predicted: count}}``, or ``{"tp", "fn", "fp", "tn"}`` (with ``"positive"`` and
  ``"negative"`` naming the two labels, e.g. accept and reject);
- a key containing ``calibration`` or ``reliability``: ``{"bins": [{"low", "high", "n",
  "mean_confidence", "accuracy"}], "ece": x}`` or ``{"probabilities": [...], "outcomes": [...]}``.
Slice metrics are recognised by their names: ``kappa[in_dist]``, ``kappa/in_dist``,
``kappa@in_dist`` or ``kappa:in_dist``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import require

BASE_COLOR, CAND_COLOR, FLOOR_COLOR = "#7f8c8d", "#2e86de", "#c0392b"
_SLICE = re.compile(r"^(?P<metric>[^\[\]/@:]+?)(?:\[(?P<a>[^\]]+)\]|[/@:](?P<b>.+))$")


def _plt():
    mpl = require("matplotlib", "report")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    from ..atomic import replacing

    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")
    _plt().close(fig)
    return path


def _ok(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "plot"


# ---------------------------------------------------------------------------------------------
# Comparison plots


def metric_range(m) -> tuple[float, float] | None:
    """The values a metric can take, where its kind says: a rate or a confusion statistic
    (accuracy, precision, recall, F1) lies in [0, 1], a kappa or MCC in [-1, 1]; None when
    unknown (a mean, a custom statistic) or when a value lies outside (the guess was wrong)."""
    name = m.name.split("/")[0].lower()
    rng = None
    if m.kind == "rate":
        rng = (0.0, 1.0)
    elif m.kind == "confusion":
        rng = (-1.0, 1.0) if ("kappa" in name or "mcc" in name) else (0.0, 1.0)
    if rng is None or not all(rng[0] <= v <= rng[1] for v in (m.base, m.candidate) if _ok(v)):
        return None
    return rng


def _clip(x: float, rng: tuple[float, float] | None) -> float:
    return x if rng is None else min(rng[1], max(rng[0], x))


def value_intervals(m) -> dict[str, tuple[float, float, float] | None]:
    """Each model's own value and interval as drawn: ``{"base": (value, low, high),
    "candidate": ...}``, the interval clipped to the metric's range; None where the comparison
    holds no interval of that value (only rates and threshold-goal metrics get one)."""
    rng = metric_range(m)
    out = {}
    for side, v, lo, hi in (("base", m.base, m.base_ci_low, m.base_ci_high),
                            ("candidate", m.candidate, m.candidate_ci_low, m.candidate_ci_high)):
        out[side] = ((v, _clip(lo, rng), _clip(hi, rng)) if _ok(v) and _ok(lo) and _ok(hi)
                     else None)
    return out


def difference_interval(m) -> tuple[float, float, float] | None:
    """(difference, low, high) of candidate - base, as drawn in the differences plot; the
    interval is the paired one of the comparison, never moved onto a model's value."""
    if not (_ok(m.difference) and _ok(m.ci_low) and _ok(m.ci_high)):
        return None
    return (m.difference, m.ci_low, m.ci_high)


def _rows_figure(n: int, title: str):
    plt = _plt()
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 0.62 * n + 1.0), squeeze=False)
    fig.suptitle(title, fontsize=10)
    return fig, axes[:, 0]


def _style_row(ax, label: str, xs: list[float]) -> None:
    low, high = min(xs), max(xs)
    pad = (high - low) * 0.15 or max(abs(high) * 0.1, 0.05)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(-0.8, 0.6)
    ax.set_yticks([0], [label], fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _one_legend(fig, axes) -> None:
    handles = {}  # one legend for all rows
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    if handles:
        axes[0].legend(handles.values(), handles.keys(), fontsize=7, loc="lower right",
                       bbox_to_anchor=(1.0, 1.02), ncol=3, frameon=False)


def plot_metrics(metrics, base: str, cand: str, path: Path) -> Path | None:
    """Each metric on its own row and scale (a kappa and a length in words do not share an
    axis): each model's value with its own interval (clipped to the metric's range), and the
    floor."""
    metrics = [m for m in metrics if _ok(m.base) and _ok(m.candidate)]
    if not metrics:
        return None
    fig, axes = _rows_figure(len(metrics), f"{cand} vs {base}: each model's value and its own "
                             "interval (each row its own scale)")
    for ax, m in zip(axes, metrics):
        value_row(ax, m, base, cand)
    _one_legend(fig, axes)
    return _save(fig, path)


def value_row(ax, m, base: str, cand: str) -> None:
    """One metric's row: the two values, each model's own interval under its point."""
    xs = [m.base, m.candidate]
    ax.plot(xs, [0, 0], color="#bbbbbb", zorder=1)
    cis = value_intervals(m)
    for side, y, color, label in (("base", -0.25, BASE_COLOR, base),
                                  ("candidate", -0.45, CAND_COLOR, cand)):
        if cis[side] is not None:
            _, lo, hi = cis[side]
            ax.plot([lo, hi], [y, y], color=color, lw=2, alpha=0.7, gid=f"ci-{side}")
            xs += [lo, hi]
    if _ok(m.base_baseline):
        ax.scatter([m.base_baseline], [0], marker="|", s=250, color=FLOOR_COLOR, zorder=2,
                   label="baseline / floor")
        xs.append(m.base_baseline)
    ax.scatter([m.base], [0], color=BASE_COLOR, label=base, zorder=3)
    ax.scatter([m.candidate], [0], color=CAND_COLOR, label=cand, zorder=3)
    _style_row(ax, m.name, xs)


def plot_differences(metrics, base: str, cand: str, path: Path,
                     confidence_level: float = 0.95) -> Path | None:
    """Each tested metric's paired difference (candidate - base) with its interval, against
    zero and the noise floor where a repeat of the base was given."""
    metrics = [m for m in metrics if m.tested and difference_interval(m) is not None]
    if not metrics:
        return None
    fig, axes = _rows_figure(len(metrics), f"{cand} - {base}: paired difference with its "
                             f"{confidence_level:.0%} interval (each row its own scale)")
    for ax, m in zip(axes, metrics):
        difference_row(ax, m)
    _one_legend(fig, axes)
    return _save(fig, path)


def difference_row(ax, m) -> None:
    d, lo, hi = difference_interval(m)
    xs = [0.0, d, lo, hi]
    ax.axvline(0, color="#999999", lw=1, ls="--", zorder=1)
    color = CAND_COLOR if m.improved else (FLOOR_COLOR if _ok(d) and d != 0 else BASE_COLOR)
    ax.plot([lo, hi], [0, 0], color=color, lw=2.5, gid="ci-difference")
    ax.scatter([d], [0], color=color, zorder=3, label="difference")
    if m.noise is not None and _ok(m.noise.difference):
        ax.scatter([m.noise.difference], [0], marker="x", color=FLOOR_COLOR, zorder=3,
                   label="repeat of the base (noise)")
        xs.append(m.noise.difference)
    p = m.pvalue_holm if m.family == "confirmatory" else m.pvalue
    label = f"{m.name}\np {p:.3g}" if _ok(p) else m.name
    _style_row(ax, label, xs)


def slice_groups(names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """metric -> [(slice, full name)] for metric names that follow a slice pattern."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        m = _SLICE.match(name)
        if m:
            groups.setdefault(m.group("metric"), []).append((m.group("a") or m.group("b"), name))
    return {k: v for k, v in groups.items() if len(v) >= 2}


@dataclass(frozen=True)
class SliceBar:
    """One slice of a metric as drawn: its n, each model's value and interval (None: none
    known), and the floor."""

    slice: str
    n: int | None
    base: tuple[float, float | None, float | None]
    candidate: tuple[float, float | None, float | None]
    floor: float | None = None


def slice_bar(name: str, m) -> SliceBar:
    """A SliceBar from a slice's MetricComparison, intervals clipped to the metric's range."""
    cis = value_intervals(m)
    b = cis["base"] or (m.base, None, None)
    c = cis["candidate"] or (m.candidate, None, None)
    return SliceBar(name, m.n, b, c, m.base_baseline if _ok(m.base_baseline) else None)


def _yerr(values) -> list[list[float]]:
    lows = [v - lo if _ok(lo) else 0.0 for v, lo, _ in values]
    highs = [hi - v if _ok(hi) else 0.0 for v, _, hi in values]
    return [lows, highs]


def plot_slices(metric: str, rows: list[SliceBar], labels: tuple, path: Path) -> Path:
    """Grouped bars per slice, each with its interval, the slice's n under its name, and the
    floor."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(rows) + 2), 3.9))
    xs = list(range(len(rows)))
    for offset, side, color, label in ((-0.2, "base", BASE_COLOR, labels[0]),
                                       (0.2, "candidate", CAND_COLOR, labels[1])):
        values = [getattr(r, side) for r in rows]
        ax.bar([x + offset for x in xs], [v[0] for v in values], 0.4, color=color, label=label,
               yerr=_yerr(values), capsize=3, error_kw={"elinewidth": 1, "gid": f"err-{side}"})
    for x, r in zip(xs, rows):
        if _ok(r.floor):
            ax.hlines(r.floor, x - 0.45, x + 0.45, color=FLOOR_COLOR, lw=1.5)
    ax.set_xticks(xs, [f"{r.slice}\nn={r.n}" if r.n is not None else r.slice for r in rows],
                  rotation=30 if len(rows) > 4 else 0, ha="right" if len(rows) > 4 else "center",
                  fontsize=8)
    floors = any(_ok(r.floor) for r in rows)
    ax.set_title(f"{metric} by slice (bars: 95% interval" + ("; red: baseline)" if floors
                                                               else ")"), fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_distribution(m, labels: tuple, path: Path) -> Path:
    """Histogram of per-item scores of both models, their means and the floor."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    a, b = list(m.distribution.base), list(m.distribution.candidate)
    import numpy as np

    bins = np.histogram_bin_edges(a + b, bins=min(40, max(10, int(math.sqrt(len(a))))))
    ax.hist(a, bins=bins, alpha=0.55, color=BASE_COLOR, label=f"{labels[0]} (mean {m.base:.3f})")
    ax.hist(b, bins=bins, alpha=0.55, color=CAND_COLOR,
            label=f"{labels[1]} (mean {m.candidate:.3f})")
    for v, color in ((m.base, BASE_COLOR), (m.candidate, CAND_COLOR)):
        if _ok(v):
            ax.axvline(v, color=color, ls="--")
    if _ok(m.base_baseline):
        ax.axvline(m.base_baseline, color=FLOOR_COLOR, lw=2,
                   label=f"{m.baseline_name or 'floor'} {m.base_baseline:.3f}")
    ax.set_xlabel(f"per-item {m.name}")
    ax.set_ylabel("items")
    ax.set_title(f"{m.name}: per-item scores against the floor", fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------
# Details: confusion matrices, calibration


def _find(details: dict, words: tuple[str, ...]) -> list[tuple[str, Any]]:
    out = []
    for key, value in (details or {}).items():
        if any(w in str(key).lower() for w in words):
            out.append((str(key), value))
        elif isinstance(value, dict):
            out += [(f"{key}.{k}", v) for k, v in value.items()
                    if any(w in str(k).lower() for w in words)]
    return out


def as_confusion(value: Any) -> tuple[list[str], list[list[float]]] | None:
    """(labels, matrix with rows = true labels) from the accepted shapes, or None."""
    if not isinstance(value, dict):
        return None
    if "labels" in value and "matrix" in value:
        return [str(x) for x in value["labels"]], [list(map(float, r)) for r in value["matrix"]]
    if {"tp", "fn", "fp", "tn"} <= set(value):
        pos = str(value.get("positive", "positive"))
        neg = str(value.get("negative", "negative" if "positive" not in value else f"not {pos}"))
        return ([pos, neg], [[value["tp"], value["fn"]], [value["fp"], value["tn"]]])
    if value and all(isinstance(v, dict) for v in value.values()):
        labels = list(dict.fromkeys([*value, *(p for v in value.values() for p in v)]))
        return ([str(x) for x in labels],
                [[float(value.get(t, {}).get(p, 0)) for p in labels] for t in labels])
    return None


def plot_confusions(panels: list[tuple[str, list[str], list[list[float]]]], title: str,
                    path: Path) -> Path:
    plt = _plt()
    size = max(3.6, 0.75 * max(len(p[1]) for p in panels) + 1.6)
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels) + 0.6, size),
                             squeeze=False)
    for ax, (name, labels, matrix) in zip(axes[0], panels):
        ax.imshow(matrix, cmap="Blues")
        top = max((v for r in matrix for v in r), default=0)
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:g}", ha="center", va="center",
                        color="white" if top and v > top / 2 else "black")
        long = len(labels) > 3 or max(map(len, labels), default=0) > 8
        # long or many category names would overlap side by side: slanted, anchored at the end
        ax.set_xticks(range(len(labels)), labels, fontsize=8, rotation=35 if long else 0,
                      ha="right" if long else "center", rotation_mode="anchor")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(name, fontsize=9)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def as_bins(value: Any) -> tuple[list[dict], float | None] | None:
    """Reliability bins and ECE from the accepted shapes, or None."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("bins"), list):
        return [_asdict(b) for b in value["bins"]], value.get("ece")
    if "probabilities" in value and "outcomes" in value:
        from ..stats import calibration

        res = calibration(value["probabilities"], value["outcomes"])
        return [_asdict(b) for b in res.bins], res.ece
    return None


def _asdict(obj) -> dict:
    import dataclasses

    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else dict(obj)


def plot_reliability(panels: list[tuple[str, list[dict], float | None]], path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    ax.plot([0, 1], [0, 1], ls="--", color="#999999", label="perfectly calibrated")
    for (name, bins, ece), color in zip(panels, (BASE_COLOR, CAND_COLOR, "#27ae60", "#8e44ad")):
        pts = [(b["mean_confidence"], b["accuracy"], b.get("n", 0)) for b in bins
               if b.get("n") and _ok(b.get("mean_confidence")) and _ok(b.get("accuracy"))]
        if not pts:
            continue
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=color,
                label=name + (f" (ECE {ece:.3f})" if _ok(ece) else ""))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("reliability diagram", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


def detail_plots(details: dict[str, dict], out: Path) -> list[Path]:
    """Confusion matrices and reliability diagrams for the models whose details hold them."""
    written = []
    keys = list(dict.fromkeys(k for d in details.values()
                              for k, _ in _find(d, ("confusion",))))
    for key in keys:
        panels = []
        for name, d in details.items():
            hit = dict(_find(d, ("confusion",))).get(key)
            cm = as_confusion(hit)
            if cm is not None:
                panels.append((name, *cm))
        if panels:
            name = slug(key) if "confusion" in key.lower() else f"confusion_{slug(key)}"
            written.append(plot_confusions(panels, f"{key}: rows true, columns predicted",
                                           out / f"{name}_matrix.png"))
    rel = []
    for name, d in details.items():
        for _, value in _find(d, ("calibration", "reliability"))[:1]:
            b = as_bins(value)
            if b is not None:
                rel.append((name, *b))
    if rel:
        written.append(plot_reliability(rel, out / "reliability_diagram.png"))
    return written


def _literal_labels(fn):
    """Labels come from data (slice names, model labels): a '$' in one must be drawn as text,
    not read as TeX (mathtext raises on '$\\x$' and would lose the whole report)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        matplotlib = require("matplotlib", "report")
        with matplotlib.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)
    return wrapper


@_literal_labels
def comparison_plots(c, out: Path) -> list[Path]:
    """Every plot that the comparison has data for; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    labels = (c.base.label, c.candidate.label)
    written = [p for p in [
        plot_metrics(c.metrics, *labels, out / "metric_values_with_intervals.png"),
        plot_differences(c.metrics, *labels, out / "metric_differences_with_intervals.png",
                         c.confidence_level)] if p]
    by_name = {m.name: m for m in c.metrics}
    for metric, members in slice_groups(list(by_name)).items():
        rows = [slice_bar(s, by_name[n]) for s, n in members]
        written.append(plot_slices(metric, rows, labels, out / f"{slug(metric)}_by_slice.png"))
    for m in c.metrics:
        if m.distribution is not None and m.distribution.base:
            written.append(plot_distribution(
                m, labels, out / f"{slug(m.name)}_per_item_distribution.png"))
    details = {f"{labels[0]} (base)": c.details.get("base", {}),
               f"{labels[1]} (candidate)": c.details.get("candidate", {})}
    return written + detail_plots(details, out)


@_literal_labels
def run_plots(s, out: Path) -> list[Path]:
    """Plots for a single run: per-slice bars (first two models) and the details' plots."""
    out.mkdir(parents=True, exist_ok=True)
    written = detail_plots(s.details, out)
    rows_by_name = {r.name: r for r in s.rows}
    for metric, members in slice_groups(list(rows_by_name)).items():
        models = list(s.models)[:2] * (2 if len(s.models) == 1 else 1)
        rows = [_run_slice_bar(sl, rows_by_name[n], models) for sl, n in members]
        written.append(plot_slices(metric, rows, tuple(models[:2]),
                                   out / f"{slug(metric)}_by_slice.png"))
    return written


def _run_slice_bar(name: str, row, models: list[str]) -> SliceBar:
    def side(label):
        return (row.values.get(label, math.nan), row.low.get(label), row.high.get(label))

    ns = [row.n.get(label) for label in models if row.n.get(label) is not None]
    return SliceBar(name, max(ns) if ns else None, side(models[0]), side(models[1]),
                    next(iter(row.baselines.values()), None))
