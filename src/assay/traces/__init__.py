"""Coding-agent trace mining: pi session files in, scored and redacted SDPO training rows out.

reader (stream the active branch) -> episodes (prompt + diagnostics) -> categories -> score ->
rows (``prompt`` + ``privileged_context`` for TRL's SDPOTrainer) -> ``mine``/``write_rows``;
``grounding_reward`` scores completions against a row's diagnostics.
"""

from .categories import CATEGORIES, Classifier, Rule, default_classifier, load_patterns
from .episodes import Diagnostic, Episode, EpisodeConfig, build_episodes, is_correction
from .mine import MineConfig, MineResult, MineSummary, find_session_files, mine, write_rows
from .reader import (KNOWN_TYPES, Entry, Malformed, ReaderConfig, SessionInfo, SessionStream,
                     open_session, read_session)
from .reward import Anchors, GroundingConfig, anchors, grounding_reward, make_grounding_reward
from .rows import RowConfig, make_row, privileged_context
from .score import DEFAULT_WEIGHTS, EpisodeScore, ScoreConfig, score_episode

__all__ = [
    "Anchors", "CATEGORIES", "DEFAULT_WEIGHTS", "KNOWN_TYPES", "Classifier", "Diagnostic", "Entry",
    "Episode", "EpisodeConfig", "EpisodeScore", "GroundingConfig", "Malformed", "MineConfig",
    "MineResult", "MineSummary", "ReaderConfig", "RowConfig", "Rule", "ScoreConfig",
    "SessionInfo", "SessionStream", "anchors", "build_episodes", "default_classifier",
    "find_session_files", "grounding_reward", "is_correction", "load_patterns", "make_grounding_reward", "make_row",
    "mine", "open_session", "privileged_context", "read_session", "score_episode", "write_rows",
]
