"""Agreement among several raters (LLM judges) over items: Fleiss' kappa and Krippendorff's
alpha (nominal and ordinal), each from per-item sufficient statistics so that the bootstrap over
items is one matrix product per chunk of resamples.

Fleiss (1971) needs every item rated by the same number of raters; Krippendorff's alpha takes
missing ratings (None) and any number of raters per item, and with ``level="ordinal"`` weighs a
disagreement by how many ratings lie between the two values (loss < tie < win).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assay.stats._checks import confidence, count, label_list, rng_from, shown
from assay.stats._resample import percentile_interval

LEVELS = ("nominal", "ordinal")


@dataclass(frozen=True, slots=True)
class AgreementResult:
    """A multi-rater agreement statistic with a percentile bootstrap interval over items.

    n_items: items that count (Fleiss: all; alpha: items with at least two ratings)."""

    statistic: str
    value: float
    ci_low: float
    ci_high: float
    n_items: int
    n_resamples: int
    confidence_level: float


def _ratings(ratings, labels) -> tuple[np.ndarray, list]:
    """raters x items codes (-1 = missing) over the declared labels."""
    labels = label_list(labels)
    index = {lab: i for i, lab in enumerate(labels)}
    rows = [list(r) for r in ratings]
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError("ratings must be a non-empty list of raters, each a list of one rating "
                         f"per item of the same length, got lengths {[len(r) for r in rows]}")
    out = np.full((len(rows), len(rows[0])), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:
                continue
            if v not in index:
                raise ValueError(f"ratings[{i}][{j}] is {shown(v)}, not one of labels "
                                 f"{labels} (use None for a missing rating)")
            out[i, j] = index[v]
    return out, labels


def category_counts(ratings, labels) -> np.ndarray:
    """items x labels: how many raters gave each label to each item (Fleiss's table)."""
    codes, labels = _ratings(ratings, labels)
    k = len(labels)
    table = np.zeros((codes.shape[1], k), dtype=np.int64)
    for row in codes:
        ok = row >= 0
        np.add.at(table, (np.nonzero(ok)[0], row[ok]), 1)
    return table


def fleiss_from_table(table) -> float:
    """Fleiss' kappa from an items x categories table of rating counts (equal raters per item)."""
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] < 1:
        raise ValueError(f"table must be items x categories, got shape {t.shape}")
    m = t.sum(axis=1)
    if np.any(m != m[0]) or m[0] < 2:
        raise ValueError("every item needs the same number (>= 2) of ratings for Fleiss' kappa, "
                         f"got {sorted(set(m.astype(int).tolist()))}")
    return float(_fleiss_from_sums(_fleiss_stats(t).sum(axis=0)[None, :], t.shape[1])[0])


def _fleiss_stats(t: np.ndarray) -> np.ndarray:
    """Per item: (1, m, sum_j n_ij (n_ij - 1), n_i1 .. n_ik)."""
    m = t.sum(axis=1)
    return np.c_[np.ones(len(t)), m, (t * (t - 1)).sum(axis=1), t]


def _fleiss_from_sums(s: np.ndarray, k: int) -> np.ndarray:
    n_items, total, agree, cats = s[:, 0], s[:, 1], s[:, 2], s[:, 3:3 + k]
    m = total / n_items
    p_bar = agree / (n_items * m * (m - 1))
    p_j = cats / total[:, None]
    p_e = (p_j ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p_e < 1, (p_bar - p_e) / (1 - p_e), np.nan)


def _coincidences(codes: np.ndarray, k: int) -> np.ndarray:
    """Per item, the flattened k x k coincidence contributions (Krippendorff 2011): each
    ordered pair of ratings of an item with m ratings adds 1 / (m - 1)."""
    out = np.zeros((codes.shape[1], k * k))
    for j in range(codes.shape[1]):
        vals = codes[:, j][codes[:, j] >= 0]
        m = len(vals)
        if m < 2:
            continue
        counts = np.bincount(vals, minlength=k).astype(np.float64)
        pairs = np.outer(counts, counts) - np.diag(counts)
        out[j] = (pairs / (m - 1)).ravel()
    return out


