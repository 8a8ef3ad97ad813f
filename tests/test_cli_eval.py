"""`assay eval` / `assay score` run the way a user runs them: as a subprocess."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.testing import FakeOpenAIServer, assay_script, script_env

FIXTURES = Path(__file__).parent / "fixtures"
ASSAY = assay_script()


def env(**extra):
    return script_env(FIXTURES, **extra)


def write_items(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": i, "question": f"q{i}", "answer": "yes"}) + "\n"
                            for i in range(n)))
    return path


def eval_cmd(tmp_path, url, *extra):
    return [ASSAY, "eval", "exact", "--task-module", "exact_task", "--data",
            str(tmp_path / "items.jsonl"), "--model", f"m=openai:m@{url}", "--out",
            str(tmp_path / "run"), "--store", str(tmp_path / "store.sqlite"), *extra]


def stored(tmp_path) -> int:
    if not (tmp_path / "store.sqlite").exists():
        return 0  # never create the store before the run does
    db = sqlite3.connect(tmp_path / "store.sqlite")
    try:
        return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def test_sigkill_then_rerun_sends_exactly_the_missing_requests(tmp_path):
    write_items(tmp_path / "items.jsonl", 80)
    with FakeOpenAIServer(latency_s=0.05) as srv:
        proc = subprocess.Popen(eval_cmd(tmp_path, srv.base_url, "--concurrency", "4"),
                                env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while stored(tmp_path) < 20 and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kept = stored(tmp_path)
        assert 20 <= kept < 80
        before = srv.stats.requests
        out = subprocess.run(eval_cmd(tmp_path, srv.base_url, "--json"), env=env(),
                             capture_output=True, text=True, check=True)
        resent = srv.stats.requests - before
    summary = json.loads(out.stdout)
    assert resent == 80 - kept == summary["requests_sent"]
    assert summary["cache_hits"] == kept
    assert stored(tmp_path) == 80
    rows = [json.loads(l) for l in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    assert len(rows) == 80 and len({r["id"] for r in rows}) == 80


def test_api_key_reaches_no_file(tmp_path):
    secret = "sk-proj-SECRETSECRET0123456789"
    write_items(tmp_path / "items.jsonl", 5)
    with FakeOpenAIServer() as srv:
        subprocess.run(eval_cmd(tmp_path, srv.base_url, "--api-key-env", "MY_API_KEY"),
                       env=env(MY_API_KEY=secret), check=True, capture_output=True)
    assert srv.stats.headers[0]["authorization"] == f"Bearer {secret}"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_eval_json_prints_one_object(tmp_path):
    write_items(tmp_path / "items.jsonl", 4)
    with FakeOpenAIServer(lambda body: "yes") as srv:
        out = subprocess.run(eval_cmd(tmp_path, srv.base_url, "--json"), env=env(),
                             capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    assert summary["metrics"]["m"]["accuracy"] == 1.0
    assert summary["metrics"]["m"]["parse_failure_rate"] == 0.0
    assert summary["requests_sent"] == 4 and summary["errors"] == 0


def test_user_errors_are_one_line_and_exit_2(tmp_path):
    out = subprocess.run([ASSAY, "eval", "nosuch", "--data", "x", "--model", "a=openai:m@http://h",
                          "--out", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.startswith("error: unknown task 'nosuch'") and "Traceback" not in out.stderr
    out = subprocess.run([ASSAY, "eval", "exact", "--task-module", "exact_task", "--data", "x",
                          "--model", "a=gpt4", "--out", str(tmp_path)], env=env(),
                         capture_output=True, text=True)
    assert out.returncode == 2 and "LABEL=SPEC" in out.stderr


def test_score_predictions_made_elsewhere(tmp_path):
    write_items(tmp_path / "items.jsonl", 3)
    preds = tmp_path / "preds.jsonl"
    preds.write_text('{"id": 0, "output": "yes"}\n{"id": 1, "output": "no"}\n'
                     '{"id": 2, "output": "  "}\n')
    out = subprocess.run([ASSAY, "score", "exact", "--task-module", "exact_task", "--data",
                          str(tmp_path / "items.jsonl"), "--predictions", f"ext={preds}",
                          "--out", str(tmp_path / "scored"), "--json"], env=env(),
                         capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    assert summary["metrics"]["ext"]["accuracy"] == 1 / 3
    assert summary["parse_failure_rate"]["ext"] == 1 / 3
    rows = [json.loads(l) for l in (tmp_path / "scored" / "items.jsonl").read_text().splitlines()]
    assert rows[2]["parse_error"] == "empty answer" and len(rows[0]["prompt_hash"]) == 64


def test_score_rejects_unknown_ids_with_file_and_line(tmp_path):
    write_items(tmp_path / "items.jsonl", 2)
    preds = tmp_path / "preds.jsonl"
    preds.write_text('{"id": 0, "output": "yes"}\n{"id": 99, "output": "no"}\n')
    out = subprocess.run([ASSAY, "score", "exact", "--task-module", "exact_task", "--data",
                          str(tmp_path / "items.jsonl"), "--predictions", str(preds), "--out",
                          str(tmp_path / "s")], env=env(), capture_output=True, text=True)
    assert out.returncode == 2
    assert "preds.jsonl, line 2: field 'id': id not found in --data (got 99)" in out.stderr


def test_every_verb_help_shows_an_example():
    for verb in (["eval"], ["score"]):
        out = subprocess.run([ASSAY, *verb, "--help"], capture_output=True, text=True,
                             check=True)
        assert "Example" in out.stdout and "assay " + verb[0] in out.stdout


def _ctrl_c_as_in_a_shell() -> None:
    """The child starts with Ctrl-C as a terminal gives it: a test run earlier in the suite
    (a library it imported) can leave SIGINT ignored or blocked, and a child inherits both."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_keeps_finished_completions_and_the_rerun_resumes(tmp_path):
    write_items(tmp_path / "items.jsonl", 60)
    # 0.2 s a request, 2 at a time: the run lasts about 6 s, so the Ctrl-C after 10 stored
    # completions lands mid-run even on a loaded machine (0.05 s once let the run finish first)
    with FakeOpenAIServer(latency_s=0.2) as srv:
        proc = subprocess.Popen(eval_cmd(tmp_path, srv.base_url, "--concurrency", "2"),
                                env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=_ctrl_c_as_in_a_shell)
        deadline = time.time() + 60
        while stored(tmp_path) < 10 and time.time() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before the Ctrl-C"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        kept = stored(tmp_path)
        assert proc.returncode == 130 and "rerun the same command to resume" in err
        before = srv.stats.requests
        subprocess.run(eval_cmd(tmp_path, srv.base_url), env=env(), check=True,
                       capture_output=True)
        assert srv.stats.requests - before == 60 - kept


