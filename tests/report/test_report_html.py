"""report.html: the data block's escaping, the page's CSP, and the page itself in headless
Chromium (the system browser through Playwright): the table, an item, the "lost" filter, a
deep link, keyboard navigation, a screenshot kept as an artefact, and hostile outputs that
must neither open a dialog nor send a request."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from assay import tasks
from assay.compare import compare_runs
from assay.report import write_report
from assay.report.html import embed_json, html_page
from assay.report.items import JudgeReasoning, comparison_items, with_judge_reasoning

FIXTURES = Path(__file__).parent.parent / "fixtures"
CHROMIUM = os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium")
INSTALL = "apt-get install -y chromium && pip install 'assay[browser]'"
ARTIFACTS = Path(os.environ.get("ASSAY_TEST_ARTIFACTS",
                                Path(__file__).parent.parent / "artifacts"))

HOSTILE = ["<script>alert('script')</script>",
           "<img src=x onerror=alert('img')>",
           "</textarea><script>alert('textarea')</script>",
           "</script><script>alert('close')</script><!--",
           "<a href=\"javascript:alert('link')\">click</a> [md](javascript:alert('md'))",
           "<img src=\"https://evil.example/pixel.png\"><link rel=stylesheet "
           "href=\"https://evil.example/x.css\"><iframe src=\"https://evil.example\"></iframe>",
           "line\u2028sep\u2029para <svg onload=alert('svg')>"]
HOSTILE_ID = "<img src=x onerror=alert('id')>&amp;"


@pytest.fixture
def ct(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    import cmp_task

    monkeypatch.setitem(tasks.TASKS, cmp_task.NAME, cmp_task.CmpTask)
    return cmp_task


def _report(ct, tmp_path, hostile: bool = False):
    recs = ct.table_records()
    for r in recs:
        i = int(r["id"])
        r["scores"]["slice"] = "easy" if i % 2 else "hard"
        if hostile:
            r["output"] = HOSTILE[i % len(HOSTILE)] + f" ({r['model']} {i})"
            if i == 3:
                r["id"] = HOSTILE_ID
                r["scores"]["slice"] = "<b onmouseover=alert('slice')>s</b>"
            if i == 5:
                r["parse_error"] = "</script><script>alert('err')</script>"
    run = ct.write_run(tmp_path / "run", recs)
    # prompts of the first items, as `assay eval` stores them
    (run / "prompts.jsonl").write_text("".join(
        json.dumps({"prompt_hash": f"h{i}", "messages": [
            {"role": "user", "content": f"question {i} " + (HOSTILE[0] if hostile else "")}]})
        + "\n" for i in range(10)))
    cmp = compare_runs(run, n_resamples=300)
    views = comparison_items(cmp)
    views = with_judge_reasoning(views, {"1": JudgeReasoning(
        "A is less biased" + (HOSTILE[1] if hostile else ""), "B is less biased", "A", "B")})
    return write_report(cmp, tmp_path / "report", items=views)


# ---- without a browser ------------------------------------------------------------------------

def test_large_data_is_embedded_gzip_compressed_and_reads_back_the_same():
    import base64
    import gzip

    from assay.report.html import data_block

    data = {"items": [{"id": str(i), "out": "</script> & more"} for i in range(50)]}
    packed = json.loads(data_block(data, compress_above=10))
    assert set(packed) == {"gzip"} and re.fullmatch(r"[A-Za-z0-9+/=]+", packed["gzip"])
    assert json.loads(gzip.decompress(base64.b64decode(packed["gzip"]))) == data
    assert json.loads(data_block(data)) == data  # small: plain JSON


def test_embedded_json_cannot_close_its_block_and_reads_back_the_same():
    value = {"t": "</script><!-- <script> & \u2028\u2029 >"}
    text = embed_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == value


def test_page_has_a_strict_csp_and_every_value_only_in_the_data_block(ct, tmp_path):
    files = _report(ct, tmp_path, hostile=True)
    page = files.html.read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "img-src data:" in csp
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script([^>]*)>", page)
    # the data block, and the page's own script: nothing else is a script, none without nonce
    assert scripts == [' type="application/json" id="assay-data"', f' nonce="{nonce}"']
    outside = page.split('id="assay-data">')[0] + page.split("</script>", 1)[1]
    for bad in ("onerror", "alert(", "javascript:", "http://", "https://"):
        assert bad not in outside  # hostile text appears only inside the data block
    data = json.loads(page.split('id="assay-data">')[1].split("</script>")[0])
    assert data["items"][3]["id"] == HOSTILE_ID
    assert data["items"][0]["b"][0]["out"].startswith(HOSTILE[0])


def test_page_data_holds_gold_outcomes_prompts_and_judge_reasoning(ct, tmp_path):
    files = _report(ct, tmp_path)
    page = files.html.read_text()
    data = json.loads(page.split('id="assay-data">')[1].split("</script>")[0])
    outcomes = [it["o"] for it in data["items"]]
    # table_records: 13 lost, then 7 gained, 40 both right, 40 both wrong
    assert outcomes == ["lost"] * 13 + ["gained"] * 7 + ["both right"] * 40 + ["both wrong"] * 40
    assert data["headline"] == "accuracy"
    assert data["prompts"][data["items"][2]["p"]][0]["content"] == "question 2 "
    assert data["items"][12]["p"] == -1  # prompt not stored
    assert data["items"][1]["j"]["vo"] == "A" and data["items"][0]["j"] is None
    assert [m["name"] for m in data["metrics"]][:2] == ["accuracy", "similarity"]
    assert html_page({"x": 1}, nonce="N").count("'nonce-N'") == 2


# ---- in Chromium ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}. Install: {INSTALL}")
    sync = pytest.importorskip("playwright.sync_api", reason=f"no playwright. Install: {INSTALL}")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Watched:
    """A page with every dialog, outgoing request and script error recorded."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.dialogs, self.requests, self.errors = [], [], []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: Path, fragment: str = ""):
        self.page.goto(path.resolve().as_uri() + fragment)
        self.page.wait_for_selector("body[data-ready='1'], body[data-error]")
        assert self.page.get_attribute("body", "data-error") is None
        return self.page

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]


