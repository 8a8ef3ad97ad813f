"""PNG plots where a picture says it better than the table: each metric with its CI against its
floor, per-slice bars, score distributions against the floor, confusion matrices and reliability
diagrams. matplotlib is imported lazily with the Agg backend (no display needed).

What a task's ``details`` may hold for the plots (searched one level deep, by key name):
- a key containing ``confusion``: ``{"labels": [...], "matrix": [[...]]}`` (rows = true label),
  or ``{true: {predicted: count}}``, or ``{"tp", "fn", "fp", "tn"}``;
- a key containing ``calibration`` or ``reliability``: ``{"bins": [{"low", "high", "n",
  "mean_confidence", "accuracy"}], "ece": x}`` or ``{"probabilities": [...], "outcomes": [...]}``.
Slice metrics are recognised by their names: ``kappa[in_dist]``, ``kappa/in_dist``,
``kappa@in_dist`` or ``kappa:in_dist``.
"""

from __future__ import annotations

import functools
import math
import re
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


def plot_metrics(metrics, base: str, cand: str, path: Path) -> Path | None:
    """Each metric on its own row and scale (a kappa and a length in words do not share an
    axis): base and candidate, the candidate's CI (base + the difference's CI), the floor."""
    metrics = [m for m in metrics if _ok(m.base) and _ok(m.candidate)]
    if not metrics:
        return None
    plt = _plt()
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7.5, 0.62 * len(metrics) + 1.0),
                             squeeze=False)
    for ax, m in zip(axes[:, 0], metrics):
        _metric_row(ax, m, base, cand)
    handles = {}  # one legend for all rows: base, candidate, and the floor where any row has one
    for ax in axes[:, 0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    axes[0, 0].legend(handles.values(), handles.keys(), fontsize=7, loc="lower right",
                      bbox_to_anchor=(1.0, 1.02), ncol=3, frameon=False)
    fig.suptitle(f"{cand} vs {base} (line under: candidate's CI; each row its own scale)",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _metric_row(ax, m, base: str, cand: str) -> None:
    xs = [m.base, m.candidate]
    ax.plot(xs, [0, 0], color="#bbbbbb", zorder=1)
    if _ok(m.ci_low) and _ok(m.ci_high):
        ci = [m.base + m.ci_low, m.base + m.ci_high]
        ax.plot(ci, [-0.35] * 2, color=CAND_COLOR, lw=2, alpha=0.6)
        xs += ci
    if _ok(m.base_baseline):
        ax.scatter([m.base_baseline], [0], marker="|", s=250, color=FLOOR_COLOR, zorder=2,
                   label="baseline / floor")
        xs.append(m.base_baseline)
    ax.scatter([m.base], [0], color=BASE_COLOR, label=base, zorder=3)
    ax.scatter([m.candidate], [0], color=CAND_COLOR, label=cand, zorder=3)
    low, high = min(xs), max(xs)
    pad = (high - low) * 0.15 or max(abs(high) * 0.1, 0.05)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(-0.8, 0.6)
    ax.set_yticks([0], [f"{m.name}\np {m.pvalue_holm:.3g}" if _ok(m.pvalue_holm) else m.name],
                  fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def slice_groups(names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """metric -> [(slice, full name)] for metric names that follow a slice pattern."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        m = _SLICE.match(name)
        if m:
            groups.setdefault(m.group("metric"), []).append((m.group("a") or m.group("b"), name))
    return {k: v for k, v in groups.items() if len(v) >= 2}


def plot_slices(metric: str, rows: list[tuple[str, float, float, float | None]], labels: tuple,
                path: Path) -> Path:
    """Grouped bars per slice: (slice, base, candidate, floor)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(rows) + 2), 3.6))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r[1] for r in rows], 0.4, color=BASE_COLOR, label=labels[0])
    ax.bar([x + 0.2 for x in xs], [r[2] for r in rows], 0.4, color=CAND_COLOR, label=labels[1])
    for x, r in zip(xs, rows):
        if _ok(r[3]):
            ax.hlines(r[3], x - 0.45, x + 0.45, color=FLOOR_COLOR, lw=1.5)
    ax.set_xticks(list(xs), [r[0] for r in rows], rotation=30, ha="right", fontsize=8)
    floors = any(_ok(r[3]) for r in rows)
    ax.set_title(f"{metric} by slice" + (" (red: baseline)" if floors else ""), fontsize=10)
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
        return (["positive", "negative"],
                [[value["tp"], value["fn"]], [value["fp"], value["tn"]]])
    if value and all(isinstance(v, dict) for v in value.values()):
        labels = list(dict.fromkeys([*value, *(p for v in value.values() for p in v)]))
        return ([str(x) for x in labels],
                [[float(value.get(t, {}).get(p, 0)) for p in labels] for t in labels])
    return None


def plot_confusions(panels: list[tuple[str, list[str], list[list[float]]]], title: str,
                    path: Path) -> Path:
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels) + 0.6, 3.6),
                             squeeze=False)
    for ax, (name, labels, matrix) in zip(axes[0], panels):
        ax.imshow(matrix, cmap="Blues")
        top = max((v for r in matrix for v in r), default=0)
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:g}", ha="center", va="center",
                        color="white" if top and v > top / 2 else "black")
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
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
            written.append(plot_confusions(panels, key, out / f"confusion_{slug(key)}.png"))
    rel = []
    for name, d in details.items():
        for _, value in _find(d, ("calibration", "reliability"))[:1]:
            b = as_bins(value)
            if b is not None:
                rel.append((name, *b))
    if rel:
        written.append(plot_reliability(rel, out / "reliability.png"))
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
    written = [p for p in [plot_metrics(c.metrics, *labels, out / "metrics.png")] if p]
    by_name = {m.name: m for m in c.metrics}
    for metric, members in slice_groups(list(by_name)).items():
        rows = [(s, by_name[n].base, by_name[n].candidate, by_name[n].base_baseline)
                for s, n in members]
        written.append(plot_slices(metric, rows, labels, out / f"slices_{slug(metric)}.png"))
    for m in c.metrics:
        if m.distribution is not None and m.distribution.base:
            written.append(plot_distribution(m, labels, out / f"distribution_{slug(m.name)}.png"))
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
        rows = [(sl, rows_by_name[n].values.get(models[0], math.nan),
                 rows_by_name[n].values.get(models[1], math.nan),
                 next(iter(rows_by_name[n].baselines.values()), None)) for sl, n in members]
        written.append(plot_slices(metric, rows, tuple(models[:2]),
                                   out / f"slices_{slug(metric)}.png"))
    return written
