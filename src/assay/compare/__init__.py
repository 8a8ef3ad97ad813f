"""The paired comparison of two models on the same items: the question assay exists to answer.

``compare_runs`` joins the records of a base and a candidate model by (item id, pass, sample),
refuses to pair completions of different prompts, and for every metric gives both values, the
difference with a paired confidence interval, the paired test that follows from the metric's
declaration (``paired``), the confirmatory family and the verdict words (``family``), the
baseline and each model's gap over it, and the items that flipped, so a person can read what
changed instead of trusting a number.

Conventions (documented once, here):
- Records whose request failed (``error`` set) are infrastructure failures, not model
  behaviour: their key is dropped from both sides and counted in a warning.
- A metric that declares a cluster key is tested and bootstrapped by whole clusters.
"""

from .config import CompareConfig
from .family import verdict_text
from .join import choose_sides, record_key, show_key
from .result import (Comparison, Discordant, Distribution, McNemarDetail, MetricComparison,
                     NoiseDetail, Side, comparison_from_dict, load_comparison, plain)
from .run import compare_runs

__all__ = ["CompareConfig", "Comparison", "Discordant", "Distribution", "McNemarDetail",
           "MetricComparison", "NoiseDetail", "Side", "choose_sides", "compare_runs",
           "comparison_from_dict", "load_comparison", "plain", "record_key", "show_key",
           "verdict_text"]
