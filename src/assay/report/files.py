"""Writing a report directory: Markdown, JSON, PNG plots, report.html (a comparison's page with
its item browser) and the model card when asked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..compare import Comparison

COMPARISON_JSON = "comparison.json"
SUMMARY_JSON = "summary.json"
REPORT_MD = "report.md"


@dataclass(frozen=True)
class ReportFiles:
    """What ``write_report`` wrote."""

    out_dir: Path
    markdown: Path
    json: Path
    plots: tuple[Path, ...] = ()
    model_card: Path | None = None
    html: Path | None = None


def _write_json(path: Path, obj: dict) -> Path:
    import json

    from ..atomic import write_text

    return write_text(path, json.dumps(obj, allow_nan=False) + "\n")  # no indent: C encoder


def write_report(report: Comparison, out_dir: str | Path, *, plots: bool = True,
                 model_card: dict | None = None, html: bool = True,
                 items=None) -> ReportFiles:
    """Write report.md, comparison.json (or summary.json for a run) and the plots to out_dir,
    and for a comparison report.html (``html``) with its items.

    ``report`` is a Comparison or a RunSummary; ``model_card`` (keyword arguments of
    ``assay.report.model_card``, at least ``base_model``) also writes README.md. ``items``
    (ItemViews) are the comparison's items; by default they are read from the two runs the
    comparison names (the page shows the table only when those are gone).
    """
    from .markdown import markdown, run_markdown
    from .plots import comparison_plots, run_plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    is_cmp = isinstance(report, Comparison)
    text = markdown(report) if is_cmp else run_markdown(report)
    written = ((comparison_plots if is_cmp else run_plots)(report, out / "plots")
               if plots else [])
    if written:
        text += "\n## Plots\n\n" + "\n".join(f"![{p.stem}](plots/{p.name})" for p in written)
        text += "\n"
    from ..atomic import write_text

    md = write_text(out / REPORT_MD, text)
    js = _write_json(out / (COMPARISON_JSON if is_cmp else SUMMARY_JSON), report.to_dict())
    card = None
    if model_card is not None:
        if not is_cmp:
            raise ValueError("model_card needs a Comparison (a card reports base vs candidate), "
                             f"got {type(report).__name__}")
        card = write_model_card(report, out / "README.md", **model_card)
    page = None
    if html and is_cmp:
        from .html import REPORT_HTML, write_html
        from .items import comparison_items

        views = items if items is not None else comparison_items(report)
        page = write_html(report, out / REPORT_HTML, views, written)
    return ReportFiles(out, md, js, tuple(written), card, page)


def write_model_card(comparison: Comparison, path: str | Path, **kwargs) -> Path:
    from .model_card import model_card

    from ..atomic import write_text

    return write_text(path, model_card(comparison, **kwargs))
