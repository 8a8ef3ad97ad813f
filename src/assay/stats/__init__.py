"""Pure statistical functions for paired, pre-registered model comparison.

Every function checks its input once (ValueError naming the argument and value), takes randomness
only from a `seed` argument, and returns a frozen result object with named fields. scipy is imported
lazily and only where no closed form or exact integer computation serves, so importing this package
costs numpy and little else (the compare command must stay fast).
"""

from assay.stats.agreement import KappaResult, cohen_kappa, kappa_bootstrap
from assay.stats.classification import (Baseline, BinaryMetrics, always_positive_baseline,
                                        binary_metrics, macro_f1, majority_baseline)
from assay.stats.intervals import Interval, wilson_interval
from assay.stats.paired import (McNemarResult, NoiseFloorResult, mcnemar,
                                min_detectable_difference, noise_floor)

__all__ = [
    "Baseline", "BinaryMetrics", "Interval", "KappaResult", "McNemarResult", "NoiseFloorResult",
    "always_positive_baseline", "binary_metrics", "cohen_kappa", "kappa_bootstrap", "macro_f1",
    "majority_baseline", "mcnemar", "min_detectable_difference", "noise_floor", "wilson_interval",
]
