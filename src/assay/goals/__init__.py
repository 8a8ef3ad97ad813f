"""Goals fixed before training: a goals.yaml (``file``), its lock with the power the goals have
(``lock``), and the Hit / Miss / Inconclusive verdicts of a comparison on confidence bounds
(``judge``)."""

from .file import ACCEPTED, KINDS, Goal, GoalsFile, parse_goal, parse_goals, read_goals
from .judge import (HIT, INCONCLUSIVE, MISS, NOT_EVALUABLE, GoalsCheck, GoalVerdict, check_goals,
                    judge)
from .lock import (LEGACY_LOCK, LOCK_SUFFIX, GoalPower, GoalsLock, declared_metrics, lock_goals, lock_path,
                   lock_status, read_lock, validate)

__all__ = ["ACCEPTED", "KINDS", "Goal", "GoalsFile", "parse_goal", "parse_goals", "read_goals",
           "HIT", "INCONCLUSIVE", "MISS", "NOT_EVALUABLE", "GoalsCheck", "GoalVerdict",
           "check_goals", "judge", "LEGACY_LOCK", "LOCK_SUFFIX", "GoalPower", "GoalsLock", "declared_metrics",
           "lock_goals", "lock_path", "lock_status", "read_lock", "validate"]
