"""Judge training data from BBQ: bucketed pairs, a gated teacher labeller, SFT rows with swap
doubling and DPO hard negatives behind a verify step (``assay data bbq-pairs`` and the labelling
options of ``assay distill bias-judge``).

Stages, one per module: ``bbq`` (read and validate BBQ), ``responses`` (candidates and their
classification), ``buckets`` (the five buckets, strict-subset allocation), ``pairs`` (items,
split, card), ``card``.
"""

from .bbq import BbqQuestion, read_bbq
from .buckets import BUCKETS, DEFAULT_PER_BUCKET, HARD, Pair, allocate, bucket_name, gold, pools
from .pairs import PairSet, PairsConfig, build_pairs, pair_item, split_by_group, write_pairs
from .responses import CLASSES, Candidate, classify, option_candidates, parse_choice

__all__ = ["BUCKETS", "CLASSES", "DEFAULT_PER_BUCKET", "HARD", "BbqQuestion", "Candidate",
           "Pair", "PairSet", "PairsConfig", "allocate", "bucket_name", "build_pairs",
           "classify", "gold", "option_candidates", "pair_item", "parse_choice", "pools",
           "read_bbq", "split_by_group", "write_pairs"]