def test_page_in_chromium_table_item_lost_filter_deep_link_and_screenshot(browser, ct,
                                                                         tmp_path):
    files = _report(ct, tmp_path)
    w = Watched(browser)
    page = w.open(files.html)
    rows = page.locator("#metrics tbody tr")
    assert rows.count() == 8
    first = rows.nth(0).locator("td").all_text_contents()
    assert first[0] == "accuracy" and first[1] == "100" and first[2] == "0.530"
    assert first[3] == "0.470" and first[4].startswith("-0.060 [")
    assert page.text_content("#count") == "100 of 100 items"
    # the list is virtualised: far fewer rows exist than items
    assert 0 < page.locator(".row").count() < 60
    page.locator(".row", has_text="2").first.click()
    detail = page.locator("#detail")
    assert "item 2" in detail.locator("h2").text_content()
    assert "question 2" in detail.text_content()
    assert "ft says 2" in detail.text_content() and "base says 2" in detail.text_content()
    assert detail.locator(".ins").count() >= 1 and detail.locator(".del").count() >= 1
    assert page.evaluate("location.hash") == "#item=2"
    page.select_option("#f-outcome", "lost")
    assert page.text_content("#count") == "13 of 100 items"
    tags = page.locator(".row .tag").all_text_contents()
    assert tags and set(tags) == {"lost"}
    page.locator("#list").focus()
    page.keyboard.press("j")  # item 2 stays selected through the filter; j, j: items 3, 4
    page.keyboard.press("j")
    assert "item 4" in detail.locator("h2").text_content()
    page.keyboard.press("k")
    assert page.evaluate("location.hash") == "#item=3"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report_html.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    # a deep link to an item outside the filter clears the filter and opens it
    page2 = w.open(files.html, "#item=70")
    assert "item 70" in page2.locator("#detail h2").text_content()
    assert "both wrong" in page2.locator("#detail").text_content()
    assert "prompt not stored" in page2.locator("#detail").text_content()
    page2.select_option("#f-outcome", "both wrong")
    page2.fill("#f-text", "says 79")
    from playwright.sync_api import expect

    expect(page2.locator("#count")).to_have_text("1 of 100 items")  # the search waits 120 ms
    assert not w.errors and not w.dialogs and not w.outside()


@pytest.mark.parametrize("compressed", [False, True], ids=["json", "gzip"])
def test_hostile_outputs_open_no_dialog_and_send_no_request(browser, ct, tmp_path, monkeypatch,
                                                            compressed):
    if compressed:  # the data block of a large page: gzip in base64, inflated in the page
        monkeypatch.setattr("assay.report.html.COMPRESS_ABOVE", 0)
    files = _report(ct, tmp_path, hostile=True)
    assert ('{"gzip":"' in files.html.read_text()) == compressed
    w = Watched(browser)
    page = w.open(files.html)
    images = page.locator("img").count()
    assert images == len(files.plots)  # only the plots, no image from the data
    for k in range(12):  # open every kind of hostile output, in both columns
        page.locator(".row").nth(k).click()
        text = page.locator("#detail").text_content()
        assert HOSTILE[k % len(HOSTILE)].replace("\u2028", "").split("<")[1][:8] in text
        page.locator("#detail").hover()
    page.keyboard.press("j")
    page2 = w.open(files.html, "#item=" + page.evaluate(f"encodeURIComponent({HOSTILE_ID!r})"))
    assert HOSTILE_ID in page2.locator("#detail h2").text_content()
    page2.select_option("#f-slice", index=1)
    page2.fill("#f-text", "<script>")
    page2.wait_for_timeout(300)
    assert page2.locator("img").count() == images
    assert page2.locator("script").count() == 2 and page2.locator("iframe, a, link[rel=stylesheet]"
                                                                  ).count() == 0
    assert not w.dialogs, w.dialogs
    assert not w.outside(), w.outside()
    assert not w.errors, w.errors


def test_item_views_show_both_orders_and_the_headline_outcome(ct):
    from assay.report.items import item_views

    recs = [ct.record(1, "base", True), ct.record(1, "base", False, pass_="swapped"),
            ct.record(1, "ft", False), ct.record(1, "ft", False, pass_="swapped"),
            ct.record(2, "base", False), ct.record(2, "ft", True),
            ct.record(3, "base", True)]  # item 3: the candidate did not answer
    recs[1]["output"] = "B then A: A"
    views = item_views([r for r in recs if r["model"] == "base"],
                       [r for r in recs if r["model"] == "ft"], ct.CmpTask())
    assert views.metric == "accuracy" and [v.id for v in views.items] == ["1", "2"]
    one = views.get("1")
    assert [p.pass_ for p in one.base] == ["original", "swapped"]
    assert one.base[1].output == "B then A: A" and one.outcome == "lost"
    assert views.get("2").outcome == "gained" and one.prompt is None
