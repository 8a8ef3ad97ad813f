"""Pairwise preference statistics: a win rate with ties as half and its bootstrap interval over
items, AlpacaEval 2's length-controlled win rate, and Bradley-Terry strengths.

Outcomes are the candidate's, per item: 1 win, 0.5 tie, 0 loss (a pair whose two orders
disagree is a tie, as in MT-Bench). An item judged by several judges has the mean of their
outcomes, so the bootstrap resamples items, never single judgments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assay.stats._checks import as_floats, confidence, count, rng_from, same_length, shown
from assay.stats._resample import index_chunks, percentile_interval


@dataclass(frozen=True, slots=True)
class WinRateResult:
    """Win rate (ties as half) with a percentile bootstrap interval over items."""

    win_rate: float
    ci_low: float
    ci_high: float
    n: int
    n_resamples: int
    confidence_level: float


@dataclass(frozen=True, slots=True)
class LCWinRateResult:
    """AlpacaEval 2's length-controlled win rate: the GLM
    ``logit P(win) = intercept + length_coef * tanh(d / sd(d))`` (d = candidate length minus
    reference length) fitted by maximum likelihood to the soft outcomes, then predicted at
    d = 0, i.e. ``sigmoid(intercept)``. length_correlation: Pearson r of outcome and d."""

    lc_win_rate: float
    win_rate: float
    intercept: float
    length_coef: float
    length_scale: float
    length_correlation: float
    n: int
    converged: bool


@dataclass(frozen=True, slots=True)
class BradleyTerryResult:
    """Bradley-Terry log-strengths (the first model anchored at 0), ties as half a win each
    way, with percentile bootstrap intervals over items."""

    models: tuple[str, ...]
    strengths: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    n_items: int
    n_resamples: int
    confidence_level: float


def _outcomes(name: str, values) -> np.ndarray:
    v = as_floats(name, values)
    if len(v) == 0 or np.any((v < 0) | (v > 1)):
        raise ValueError(f"{name} must be a non-empty sequence of outcomes in [0, 1] "
                         f"(1 win, 0.5 tie, 0 loss), got {shown(values)}")
    return v


def win_rate(outcomes, *, n_resamples: int = 2000, confidence_level: float = 0.95,
             seed: int = 0) -> WinRateResult:
    """The mean outcome (ties as half) and its percentile bootstrap interval over items."""
    v = _outcomes("outcomes", outcomes)
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    draws = np.concatenate([v[idx].mean(axis=1)
                            for idx in index_chunks(rng_from(seed), len(v), n_resamples)])
    low, high = percentile_interval(draws, level)
    return WinRateResult(float(v.mean()), low, high, len(v), n_resamples, level)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def fit_soft_logistic(X: np.ndarray, y: np.ndarray, *, max_iter: int = 100,
                      tol: float = 1e-10) -> tuple[np.ndarray, bool]:
    """Maximum-likelihood logistic regression on soft targets y in [0, 1] (Newton / IRLS):
    the coefficients and whether it converged (it does not when the data separate)."""
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        p = _sigmoid(X @ beta)
        w = np.clip(p * (1 - p), 1e-12, None)
        step = np.linalg.lstsq((X * w[:, None]).T @ X, X.T @ (y - p), rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            return beta, bool(np.all(np.isfinite(beta)) and np.max(np.abs(beta)) < 30)
    return beta, False


def lc_win_rate(outcomes, candidate_lengths, reference_lengths) -> LCWinRateResult:
    """AlpacaEval 2's length-controlled win rate for one candidate against one reference (the
    per-instruction difficulty term needs many models and is left out)."""
    y = _outcomes("outcomes", outcomes)
    lc, lr = as_floats("candidate_lengths", candidate_lengths), as_floats("reference_lengths",
                                                                          reference_lengths)
    same_length("outcomes", y, "candidate_lengths", lc)
    same_length("outcomes", y, "reference_lengths", lr)
    d = lc - lr
    scale = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    x = np.tanh(d / scale) if scale > 0 else np.zeros_like(d)
    X = np.c_[np.ones_like(x), x] if scale > 0 else np.ones((len(y), 1))
    beta, ok = fit_soft_logistic(X, y)
    coef = float(beta[1]) if scale > 0 else 0.0
    corr = float(np.corrcoef(y, d)[0, 1]) if scale > 0 and y.std() > 0 else math.nan
    return LCWinRateResult(float(_sigmoid(beta[0])), float(y.mean()), float(beta[0]), coef,
                           scale, corr, len(y), ok)


def _bt_fit(wins: np.ndarray, games: np.ndarray, max_iter: int = 2000,
            tol: float = 1e-10) -> np.ndarray:
    """Hunter's (2004) MM iterations for BT strengths p (sum 1); wins[i] = sum over j of i's
    (fractional) wins, games[i, j] = comparisons of i and j. Returns log p - log p[0]."""
    k = len(wins)
    p = np.full(k, 1.0 / k)
    for _ in range(max_iter):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, wins / np.where(denom > 0, denom, 1), p)
        new = np.clip(new, 1e-300, None)
        new /= new.sum()
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    return np.log(p) - np.log(p[0])


def bradley_terry(comparisons: Sequence[tuple[str, str, str, float]], models: Sequence[str], *,
                  n_resamples: int = 1000, confidence_level: float = 0.95,
                  seed: int = 0) -> BradleyTerryResult:
    """Bradley-Terry strengths from (item, model_a, model_b, outcome of a) comparisons (outcome
    1 a wins, 0.5 tie, 0 b wins); the bootstrap resamples items with all their comparisons."""
    models = tuple(models)
    index = {m: i for i, m in enumerate(models)}
    level = confidence(confidence_level)
    n_resamples = count("n_resamples", n_resamples)
    items = sorted({c[0] for c in comparisons}, key=str)
    if len(models) < 2 or not items:
        raise ValueError(f"bradley_terry needs >= 2 models and comparisons, got models "
                         f"{shown(models)} and {len(comparisons)} comparisons")
    k, item_index = len(models), {it: i for i, it in enumerate(items)}
    per_item = np.zeros((len(items), k + k * k))  # wins, then the games matrix, per item
    for item, a, b, out in comparisons:
        if a not in index or b not in index or not 0 <= out <= 1:
            raise ValueError(f"comparison {shown((item, a, b, out))}: models must be among "
                             f"{models} and the outcome in [0, 1]")
        row, ia, ib = per_item[item_index[item]], index[a], index[b]
        row[ia] += out
        row[ib] += 1 - out
        row[k + ia * k + ib] += 1
        row[k + ib * k + ia] += 1

    def fit(s):
        return _bt_fit(s[:k], s[k:].reshape(k, k))
    point = fit(per_item.sum(axis=0))
    draws = []
    for idx in index_chunks(rng_from(seed), len(items), n_resamples):
        draws += [fit(per_item[row].sum(axis=0)) for row in idx]
    draws = np.array(draws)
    bounds = [percentile_interval(draws[:, j], level) for j in range(k)]
    return BradleyTerryResult(models, tuple(map(float, point)), tuple(b[0] for b in bounds),
                              tuple(b[1] for b in bounds), len(items), n_resamples, level)
