"""Pure statistical functions for paired, pre-registered model comparison.

Every function checks its input once (ValueError naming the argument and value), takes randomness
only from a `seed` argument, and returns a frozen result object with named fields. scipy is imported
lazily and only where no closed form or exact integer computation serves, so importing this package
costs numpy and little else (the compare command must stay fast).
"""

from assay.stats.agreement import KappaResult, cohen_kappa, kappa_bootstrap, kappa_from_confusion
from assay.stats.bootstrap import BootstrapResult, paired_bootstrap, sums_bootstrap
from assay.stats.calibration import CalibrationResult, ReliabilityBin, calibration
from assay.stats.classification import (Baseline, BinaryMetrics, always_positive_baseline,
                                        binary_metrics, macro_f1, macro_f1_from_confusion,
                                        majority_baseline)
from assay.stats.floors import shuffle_floor
from assay.stats.intervals import Interval, wilson_interval
from assay.stats.multiple import holm
from assay.stats.paired import (McNemarResult, NoiseFloorResult, mcnemar,
                                min_detectable_difference, noise_floor)
from assay.stats.permutation import PermutationResult, permutation_test

__all__ = [
    "Baseline", "BinaryMetrics", "BootstrapResult", "CalibrationResult", "Interval", "KappaResult",
    "McNemarResult", "NoiseFloorResult", "PermutationResult", "ReliabilityBin",
    "always_positive_baseline", "binary_metrics", "calibration", "cohen_kappa", "holm",
    "kappa_bootstrap", "kappa_from_confusion", "macro_f1", "macro_f1_from_confusion", "majority_baseline", "mcnemar", "min_detectable_difference",
    "noise_floor", "paired_bootstrap", "permutation_test", "sums_bootstrap", "shuffle_floor", "wilson_interval",
]