def _delta(n_c: np.ndarray, level: str) -> np.ndarray:
    """Squared distances between labels: nominal 0/1; ordinal from the marginals n_c."""
    k = n_c.shape[-1]
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(k), (*n_c.shape[:-1], k, k))
    cum = np.cumsum(n_c, axis=-1)
    lo, hi = np.minimum.outer(np.arange(k), np.arange(k)), np.maximum.outer(np.arange(k),
                                                                             np.arange(k))
    between = (np.take(cum, hi, axis=-1) - np.take(cum, lo, axis=-1)
               + np.take(n_c, lo, axis=-1))  # sum of n_g for g from lo to hi
    mid = (n_c[..., :, None] + n_c[..., None, :]) / 2.0
    return (between - mid) ** 2


def _alpha_from_sums(o_flat: np.ndarray, k: int, level: str) -> np.ndarray:
    o = o_flat.reshape(-1, k, k)
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    d = _delta(n_c, level)
    observed = (o * d).sum(axis=(1, 2))
    expected = (n_c[:, :, None] * n_c[:, None, :] * d).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1) * observed / expected, np.nan)


def krippendorff_alpha(ratings, *, labels, level: str = "nominal") -> float:
    """Krippendorff's alpha of raters x items ratings (None = missing) over the ordered
    ``labels``; level "nominal" or "ordinal". nan when there is no disagreement to expect."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {shown(level)}")
    codes, labels = _ratings(ratings, labels)
    o = _coincidences(codes, len(labels)).sum(axis=0)
    return float(_alpha_from_sums(o[None, :], len(labels), level)[0])


def fleiss_kappa(ratings, *, labels) -> float:
    """Fleiss' kappa of raters x items ratings (no missing ratings) over the labels."""
    codes, labels = _ratings(ratings, labels)
    if np.any(codes < 0):
        raise ValueError("fleiss_kappa needs every rater to rate every item (None found); "
                         "drop those items or use krippendorff_alpha")
    return fleiss_from_table(category_counts(ratings, labels))


def agreement_bootstrap(ratings, *, labels, n_resamples: int = 2000,
                        confidence_level: float = 0.95, seed: int = 0
                        ) -> dict[str, AgreementResult]:
    """Fleiss' kappa (over the items every rater rated) and Krippendorff's alpha nominal and
    ordinal (over all items), each with a percentile bootstrap interval over items."""
    codes, labels = _ratings(ratings, labels)
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    k = len(labels)
    rng = rng_from(seed)
    full = np.all(codes >= 0, axis=0)
    table = category_counts([[labels[c] if c >= 0 else None for c in row]
                             for row in codes[:, full]], labels)
    out = {}
    stats = {"fleiss_kappa": (_fleiss_stats(table.astype(np.float64)),
                              lambda s: _fleiss_from_sums(s, k))}
    coinc = _coincidences(codes, k)
    rated = coinc.sum(axis=1) > 0
    for lev in LEVELS:
        stats[f"krippendorff_alpha_{lev}"] = (coinc[rated],
                                              lambda s, lev=lev: _alpha_from_sums(s, k, lev))
    for name, (per_item, reduce) in stats.items():
        out[name] = _boot(name, per_item, reduce, n_resamples, level, rng)
    return out


def _boot(name, per_item, reduce, n_resamples, level, rng) -> AgreementResult:
    n = len(per_item)
    if n == 0:
        return AgreementResult(name, float("nan"), float("nan"), float("nan"), 0, 0, level)
    value = float(reduce(per_item.sum(axis=0)[None, :])[0])
    draws = []
    for start in range(0, n_resamples, 500):
        size = min(500, n_resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        weights = np.zeros((size, n))
        np.add.at(weights, (np.repeat(np.arange(size), n), idx.ravel()), 1.0)
        draws.append(reduce(weights @ per_item))
    vals = np.concatenate(draws)
    low, high = percentile_interval(vals[~np.isnan(vals)], level)
    return AgreementResult(name, value, low, high, n, n_resamples, level)
