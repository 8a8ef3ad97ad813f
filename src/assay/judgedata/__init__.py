"""Judge training data from BBQ: bucketed pairs, a gated teacher labeller, SFT rows with swap
doubling and DPO hard negatives behind a verify step (``assay data bbq-pairs`` and the labelling
options of ``assay distill bias-judge``).

Stages, one per module: ``bbq`` (read and validate BBQ), ``responses`` (candidates from BBQ's
options and their classification), ``generate`` (candidates from models, through the store),
``buckets`` (the five buckets, strict-subset allocation), ``pairs`` (items, split, card),
``labeller`` (the labelling prompt and its check), ``gate`` (dry run, thresholds, cross-check
table), ``label`` (the labelling run), ``sft``, ``dpo`` (routing, synthesis, verify), ``card``.
"""

from .bbq import BbqQuestion, read_bbq
from .buckets import (BUCKETS, DEFAULT_PER_BUCKET, HARD, Pair, allocate, allocation_order,
                      bucket_name, bucket_of, gold, pools)
from .dpo import (MODES, DpoBlocked, DpoCheck, dpo_rows, plan, route, strict_verdict,
                  synthesize, verify, write_dpo)
from .gate import GateResult, GateRule, decide, disagreements, dry_run_ids, gate
from .generate import GeneratorConfig, generate, question_messages, sample_questions
from .label import (GateFailed, LabelConfig, Labelled, LabelResult, from_distill,
                    label_pairs)
from .labeller import Label, Labeller, judge_completion, read_label
from .pairs import (PairSet, PairsConfig, build_pairs, counts_of, pair_item, split_by_group,
                    write_pairs)
from .responses import CLASSES, Candidate, classify, option_candidates, parse_choice
from .sft import mirrored, sft_rows, write_sft

__all__ = ["BUCKETS", "CLASSES", "DEFAULT_PER_BUCKET", "HARD", "MODES", "BbqQuestion",
           "Candidate", "DpoBlocked", "DpoCheck", "GateFailed", "GateResult", "GateRule",
           "GeneratorConfig", "Label", "LabelConfig", "LabelResult", "Labelled", "Labeller",
           "Pair", "PairSet", "PairsConfig", "allocate", "allocation_order", "bucket_name",
           "bucket_of", "build_pairs", "classify", "counts_of", "decide", "disagreements",
           "dpo_rows", "dry_run_ids", "from_distill", "gate", "generate", "gold",
           "judge_completion", "label_pairs", "mirrored", "option_candidates", "pair_item",
           "parse_choice", "plan", "pools", "question_messages", "read_bbq", "read_label",
           "route", "sample_questions", "sft_rows", "split_by_group", "strict_verdict",
           "synthesize", "verify", "write_dpo", "write_pairs", "write_sft"]
