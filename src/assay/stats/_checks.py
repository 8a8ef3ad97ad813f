"""Input checks shared by the statistics: each raises ValueError naming the argument and its value.

Inputs are checked once, at the public function's boundary; the private helpers after that trust them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np


def shown(value: object, limit: int = 80) -> str:
    """A short repr for error messages (long sequences are cut)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def as_sequence(name: str, values: object) -> Sequence:
    """A non-empty sized sequence (list, tuple, array); sets, dicts and scalars are rejected."""
    if isinstance(values, (str, bytes, set, frozenset, dict)) or not hasattr(values, "__len__"):
        raise ValueError(f"{name} must be a sequence (list, tuple or array), got {shown(values)}")
    if len(values) == 0:
        raise ValueError(f"{name} is empty; need at least one item")
    return values


def as_bools(name: str, values: object) -> np.ndarray:
    """A non-empty 1-d bool array from True/False (or 0/1) values; anything else names its index."""
    as_sequence(name, values)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "iuf":
        bad = np.flatnonzero((arr != 0) & (arr != 1))
    else:
        bad = [i for i, v in enumerate(values) if not (isinstance(v, (bool, np.bool_)) or v in (0, 1))]
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] must be True/False (item passed or not), got {shown(values[i])}")
    return arr.astype(bool)


def as_floats(name: str, values: object) -> np.ndarray:
    """A non-empty 1-d float64 array of finite numbers."""
    as_sequence(name, values)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers, got {shown(values)}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] must be a finite number, got {shown(values[i])}")
    return arr


def same_length(name_a: str, a: Sequence, name_b: str, b: Sequence) -> None:
    """Paired inputs must line up item by item."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length (paired items), "
                         f"got {len(a)} and {len(b)}")


def confidence(confidence_level: float) -> float:
    """A confidence level strictly between 0 and 1."""
    if not isinstance(confidence_level, (int, float)) or not 0 < confidence_level < 1:
        raise ValueError("confidence_level must be between 0 and 1 (e.g. 0.95), "
                         f"got {shown(confidence_level)}")
    return float(confidence_level)


def probability(name: str, value: float) -> float:
    """A probability strictly between 0 and 1 (alpha, power)."""
    if not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{name} must be between 0 and 1, got {shown(value)}")
    return float(value)


def count(name: str, value: object, minimum: int = 1) -> int:
    """An integer >= minimum (n_resamples, n, n_bins)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {shown(value)}")
    return int(value)


def rng_from(seed: object) -> np.random.Generator:
    """The only source of randomness: np.random.default_rng(seed) for an integer seed >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0 (results are reproducible from it), "
                         f"got {shown(seed)}")
    return np.random.default_rng(int(seed))


def label_list(labels: object) -> list:
    """The declared label set: a non-empty sequence of distinct hashable labels."""
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        raise ValueError(f"labels must be a sequence of distinct labels, got {shown(labels)}")
    out = list(labels)
    if not out:
        raise ValueError("labels is empty; declare the full label set, e.g. labels=['A', 'B', 'TIE']")
    if len(set(out)) != len(out):
        raise ValueError(f"labels must be distinct, got {shown(out)}")
    return out


def codes(name: str, values: Sequence, index: dict, *, outside: int | None = None) -> np.ndarray:
    """Integer codes of values under index (label -> code); values outside the labels get `outside`,
    or raise when outside is None. (map over dict.get runs at C speed: this is the hot loop of a
    macro-F1 or kappa bootstrap.)"""
    default = -1 if outside is None else outside
    try:
        out = np.fromiter(map(index.get, values, repeat(default)), dtype=np.int64, count=len(values))
    except TypeError:  # an unhashable value (e.g. a list) is outside any label set
        out = np.fromiter((index.get(v, default) if _hashable(v) else default for v in values),
                          dtype=np.int64, count=len(values))
    if outside is None and len(out) and out.min() < 0:
        i = int(np.argmin(out))
        raise ValueError(f"{name}[{i}] = {shown(values[i])} is not one of labels {shown(list(index))}; "
                         "add it to labels or drop the item")
    return out


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


