"""Failures against served models explain themselves, fast: a dead URL, a refused key, a model
the server does not serve, a rate limit, a stuck request, too many errors; and a run off a
terminal prints progress lines. Through the installed script where the user sees the output."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assay.run import EvalConfig, RunObserver, TooManyErrors, evaluate
from assay.testing import FakeOpenAIServer, assay_script, script_env

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))


def write_items(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": i, "question": f"q{i}", "answer": "yes"}) + "\n"
                            for i in range(n)))
    return path


def dead_url() -> str:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def argv(tmp_path, url, *extra, n=4, model="m"):
    write_items(tmp_path / "items.jsonl", n)
    return [assay_script(), "eval", "exact", "--task-module", "exact_task", "--data",
            str(tmp_path / "items.jsonl"), "--model", f"m=openai:{model}@{url}", "--out",
            str(tmp_path / "run"), "--store", str(tmp_path / "store.sqlite"), *extra]


def run(cmd, timeout=60, **env):
    return subprocess.run(cmd, env=script_env(FIXTURES, **env), capture_output=True, text=True,
                          timeout=timeout)


def error_line(out) -> str:
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


def test_a_dead_url_fails_in_seconds_naming_connection_refused(tmp_path):
    url = dead_url()
    start = time.perf_counter()
    out = run(argv(tmp_path, url, n=300))
    took = time.perf_counter() - start
    line = error_line(out)
    assert f"connection refused at {url}" in line and "Fix:" in line
    assert took < 5.0, f"took {took:.1f} s"
    assert out.stderr.splitlines() == ["m: 300 request(s) to send, 0 cached", line]


def test_a_refused_key_names_the_key_variable(tmp_path):
    with FakeOpenAIServer(api_key="right") as srv:
        out = run(argv(tmp_path, srv.base_url, "--api-key-env", "MY_KEY"), MY_KEY="wrong")
        assert srv.stats.requests == 0  # the preflight stopped it before any chat request
    line = error_line(out)
    assert "HTTP 401" in line and "check MY_KEY" in line and "--api-key-env" in line
    assert "wrong" not in out.stderr  # the key itself is never printed


def test_a_model_not_served_lists_what_is_served(tmp_path):
    with FakeOpenAIServer(models=["qwen-base", "reviewer-lora"]) as srv:
        out = run(argv(tmp_path, srv.base_url, model="reviewer"))
    line = error_line(out)
    assert "model 'reviewer' not served" in line and "served: qwen-base, reviewer-lora" in line


def test_a_server_without_a_model_list_is_checked_by_its_first_request(tmp_path):
    # /v1/models answers 404 (models=None): the preflight passes, the run goes on
    with FakeOpenAIServer(lambda body: "yes") as srv:
        out = run(argv(tmp_path, srv.base_url, "--json"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["metrics"]["m"]["accuracy"] == 1.0
    assert srv.stats.model_lists == 1 and srv.stats.requests == 4


def test_retry_after_is_shown_with_its_reason(tmp_path):
    fault = lambda i, body: {"status": 429, "headers": {"Retry-After": "1"}} if i == 0 else None
    with FakeOpenAIServer(fault=fault) as srv:
        out = run(argv(tmp_path, srv.base_url, "--concurrency", "1", n=2))
    assert out.returncode == 0, out.stderr
    assert re.search(r"m: HTTP 429 from \S+, waiting 1\.0 s as the server asked \(attempt 1 "
                     r"of 6\)", out.stderr), out.stderr


def test_a_stuck_request_names_the_timeout(tmp_path):
    with FakeOpenAIServer(latency_s=2.0) as srv:
        out = run(argv(tmp_path, srv.base_url, "--timeout-s", "0.3", "--max-retries", "0",
                       n=1))
    line = error_line(out)
    assert "no response from" in line and "within 0.3 s (--timeout-s" in line


class _Clock(RunObserver):
    def __init__(self):
        self.failed_at = None

    def completed(self, label, request, completion):
        if completion.error and self.failed_at is None:
            self.failed_at = time.perf_counter()


def test_max_errors_0_stops_within_a_second_of_the_first_failed_item(tmp_path):
    write_items(tmp_path / "items.jsonl", 400)
    fault = lambda i, body: {"status": 400} if i == 10 else None
    clock = _Clock()
    with FakeOpenAIServer(latency_s=0.02, fault=fault) as srv:
        cfg = EvalConfig(task="exact", task_module="exact_task",
                         data=str(tmp_path / "items.jsonl"),
                         models=[f"m=openai:m@{srv.base_url}"], out=str(tmp_path / "run"),
                         store=str(tmp_path / "store.sqlite"), concurrency=4, max_errors=0)
        with pytest.raises(TooManyErrors) as exc:
            evaluate(cfg, clock)
        stopped = time.perf_counter()
        sent = srv.stats.requests
    assert stopped - clock.failed_at < 1.0
    assert sent < 40, f"{sent} of 400 requests sent after the first failure"
    assert "HTTP 400" in str(exc.value) and "--max-errors 0" in str(exc.value)
    assert not (tmp_path / "run").exists()  # no half-filled run directory


def test_the_first_error_is_printed_as_it_happens_and_progress_lines_off_a_tty(tmp_path):
    fault = lambda i, body: {"status": 400} if i == 0 else None
    with FakeOpenAIServer(latency_s=0.05, fault=fault) as srv:
        proc = subprocess.Popen(argv(tmp_path, srv.base_url, "--concurrency", "1",
                                     "--max-errors", "5", "--progress-every", "0.3", n=30),
                                env=script_env(FIXTURES), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        seen_at = []

        def read():
            for line in proc.stderr:
                seen_at.append((line.rstrip("\n"), srv.stats.requests))

        reader = threading.Thread(target=read)
        reader.start()
        proc.wait(60)
        reader.join(5)
    assert proc.returncode == 0, seen_at
    lines = [ln for ln, _ in seen_at]
    assert lines[0] == "m: 30 request(s) to send, 0 cached"
    failed = [(ln, n) for ln, n in seen_at if "failed: HTTP 400" in ln]
    assert len(failed) == 1 and failed[0][1] < 30  # printed while the run was still going
    progress = [ln for ln in lines
                if re.fullmatch(r"m: \d+/30 \(\d+%\), [\d.]+ req/s, 1 error\(s\), ETA .+", ln)]
    assert len(progress) >= 2, lines  # ~1.5 s of requests at one line per 0.3 s, plus the last
    assert progress[-1].startswith("m: 30/30 (100%)")


def test_line_progress_counts_from_each_models_start(capsys):
    from assay.commands._progress import LineProgress, status_line
    from assay.models import Completion, Decoding, Request

    p = LineProgress(interval_s=3600)
    p.planned("base", 4, 0)
    p.planned("ft", 4, 2)
    p.generating("base")
    req = Request(key="k", messages=(), decoding=Decoding(), item_id="7")
    p.completed("base", req, Completion(text="x"))
    p.completed("base", req, Completion(error="HTTP 500 from u"))
    p._lines()  # ft has not started (local models run one after another): no line for it
    p._stop.set()
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == ["base: 4 request(s) to send, 0 cached", "ft: 4 request(s) to send, 2 cached"]
    assert err[2] == "base: request for item 7 failed: HTTP 500 from u"
    assert err[3].startswith("base: 2/4 (50%), ") and ", 1 error(s), ETA " in err[3]
    assert len(err) == 4
    m = p.models["base"]
    line = status_line("base", m, now=m.started + 4.0)  # 2 done in 4 s: 0.5/s, 2 left: 4 s
    assert line == "base: 2/4 (50%), 0.5 req/s, 1 error(s), ETA 4 s"
