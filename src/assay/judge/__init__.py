"""Pairwise LLM judges: each candidate's answers against a reference's, judged in both orders
by one or more judges through the store, summarized per judge and pooled (W/T/L, win rate with
CI, position consistency and first-slot preference, LC win rate, scores), with agreement between
judges, the candidates' paired comparison and Bradley-Terry strengths."""

from .pairs import Pair, build_pairs
from .prompt import JUDGE_SYSTEM, Verdict, judge_messages, parse_verdict
from .report import markdown
from .run import (CANDIDATE_FIRST, ORDERS, REFERENCE_FIRST, JudgeConfig, Judgment, JudgeRun,
                  judge_run, outcome_of)
from .summary import (JudgeSummary, PairOutcome, agreement, compare_candidates, pair_outcomes,
                      summarize_pairs)

__all__ = ["CANDIDATE_FIRST", "JUDGE_SYSTEM", "ORDERS", "REFERENCE_FIRST", "JudgeConfig",
           "JudgeRun", "JudgeSummary", "Judgment", "Pair", "PairOutcome", "Verdict",
           "agreement", "build_pairs", "compare_candidates", "judge_messages", "judge_run",
           "markdown", "outcome_of", "pair_outcomes", "parse_verdict", "summarize_pairs"]
