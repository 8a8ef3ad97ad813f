"""Pure statistical functions for paired, pre-registered model comparison.

Every function checks its input once (ValueError naming the argument and value), takes randomness
only from a `seed` argument, and returns a frozen result object with named fields. scipy is imported
lazily and only where no closed form or exact integer computation serves, so importing this package
costs numpy and little else (the compare command must stay fast).

Which function answers what:
- pass/fail metric: mcnemar (exact p, mid-p, Newcombe method-10 interval); mcnemar_pvalue for a
  one-sided exact test; mcnemar_power / min_detectable_difference / detectability before the run.
- any other metric from per-item sums (mean, F1, kappa, a ratio): paired_randomization for the
  p-value, sums_bootstrap (BCa where stable) for the interval. paired_bootstrap's pvalue and
  sums_bootstrap's pvalue are kept for compatibility only: they are not valid tests at small n.
- several metrics: holm on their p-values.
"""

from assay.stats.agreement import KappaResult, cohen_kappa, kappa_bootstrap, kappa_from_confusion
from assay.stats.bootstrap import (BootstrapResult, bca_interval, paired_bootstrap, sums_bootstrap,
                                   sums_value_interval)
from assay.stats.calibration import CalibrationResult, ReliabilityBin, calibration
from assay.stats.classification import (Baseline, BinaryMetrics, always_positive_baseline,
                                        binary_metrics, macro_f1, macro_f1_from_confusion,
                                        majority_baseline)
from assay.stats.floors import shuffle_floor
from assay.stats.intervals import Interval, tost, wilson_interval
from assay.stats.multiple import holm
from assay.stats.paired import (McNemarResult, NoiseFloorResult, mcnemar, mcnemar_midp,
                                mcnemar_pvalue, newcombe_interval, noise_floor)
from assay.stats.permutation import PermutationResult, permutation_test
from assay.stats.power import (Detectability, detectability, mcnemar_power, mdd_from_standard_error,
                               min_detectable_difference)
from assay.stats.pairwise import (BradleyTerryResult, LCWinRateResult, WinRateResult,
                                  bradley_terry, lc_win_rate, win_rate)
from assay.stats.randomization import RandomizationResult, paired_randomization
from assay.stats.raters import (AgreementResult, agreement_bootstrap, fleiss_kappa,
                                krippendorff_alpha)

__all__ = [
    "AgreementResult", "BradleyTerryResult", "LCWinRateResult", "WinRateResult",
    "agreement_bootstrap", "bradley_terry", "fleiss_kappa", "krippendorff_alpha", "lc_win_rate",
    "win_rate",
    "Baseline", "BinaryMetrics", "BootstrapResult", "CalibrationResult", "Detectability", "Interval",
    "KappaResult", "McNemarResult", "NoiseFloorResult", "PermutationResult", "RandomizationResult",
    "ReliabilityBin", "always_positive_baseline", "bca_interval", "binary_metrics", "calibration",
    "cohen_kappa", "detectability", "holm", "kappa_bootstrap", "kappa_from_confusion", "macro_f1",
    "macro_f1_from_confusion", "majority_baseline", "mcnemar", "mcnemar_midp", "mcnemar_power",
    "mcnemar_pvalue", "mdd_from_standard_error", "min_detectable_difference", "newcombe_interval",
    "noise_floor", "paired_bootstrap", "paired_randomization", "permutation_test", "shuffle_floor",
    "sums_bootstrap", "sums_value_interval", "tost", "wilson_interval",
]
