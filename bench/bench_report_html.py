"""Benchmark: report.html of a 20,000-item comparison in headless Chromium (target: loads and
filters in under 2 s).

Writes two 20,000-item runs (outputs of a few hundred characters, two slices, some parse
failures and truncations), compares them, writes report.html, then in the system Chromium
(Playwright, ``executable_path=/usr/bin/chromium``; nothing is downloaded) times
- load: navigation until the page's script has parsed the data and drawn the table and list,
- each filter (lost, both wrong, parse failures, a slice, a text search) until the count shows,
- opening an item (its word-level diff included).

Run: OMP_NUM_THREADS=1 python bench/bench_report_html.py [--items 20000] [--repeat 3]
     [--screenshot docs/report_html.png]  (the README's picture: a lost item opened)
Needs: apt-get install -y chromium; pip install 'assay[browser]'.
This file is also the task module of the generated runs (``task_module: bench_report_html``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assay.metrics import rate, sliced
from assay.records import greedy_record, slice_values
from assay.tasks import Task

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium")
WORDS = ("the change looks correct but the loop bound is off by one and the test misses the "
         "empty case so I would ask for a fix before merging this pull request").split()


def _correct(item):
    row = greedy_record(item)
    return None if row is None else row["scores"]["correct"]


ACCURACY = rate("accuracy", _correct, role="primary")


class BenchHtmlTask(Task):
    name = "bench-report-html"
    gold_keys = ("gold",)

    def metrics(self, records):
        return [ACCURACY] + sliced([ACCURACY], "slice", slice_values(records, "slice"))


def _output(rng: random.Random, i: int, label: str) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80)))
    return f"Review of item {i} by {label}: {body}\nDecision: {rng.choice(['accept', 'reject'])}"


def write_run(path: Path, label: str, n: int, p_correct: float, seed: int) -> Path:
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "items.jsonl", "w") as f:
        for i in range(n):
            bad = rng.random() < 0.03
            rec = {"id": f"item-{i:05d}", "model": label, "pass": "original", "sample": None,
                   "prompt_hash": f"{i:064x}", "output": _output(rng, i, label),
                   "finish_reason": "stop", "truncated": rng.random() < 0.02,
                   "parsed": None if bad else {"decision": "accept"},
                   "parse_error": "no decision line" if bad else None,
                   "scores": {"correct": rng.random() < p_correct, "gold": "accept",
                              "slice": "in_dist" if i % 3 else "ood"},
                   "latency_s": 0.1, "prompt_tokens": 100, "completion_tokens": 80,
                   "error": None}
            f.write(json.dumps(rec) + "\n")
    (path / "prompts.jsonl").write_text("".join(json.dumps({
        "prompt_hash": f"{i:064x}", "messages": [
            {"role": "system", "content": "You review pull requests."},
            {"role": "user", "content": f"Review this diff (item {i}): ..."}]}) + "\n"
        for i in range(n)))
    manifest = {"kind": "eval", "task": BenchHtmlTask.name, "task_options": {},
                "task_module": "bench_report_html",
                "models": {label: {"spec": f"openai:{label}"}},
                "started_at": "2025-01-01T00:00:00+00:00", "data": {"path": "bench.jsonl"}}
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path



def _filter(page, action) -> float:
    """Seconds from the change until the list shows the new count."""
    before = page.text_content("#count")
    t = time.perf_counter()
    action()
    while page.text_content("#count") == before:
        page.wait_for_timeout(5)
    return time.perf_counter() - t


def bench(html: Path, repeat: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t = time.perf_counter()
            page.goto(html.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']")
            out.setdefault("load (navigate, parse data, draw table and list)", []).append(
                time.perf_counter() - t)
            steps = [("filter: lost", lambda: page.select_option("#f-outcome", "lost")),
                     ("filter: both wrong", lambda: page.select_option("#f-outcome",
                                                                       "both wrong")),
                     ("filter: all + parse failures", lambda: (
                         page.select_option("#f-outcome", ""), page.check("#f-parse"))),
                     ("filter: slice ood", lambda: (page.uncheck("#f-parse"),
                                                    page.select_option("#f-slice",
                                                                       "slice=ood"))),
                     ("filter: text search (incl. 120 ms debounce)",
                      lambda: page.fill("#f-text", "item 3 by"))]
            for name, action in steps:
                out.setdefault(name, []).append(_filter(page, action))
            t = time.perf_counter()
            page.locator(".row").first.click()
            page.wait_for_selector("#detail h2")
            out.setdefault("open an item (word diff)", []).append(time.perf_counter() - t)
            page.close()
        browser.close()
    return out


def screenshot(html: Path, path: Path) -> None:
    """The page with the "lost" filter on and its first item open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1050})
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']")
        page.select_option("#f-outcome", "lost")
        page.locator(".row").first.click()
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--screenshot", type=Path, help="also save a screenshot of the page here")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(HERE))
    if not Path(CHROMIUM).is_file():
        sys.exit(f"no Chromium at {CHROMIUM}. Install: apt-get install -y chromium")
    from assay.compare import compare_runs
    from assay.report import write_report

    with tempfile.TemporaryDirectory() as tmp:
        a = write_run(Path(tmp) / "base", "base", args.items, 0.70, 1)
        b = write_run(Path(tmp) / "ft", "ft", args.items, 0.72, 2)
        t = time.perf_counter()
        cmp = compare_runs(a, b, n_resamples=2_000)
        files = write_report(cmp, Path(tmp) / "report", plots=False)
        write_s = time.perf_counter() - t
        size = files.html.stat().st_size
        times = bench(files.html, args.repeat)
        if args.screenshot:
            screenshot(files.html, args.screenshot)
    print(f"items: {args.items:,}; report.html {size / 1e6:.1f} MB; compare + write "
          f"{write_s:.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, xs in times.items():
        print(f"  {name:50s} median {statistics.median(xs):.3f} s (min {min(xs):.3f}; "
              f"runs {len(xs)})")
    load = statistics.median(times["load (navigate, parse data, draw table and list)"])
    worst = max(statistics.median(v) for k, v in times.items() if k.startswith("filter"))
    print(f"load + slowest filter: {load + worst:.3f} s (target < 2 s)")


if __name__ == "__main__":
    main()
