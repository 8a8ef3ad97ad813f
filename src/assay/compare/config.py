"""The settings of a comparison, each declared once (the `opt` machinery of the training
recipes)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import opt


@dataclass(frozen=True)
class CompareConfig:
    """How two runs are paired and tested."""

    base: str | None = opt(None, "Label of the base model (needed when a run holds several).")
    candidate: str | None = opt(None, "Label of the candidate model (needed when a run holds "
                                "more than two).")
    allow_prompt_mismatch: bool = opt(False, "Compare even when the prompts differ (every "
                                      "output then carries a warning).")
    allow_data_mismatch: bool = opt(False, "Compare runs made on different data files or with "
                                    "different gold labels (every output then warns).")
    n_resamples: int = opt(10_000, "Random swaps of the paired randomization tests (exact "
                           "enumeration when there are at most 16 items or clusters).")
    bootstrap_resamples: int = opt(2_000, "Resamples of the bootstrap intervals (BCa where "
                                   "stable).")
    seed: int = opt(0, "Seed of the resampling.")
    confidence_level: float = opt(0.95, "Level of every confidence interval.")
    alpha: float = opt(0.05, "Significance level of the verdicts (family-wise for the "
                       "confirmatory family).")
    min_slice_n: int = opt(20, "Slices with fewer items get no verdict (their n and CI are "
                           "still shown).")

    def __post_init__(self) -> None:
        from ..errors import AssayError

        checks = [(isinstance(self.n_resamples, int) and self.n_resamples >= 99,
                   "n_resamples", self.n_resamples, "an integer >= 99"),
                  (isinstance(self.bootstrap_resamples, int) and self.bootstrap_resamples >= 99,
                   "bootstrap_resamples", self.bootstrap_resamples, "an integer >= 99"),
                  (isinstance(self.confidence_level, float) and
                   0.5 <= self.confidence_level < 1, "confidence_level",
                   self.confidence_level, "a number in [0.5, 1)"),
                  (isinstance(self.alpha, float) and 0 < self.alpha < 0.5, "alpha", self.alpha,
                   "a number in (0, 0.5)"),
                  (isinstance(self.min_slice_n, int) and self.min_slice_n >= 1, "min_slice_n",
                   self.min_slice_n, "an integer >= 1")]
        for ok, name, value, want in checks:
            if not ok:
                raise AssayError(f"compare setting {name}={value!r} is invalid. Fix: use {want}")
