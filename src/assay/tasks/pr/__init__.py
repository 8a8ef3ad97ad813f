"""The PR-assistant tasks (pr-describe, pr-review, pr-improve) over real pull requests: a
numbered, budgeted diff in, a YAML answer out, validated by pydantic and scored on structure."""

from .answer import MAX_YAML_CHARS, load_yaml, parse_answer, yaml_block
from .data import load_prs, split_prs
from .diff import ShownDiff, ShownFile, numbered_lines, render_diff

__all__ = ["MAX_YAML_CHARS", "ShownDiff", "ShownFile", "load_prs", "load_yaml",
           "numbered_lines", "parse_answer", "render_diff", "split_prs", "yaml_block"]
