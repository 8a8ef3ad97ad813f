"""The metric core: metrics built from per-item sufficient statistics (see ``_core``), and the
shares every run reports (``runner``)."""

from ._core import (BINARY, DIRECTIONS, ROLES, Direction, Item, Metric, Role, binary_from_cells,
                    confusion, custom, mean, primary, rate, sliced)
from .interval import cluster_labels, value_interval
from .runner import (MEAN_LATENCY_S, PARSE_FAILURE_RATE, RESERVED, RUNNER_METRICS,
                     TRUNCATED_SHARE, metrics_of, shares)

__all__ = ["BINARY", "DIRECTIONS", "ROLES", "Direction", "Item", "Metric", "Role",
           "binary_from_cells", "confusion", "custom", "mean", "primary", "rate", "sliced",
           "MEAN_LATENCY_S", "PARSE_FAILURE_RATE", "RESERVED", "RUNNER_METRICS",
           "TRUNCATED_SHARE", "metrics_of", "shares", "cluster_labels", "value_interval"]
