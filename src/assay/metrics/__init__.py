"""The metric core: metrics built from per-item sufficient statistics (see ``_core``), and the
shares every run reports (``runner``)."""

from ._core import (BINARY, DIRECTIONS, ROLES, Direction, Item, Metric, Role, binary_from_cells,
                    confusion, custom, gap_matrix, gap_of, gap_value, mean, primary, rate,
                    sliced)
from .common import (calibration_error, constant, from_scores, majority, reliability_bins,
                     greedy_score, scores_of, share_gap)
from .interval import cluster_labels, value_interval
from .runner import (MEAN_LATENCY_S, PARSE_FAILURE_RATE, RESERVED, RUNNER_METRICS,
                     TRUNCATED_SHARE, metrics_of, shares)

__all__ = ["BINARY", "DIRECTIONS", "ROLES", "Direction", "Item", "Metric", "Role",
           "binary_from_cells", "confusion", "custom", "gap_matrix", "gap_of", "gap_value", "mean",
           "primary", "rate", "sliced",
           "MEAN_LATENCY_S", "PARSE_FAILURE_RATE", "RESERVED", "RUNNER_METRICS",
           "TRUNCATED_SHARE", "metrics_of", "shares", "calibration_error", "constant", "from_scores",
           "majority", "reliability_bins", "greedy_score", "scores_of", "share_gap", "cluster_labels", "value_interval"]
