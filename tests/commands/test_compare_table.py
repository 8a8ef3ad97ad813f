"""The terminal comparison table reads at 80 columns: base, candidate, CI and verdict on every
row, slices folded into a count (``--wide`` shows them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from assay import tasks
from assay.commands.compare import comparison_table
from assay.compare import compare_runs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def comparison(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    recs = cmp_task.table_records(lost=2, gained=20, both=40, neither=38)
    for r in recs:
        r["scores"]["slice"] = f"a_rather_long_slice_name_{int(r['id']) % 3}"
    (tmp_path / "goals.yaml").write_text('accuracy: [">= 0.5", improve]\n')
    return compare_runs(cmp_task.write_run(tmp_path / "run", recs), goals=tmp_path / "goals.yaml",
                        n_resamples=300)


def render(table, width: int) -> str:
    console = Console(width=width, record=True)
    console.print(table)
    return console.export_text()


def test_every_row_shows_base_candidate_ci_and_verdict_at_80_columns(comparison):
    table, folded = comparison_table(comparison)
    text = render(table, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert folded == 3
    for m in comparison.metrics:
        if m.slice is not None:
            assert m.name not in text
            continue
        line = next(l for l in text.splitlines() if l.lstrip().startswith(m.name[:10]))
        assert f"{m.base:.3f}" in line and f"{m.candidate:.3f}" in line, line
        assert f"[{m.ci_low:+.3f},{m.ci_high:+.3f}]" in line, line
        word = {"descriptive": "-", "too few items": "no verdict"}.get(m.verdict, m.verdict)
        assert word in line, line
    acc = next(l for l in text.splitlines() if l.lstrip().startswith("accuracy"))
    assert re.search(r"better p=\d", acc) and "Hit Hit" in acc


def test_wide_shows_the_slices(comparison):
    table, folded = comparison_table(comparison, wide=True)
    text = render(table, 140)
    assert folded == 0 and "a_rather_long_slice_name_1" in text