@pytest.mark.parametrize("task", ["exact", "paper-review", "bias-judge"])
def test_an_openai_backend_eval_never_imports_torch(tmp_path, task):
    write_items(tmp_path / "items.jsonl", 3)
    examples = Path(__file__).resolve().parent.parent / "examples"
    data = {"paper-review": examples / "paper-review" / "test.jsonl",
            "bias-judge": examples / "bias-judge" / "pairs.jsonl"}.get(task)
    with FakeOpenAIServer() as srv:
        argv = eval_cmd(tmp_path, srv.base_url, "--json", "--max-errors", "0")
        if data is not None:
            argv[2:5] = [task, "--limit", "2"]
            argv[argv.index("--data") + 1] = str(data)
        code = ("import sys\nfrom assay.cli import main\n"
                f"sys.argv = {argv!r}\n"
                "try:\n    main()\nfinally:\n"
                "    print('heavy:', sorted(m for m in ('torch', 'transformers', 'trl', 'peft')"
                " if m in sys.modules), file=sys.stderr)\n")
        out = subprocess.run([sys.executable, "-c", code], env=env(), capture_output=True,
                             text=True)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stderr


def test_eval_settings_from_config_then_set_then_flags(tmp_path):
    write_items(tmp_path / "items.jsonl", 5)
    with FakeOpenAIServer(lambda body: "yes") as srv:
        cfg = tmp_path / "eval.yaml"
        cfg.write_text(f"task: exact\ntask_module: exact_task\ndata: {tmp_path / 'items.jsonl'}\n"
                       f"models: [m=openai:m@{srv.base_url}]\nmax_tokens: 3\nlimit: 2\n"
                       f"store: {tmp_path / 'store.sqlite'}\nout: {tmp_path / 'run'}\n")
        out = subprocess.run([ASSAY, "eval", "--config", str(cfg), "--set", "max_tokens=5",
                              "--limit", "4", "--json"], env=env(), capture_output=True,
                             text=True)
        assert out.returncode == 0, out.stderr
        assert {b["max_tokens"] for b in srv.stats.bodies} == {5}  # --set over the YAML
        assert json.loads(out.stdout)["requests_sent"] == 4  # the flag over the YAML
        bad = subprocess.run([ASSAY, "eval", "--config", str(cfg), "--set", "max_token=5"],
                             env=env(), capture_output=True, text=True)
    assert bad.returncode == 2
    assert "--set: field 'max_token': unknown setting for `assay eval`" in bad.stderr
    assert "use one of: task, data, models" in bad.stderr


def test_eval_without_out_writes_a_new_run_directory_and_says_where(tmp_path):
    write_items(tmp_path / "items.jsonl", 2)
    with FakeOpenAIServer() as srv:
        argv = [a for a in eval_cmd(tmp_path, srv.base_url)]
        i = argv.index("--out")
        del argv[i:i + 2]
        out = subprocess.run(argv, env=env(), capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("run directory: "))
    run_dir = tmp_path / line.split()[2]
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("exact-")
    assert (run_dir / "manifest.json").is_file()


def test_extra_body_json_reaches_every_request_and_bad_json_is_one_line(tmp_path):
    write_items(tmp_path / "items.jsonl", 2)
    with FakeOpenAIServer() as srv:
        out = subprocess.run(eval_cmd(tmp_path, srv.base_url, "--extra-body",
                                      '{"chat_template_kwargs": {"enable_thinking": false}}',
                                      "--extra-body", "top_k=5", "--json"),
                             env=env(), capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert all(b["chat_template_kwargs"] == {"enable_thinking": False} and b["top_k"] == 5
                   for b in srv.stats.bodies) and len(srv.stats.bodies) == 2
        bad = subprocess.run(eval_cmd(tmp_path, srv.base_url, "--extra-body", "{oops"),
                             env=env(), capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "--extra-body is not valid JSON" in bad.stderr and "Fix:" in bad.stderr
