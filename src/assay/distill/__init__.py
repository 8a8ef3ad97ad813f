"""Distillation: a teacher behind the task's own checks, with revision, selection, filters and a
ledger (``assay distill``).

Stages, one per module: ``contamination`` (eval-set overlap, before any request), ``teacher``
(a backend behind the eval's store), ``loop`` (draft -> check -> revise, a chain per attempt),
``select`` (the task's tiered key), ``filters`` and ``dedupe`` (parse, exact and near
duplicates), ``ledger`` (tokens, cost, budget), ``outputs`` and ``card``; ``pipeline.distill``
composes them.
"""

from .attempts import BUDGET, ERROR, NEVER_PASSED, PASSED, Attempt, ItemRun
from .card import card_markdown, convergence, revisions
from .config import DistillConfig, check_config, help_for
from .contamination import (Contamination, ExclusionSet, check_item, exclusion_set, item_input,
                            split_contaminated)
from .dedupe import Duplicate, exact_duplicates, minhash, near_duplicates
from .filters import Filtered, apply_filters
from .ledger import BudgetExhausted, Ledger, RoundTally
from .loop import LoopConfig, revision_messages, run_item, run_loop
from .normalise import ngrams, normalise, text_hash, words
from .outputs import CANDIDATES, CARD_JSON, CARD_MD, TRAIN, VAL, split_rows
from .pipeline import DistillResult, distill
from .select import Selection, select
from .teacher import Answer, Teacher, build_teacher, sample_seed

__all__ = ["BUDGET", "ERROR", "NEVER_PASSED", "PASSED", "Attempt", "ItemRun", "card_markdown",
           "convergence", "revisions", "DistillConfig", "check_config", "help_for",
           "Contamination", "ExclusionSet", "check_item", "exclusion_set", "item_input",
           "split_contaminated", "Duplicate", "exact_duplicates", "minhash", "near_duplicates",
           "Filtered", "apply_filters", "BudgetExhausted", "Ledger", "RoundTally", "LoopConfig",
           "revision_messages", "run_item", "run_loop", "ngrams", "normalise", "text_hash",
           "words", "CANDIDATES", "CARD_JSON", "CARD_MD", "TRAIN", "VAL", "split_rows",
           "DistillResult", "distill", "Selection", "select", "Answer", "Teacher",
           "build_teacher", "sample_seed"]
