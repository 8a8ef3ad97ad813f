"""Bootstrap index generation shared by the bootstrap statistics.

Resample r draws its n indices as row r of rng.integers(0, n, size=(rows, n), dtype=int64), taken
in chunks of rows (about 2 MB of indices, which stays in cache) so memory stays bounded. int64
indices let numpy gather without a conversion pass; measured here, this beat int32 indices and a
hand-rolled raw-bits multiply-shift generator. The same seed always gives the same resamples, and base
and candidate are always indexed by the same rows (paired).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from assay.stats._checks import as_sequence, shown

_CHUNK_ELEMENTS = 1 << 18


def chunk_rows(n: int) -> int:
    """Resamples per chunk for n items."""
    return max(1, _CHUNK_ELEMENTS // max(n, 1))


def index_chunks(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Yield int64 index matrices of shape (rows, n) whose rows total n_resamples."""
    rows = chunk_rows(n)
    for start in range(0, n_resamples, rows):
        yield rng.integers(0, n, size=(min(rows, n_resamples - start), n), dtype=np.int64)


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile bootstrap interval (numpy's default linear interpolation); nan when empty."""
    if len(values) == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def cluster_units(groups: Sequence | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For cluster resampling: (item order sorted by cluster, cluster starts, cluster sizes), with
    clusters numbered in order of first appearance."""
    if groups is None:
        return None
    as_sequence("groups", groups)
    if len(groups) != n:
        raise ValueError(f"groups must have one label per item ({n}), got {len(groups)}")
    index: dict = {}
    try:
        inverse = np.fromiter((index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=n)
    except TypeError:
        raise ValueError(f"groups must hold hashable labels (str, int), got {shown(groups)}") from None
    order = np.argsort(inverse, kind="stable")
    sizes = np.bincount(inverse)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return order, starts, sizes


# Sign-flip / swap vectors are drawn this many bits per chunk (1 Mbit = 128 KB of random bytes).
SWAP_CHUNK_BITS = 1 << 20


def swap_chunks(rng: np.random.Generator, units: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Yield float64 0/1 matrices (rows, units) whose rows total n_resamples: random swap (or
    sign-flip) vectors, one random bit each (rng.bytes unpacked), not one float draw: 8x fewer
    random bytes. The permutation test and the paired randomization test draw the same bits from
    the same seed, so on a mean they agree exactly, Monte Carlo included."""
    rows = max(1, SWAP_CHUNK_BITS // units)
    for start in range(0, n_resamples, rows):
        r = min(rows, n_resamples - start)
        raw = np.frombuffer(rng.bytes((r * units + 7) // 8), dtype=np.uint8)
        yield np.unpackbits(raw, count=r * units).reshape(r, units).astype(np.float64)


def all_swaps(units: int, rows: int = 1 << 16) -> Iterator[np.ndarray]:
    """Yield every one of the 2^units 0/1 vectors (row i = the bits of i), in chunks of rows."""
    shifts = np.arange(units, dtype=np.int64)
    for start in range(0, 1 << units, rows):
        idx = np.arange(start, min(start + rows, 1 << units), dtype=np.int64)
        yield ((idx[:, None] >> shifts) & 1).astype(np.float64)
