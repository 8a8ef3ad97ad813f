"""The noise floor: how far a repeat run of the base model moves on each metric by chance."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

from ..errors import AssayError
from ..metrics import Metric
from ..records import by_item
from .result import MetricComparison, NoiseDetail


def _shared_items(base_records: list[dict], repeat_records: list[dict]):
    """The base's and the repeat's records of each item both answered, in one order."""
    b, r = by_item(base_records), by_item(repeat_records)
    shared = [i for i in b if i in r]
    return [b[i] for i in shared], [r[i] for i in shared]


def noise_detail(metric: Metric, base_items, repeat_items, difference: float
                 ) -> NoiseDetail | None:
    """Compare the base with a repeat run of itself on their shared items (grouped by item)."""
    if not base_items:
        return None
    B, R = metric.matrix(base_items), metric.matrix(repeat_items)
    repeat_value = float(metric.of_sums(R.sum(axis=0)))
    # the move of the quantity the comparison's difference is of (|value| for a magnitude)
    diff = float(metric.tested_of_sums(R.sum(axis=0)) - metric.tested_of_sums(B.sum(axis=0)))
    flip = lo = hi = None
    if metric.kind == "rate":
        from ..stats import noise_floor

        both = (B[:, 0] > 0) & (R[:, 0] > 0)
        if both.any():
            res = noise_floor(B[both, 1] > 0.5, R[both, 1] > 0.5)
            flip, lo, hi, diff = res.flip_rate, res.ci_low, res.ci_high, res.difference
    finite = math.isfinite(difference) and math.isfinite(diff)
    within = finite and abs(difference) <= abs(diff)
    if lo is not None and math.isfinite(difference):
        within = within or lo <= difference <= hi
    return NoiseDetail(repeat_value, diff, len(base_items), flip, lo, hi, bool(within))


def check_fresh(repeat: list[dict], path: str) -> list[str]:
    """Refuse a repeat run with an item whose every completion came from the cache: a cached
    repeat repeats nothing, so it would report any change as "within noise" of 0. Records
    from an older assay (no ``cached`` field) pass with a warning."""
    items = by_item(repeat)
    if any("cached" not in r for r in repeat):
        return [f"the noise run {path} does not record which answers came from the cache (an "
                "older assay): its noise floor may be a replay of the cache"]
    stale = [i for i, rs in items.items() if all(r.get("cached") for r in rs)]
    if stale:
        raise AssayError(f"the noise run {path} has {len(stale)} of {len(items)} items answered "
                         f"only from the cache (e.g. item {stale[0]}): it repeats nothing. Fix: "
                         "rerun the base with `assay eval ... --no-cache` into a new --out and "
                         "pass that as --noise")
    return []


def with_noise(metrics: Sequence[MetricComparison], defs: dict[str, Metric],
               base_records: list[dict], repeat: list[dict]) -> list[MetricComparison]:
    base_items, repeat_items = _shared_items(base_records, repeat)  # grouped once, not per metric
    return [replace(m, noise=noise_detail(defs[m.name], base_items, repeat_items, m.difference))
            for m in metrics]


def noise_warnings(metrics: Sequence[MetricComparison]) -> list[str]:
    return [f"{m.name}: the change ({m.difference:+.3g}) is within the noise floor (a repeat "
            f"run of the base moved {m.noise.difference:+.3g})" for m in metrics
            if m.noise is not None and m.noise.within_noise and m.difference]
