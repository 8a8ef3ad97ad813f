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

    from ..atomic import directory, write_text

    is_cmp = isinstance(report, Comparison)
    if model_card is not None and not is_cmp:
        raise ValueError("model_card needs a Comparison (a card reports base vs candidate), "
                         f"got {type(report).__name__}")
    out = Path(out_dir)
    text = markdown(report) if is_cmp else run_markdown(report)
    json_name = COMPARISON_JSON if is_cmp else SUMMARY_JSON
    page = None
    # one set: a kill -9 anywhere leaves the old report (Markdown, JSON, plots, page, card) or
    # the new one
    with directory(out) as stage:
        made = ((comparison_plots if is_cmp else run_plots)(report, stage / "plots")
                if plots else [])
        names = [p.name for p in made]
        if names:
            text += "\n## Plots\n\n" + "\n".join(f"![{Path(n).stem}](plots/{n})"
                                                     for n in names) + "\n"
        write_text(stage / REPORT_MD, text)
        _write_json(stage / json_name, report.to_dict())
        if model_card is not None:
            write_model_card(report, stage / "README.md", **model_card)
        if html and is_cmp:
            from .html import REPORT_HTML, write_html
            from .items import comparison_items

            views = items if items is not None else comparison_items(report)
            write_html(report, stage / REPORT_HTML, views, made)
            page = out / REPORT_HTML
    card = out / "README.md" if model_card is not None else None
    return ReportFiles(out, out / REPORT_MD, out / json_name,
                       tuple(out / "plots" / n for n in names), card, page)


def write_model_card(comparison: Comparison, path: str | Path, **kwargs) -> Path:
    from .model_card import model_card

    from ..atomic import write_text

    return write_text(path, model_card(comparison, **kwargs))
