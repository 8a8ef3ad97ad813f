"""Reports of a comparison or of one run: Markdown, JSON, PNG plots and a Hugging Face model card.

matplotlib is imported only when plots are drawn.
"""

from .files import ReportFiles, write_model_card, write_report
from .markdown import markdown, run_markdown
from .model_card import model_card
from .summary import MetricRow, RunSummary, summarize_run

__all__ = ["MetricRow", "ReportFiles", "RunSummary", "markdown", "model_card", "run_markdown",
           "summarize_run", "write_model_card", "write_report"]
