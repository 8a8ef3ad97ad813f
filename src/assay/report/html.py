"""report.html: one self-contained page (no network: scripts, styles and plots inline) with the
results table, the warnings, the plots and the item browser.

Untrusted text (outputs, prompts, ids, slice names, labels) never becomes markup: the page is a
fixed skeleton, every value travels in one ``<script type="application/json">`` block (with
``<``, ``>``, ``&`` and U+2028/U+2029 escaped, so no text can close the block) and the page's
script inserts it with ``textContent`` only. A Content-Security-Policy meta tag allows only the
page's own nonce-tagged script and style and ``data:`` images, so even a bug there could not
load or run anything else.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..compare import Comparison, verdict_text
from .items import ItemPass, ItemViews

REPORT_HTML = "report.html"
# Data above this many characters is embedded gzip-compressed (base64 inside the same JSON
# block) and inflated by the browser's DecompressionStream: a 20,000-item page is read and
# tokenised several times faster, and the file is smaller to share.
COMPRESS_ABOVE = 1_000_000
# JSON escapes that keep the data block a data block whatever the text holds
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
            "\u2029": "\\u2029"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def embed_json(obj: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``,
    no line separators (JSON.parse reads the escapes back as the same characters)."""
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):  # nan, numpy values, tuples as keys: made plain once
        from ..jsonable import to_jsonable

        text = json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    return text.translate(_ESCAPE_TABLE)


def _asset(name: str) -> str:
    return resources.files("assay.report").joinpath("assets", name).read_text(encoding="utf-8")


def _f(x) -> float | None:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def _metric_row(c: Comparison, m) -> dict:
    goals = c.goals.for_metric(m.name) if c.goals is not None else []
    return {"name": m.name, "n": m.n, "base": _f(m.base), "cand": _f(m.candidate),
            "diff": _f(m.difference), "lo": _f(m.ci_low), "hi": _f(m.ci_high),
            "floor": _f(m.base_baseline), "floorName": m.baseline_name,
            "noise": (None if m.noise is None else
                      {"diff": _f(m.noise.difference), "within": m.noise.within_noise}),
            "family": m.family, "verdict": verdict_text(m), "word": m.verdict,
            "goals": [f"{g.goal}: {g.outcome}" for g in goals]}


def _pass(p: ItemPass) -> dict:
    return {"pass": p.pass_, "out": p.output, "parsed": p.parsed, "err": p.parse_error,
            "trunc": p.truncated, "scores": p.scores}


def _items(views: ItemViews | None) -> tuple[list, list]:
    """(prompts, items): each distinct prompt once, items pointing at it by index."""
    if views is None:
        return [], []
    prompts: list = []
    index: dict[int, int] = {}
    items = []
    for v in views.items:
        p = -1
        if v.prompt is not None:  # one object per prompt hash (Run.prompts): keyed by identity
            p = index.setdefault(id(v.prompt), len(prompts))
            if p == len(prompts):
                prompts.append(v.prompt)
        judge = None if v.judge is None else {
            "original": v.judge.original, "swapped": v.judge.swapped,
            "vo": v.judge.verdict_original, "vs": v.judge.verdict_swapped}
        items.append({"id": v.id, "p": p, "gold": v.gold, "sl": v.slices, "o": v.outcome,
                      "b": [_pass(x) for x in v.base], "c": [_pass(x) for x in v.candidate],
                      "j": judge})
    return prompts, items


def _plot(path: Path) -> dict:
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"name": path.stem, "src": f"data:{mime};base64,{data}"}


def page_data(c: Comparison, views: ItemViews | None, plots: Sequence[Path] = ()) -> dict:
    """Everything the page shows, as plain JSON-able data."""
    from ..jsonable import to_jsonable
    from .markdown import family_sentence

    prompts, items = _items(views)
    warnings = list(c.warnings) + (list(c.goals.warnings) if c.goals is not None else [])
    goals = ([{"metric": v.metric, "goal": v.goal, "outcome": v.outcome, "reason": v.reason}
              for v in c.goals.verdicts] if c.goals is not None else [])
    head = to_jsonable({"task": c.task, "base": c.base.label, "cand": c.candidate.label,
                        "nItems": c.n_items, "level": c.confidence_level,
                        "notes": [family_sentence(c).replace("*", ""), c.coverage()],
                        "metrics": [_metric_row(c, m) for m in c.metrics],
                        "warnings": warnings, "goals": goals,
                        "headline": views.metric if views else None,
                        "itemsMissing": views is None})
    # the items are records read from JSON already: plain (embed_json makes them so if not)
    return {**head, "prompts": prompts, "items": items,
            "plots": [_plot(Path(p)) for p in plots]}


def data_block(data: dict, compress_above: int | None = None) -> str:
    """The text of the data block: the data as escaped JSON, or when longer than
    ``compress_above`` characters ``{"gzip": BASE64}`` of that JSON."""
    text = embed_json(data)
    limit = COMPRESS_ABOVE if compress_above is None else compress_above
    if len(text) <= limit:
        return text
    import gzip

    packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    return embed_json({"gzip": base64.b64encode(packed).decode("ascii")})


def html_page(data: dict, nonce: str | None = None, compress_above: int | None = None) -> str:
    """The page: a fixed skeleton, the data block, the page's style and script."""
    nonce = nonce or secrets.token_urlsafe(18)
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    return (_asset("report.html")
            .replace("{{CSP}}", csp)
            .replace("{{NONCE}}", nonce)
            .replace("{{STYLE}}", _asset("report.css"))
            .replace("{{SCRIPT}}", _asset("report.js"))
            .replace("{{DATA}}", data_block(data, compress_above)))


def write_html(c: Comparison, path: str | Path, views: ItemViews | None = None,
               plots: Sequence[Path] = ()) -> Path:
    """Write report.html for a comparison (``views``: its items; None shows the table only)."""
    from ..atomic import write_text

    return write_text(path, html_page(page_data(c, views, plots)))
