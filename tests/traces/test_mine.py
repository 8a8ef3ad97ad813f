"""Mining end to end: selection (min score, top, dedupe), redaction of every planted secret kind
in the written rows and the JSON summary, and the `assay traces mine` command."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.traces import MineConfig, RowConfig, make_row, mine, score_episode
from assay.traces.episodes import Diagnostic, Episode

SECRETS = {
    "openai": "sk-" + "proj-" + "Pq7Rs8Tu9Vw0Xy1Za2Bc3De4Fg5",
    "anthropic": "sk-" + "ant-api03-" + "H" * 28,
    "github": "ghp_" + "Kk9L" * 9,
    "github_pat": "github_pat_" + "22BBBB" * 6,
    "github_oauth": "gho_" + "M1n2" * 9,
    "aws": "AKIA" + "ZXCVBNMASDFGHJKL",
    "hf": "hf_" + "QwErTyUiOp" * 3 + "as",
    "slack": "xoxp-" + "1111111111-2222222222-" + "ZzYyXxWwVv",
    "password": "Tr0ub4dor-and-3",
    "json_secret": "j50n-s3cr3t-v4lue",
    "yaml_secret": "y4ml-s3cr3t-v4lue",
    "bearer": "b34rer.t0ken.v4lue99",
    "private_key_body": "MIIEowIBAAKCAQEAq1w2e3r4t5y6u7i8o9p0",
}
NAMES = ("alice", "bob", "carol")


def _session(tmp_path):
    s = SECRETS
    lines = [
        {"type": "session", "version": 3, "id": "s", "timestamp": "t", "cwd": "/home/alice/proj"},
        {"type": "message", "id": "u1", "parentId": None, "message": {"role": "user", "content":
         f"Use my key {s['openai']} to call the API from /Users/bob/proj/client.py and fix it"}},
        {"type": "message", "id": "a1", "parentId": "u1", "message": {"role": "assistant",
         "content": [{"type": "toolCall", "id": "t1", "name": "bash", "arguments": {
             "command": f"curl -H 'Authorization: Bearer {s['bearer']}' "
                        f"-d @/home/carol/body.json https://api.example.com"}}]}},
        {"type": "message", "id": "r1", "parentId": "a1", "message": {
            "role": "toolResult", "toolCallId": "t1", "toolName": "bash", "isError": True,
            "content": [{"type": "text", "text":
                f"AWS_ACCESS_KEY_ID={s['aws']}\nGITHUB_TOKEN={s['github']} {s['github_pat']} "
                f"{s['github_oauth']}\nHF_TOKEN={s['hf']}\nSLACK={s['slack']}\n"
                f"PASSWORD={s['password']}\n{{\"api_key\": \"{s['json_secret']}\"}}\n"
                f"ANTHROPIC={s['anthropic']}\n-----BEGIN RSA PRIVATE KEY-----\n"
                f"{s['private_key_body']}\n-----END RSA PRIVATE KEY-----\n"
                "Traceback (most recent call last):\n  File \"/home/alice/proj/client.py\"\n"
                "PermissionError: [Errno 13] Permission denied: '/home/alice/.netrc'\n\n"
                "Command exited with code 1"}]}},
        {"type": "message", "id": "a2", "parentId": "r1", "message": {"role": "assistant",
         "content": [{"type": "text", "text": "Retrying."}]}},
        {"type": "compaction", "id": "c1", "parentId": "a2", "summary":
         f"Earlier: the token {s['github']} lives in ~bob/.config/gh/hosts.yml", "tokensBefore": 1},
        {"type": "message", "id": "u2", "parentId": "c1", "message": {"role": "user", "content":
         f"no, that's wrong, use this config instead:\nsecret: {s['yaml_secret']}\nplease"}},
        {"type": "message", "id": "a3", "parentId": "u2", "message": {"role": "assistant",
         "content": [{"type": "toolCall", "id": "t3", "name": "read", "arguments": {
             "path": "/home/carol/.env"}}]}},
        {"type": "message", "id": "r3", "parentId": "a3", "message": {
            "role": "toolResult", "toolCallId": "t3", "toolName": "read", "isError": True,
            "content": [{"type": "text", "text": "ENOENT: no such file, open '/home/carol/.env'"}]}},
    ]
    path = tmp_path / "secrets.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in lines) + "\n"
                    + '{"type": "label", "id": "zz", "note": "' + s["openai"] + '"\n')
    return path


def _assert_clean(text):
    for kind, secret in SECRETS.items():
        assert secret not in text, kind
    for name in NAMES:
        assert f"/{name}" not in text and f"~{name}" not in text


def test_no_planted_secret_reaches_the_rows_file(tmp_path):
    path = _session(tmp_path)
    result = mine([path], MineConfig(min_score=0.0))
    assert len(result.rows) == 2
    assert result.summary.malformed_lines == 1
    out = tmp_path / "rows.jsonl"
    from assay.traces import write_rows

    write_rows(result.rows, out)
    text = out.read_text()
    _assert_clean(text)
    for placeholder in ("<OPENAI_KEY>", "<ANTHROPIC_KEY>", "<GITHUB_TOKEN>", "<AWS_ACCESS_KEY>",
                        "<HF_TOKEN>", "<SLACK_TOKEN>", "<SECRET>", "<TOKEN>", "<PRIVATE_KEY>",
                        "<cwd>/client.py", "/Users/<user>/proj", "~<user>/.config"):
        assert placeholder in text, placeholder
    # and the test can fail: without redaction the secrets are there
    raw = mine([path], MineConfig(min_score=0.0, rows=RowConfig(redact=False)))
    raw_text = json.dumps(raw.rows)
    assert all(secret in raw_text for secret in SECRETS.values())


def test_the_cli_json_summary_and_rows_are_clean(tmp_path):
    path = _session(tmp_path)
    out = tmp_path / "rows.jsonl"
    res = CliRunner().invoke(app, ["traces", "mine", str(path), "--out", str(out),
                                   "--min-score", "0", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    _assert_clean(res.stdout)
    _assert_clean(out.read_text())
    assert summary["kept"] == 2 and summary["written"] == 2 and summary["redacted"] is True
    assert summary["malformed"][0]["line"] == 10
    assert summary["malformed"][0]["reason"].startswith("truncated JSON")


def test_source_file_paths_are_redacted():
    ep = Episode("/home/alice/sessions/s.jsonl", "fix the failing build in the repo now", "u1",
                 1, 3, ("Working directory: /Users/alice/w",),
                 (Diagnostic("tool_error", "boom", "r1", 2, "bash", "make", 2,
                             "build_lint_compile"),), 1, False)
    row = make_row(ep, score_episode(ep))
    assert row["source"]["file"] == "/home/<user>/sessions/s.jsonl"
    assert "alice" not in json.dumps(row)


def test_min_score_top_and_dedupe(pi_fixtures, tmp_path):
    # a copy of the branches session repeats both of its prompts: one row per prompt survives
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes((pi_fixtures / "v3_branches.jsonl").read_bytes())
    result = mine([pi_fixtures, copy], MineConfig(min_score=0.0))
    s = result.summary
    assert (s.sessions, s.episodes, s.eligible, s.duplicates_dropped, s.kept) == (4, 8, 7, 2, 5)
    assert [r["score"] for r in result.rows] == [10.2, 9.8, 8.4, 7.0, 6.3]
    assert (s.score_min, s.score_max) == (6.3, 10.2)
    assert s.categories == {"build_lint_compile": 1, "missing_file_or_command": 1,
                            "permission_auth": 1, "test_or_assertion": 2,
                            "tool_schema_validation": 2, "user_feedback": 1}
    kept = mine([pi_fixtures], MineConfig(min_score=8.0, top=2))
    assert [r["score"] for r in kept.rows] == [10.2, 9.8]
    assert kept.summary.above_min_score == 3
    with pytest.raises(ValueError, match="top must be >= 1"):
        MineConfig(top=0)


def test_cli_table_patterns_and_errors(pi_fixtures, tmp_path):
    patterns = tmp_path / "p.yaml"
    patterns.write_text("shadow_file:\n  weight: 9\n  patterns: ['/etc/shadow']\n")
    out = tmp_path / "rows.jsonl"
    runner = CliRunner()
    res = runner.invoke(app, ["traces", "mine", str(pi_fixtures), "--out", str(out),
                              "--patterns", str(patterns), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["categories"]["shadow_file"] == 1
    assert summary["score_max"] == 1.4 + 2.5 + 9.0 + 2.0  # the compaction fixture's first episode
    res = runner.invoke(app, ["traces", "mine", str(pi_fixtures), "--out", str(out)])
    assert res.exit_code == 0 and "malformed lines" in res.stdout and "kept" in res.stdout
    assert "v3_compaction.jsonl line 5: two JSON values on one line" in res.stdout
    help_text = runner.invoke(app, ["traces", "mine", "--help"]).stdout
    assert "assay traces mine ../shared/data/pi-sessions --out rows.jsonl" in help_text


def test_pruning_under_top_keeps_the_same_best_rows(tmp_path):
    lines = [{"type": "session", "version": 3, "id": "s", "timestamp": "t", "cwd": "/tmp"}]
    parent = None
    for i in range(200):
        words = " ".join(["word"] * (5 + i % 150 % 23))  # prompt points vary; every prompt
        prompt = f"task {i % 150} {words}"            # from i = 150 on repeats an earlier one
        lines += [
            {"type": "message", "id": f"u{i}", "parentId": parent,
             "message": {"role": "user", "content": prompt}},
            {"type": "message", "id": f"r{i}", "parentId": f"u{i}", "message": {
                "role": "toolResult", "toolCallId": "x", "toolName": "bash", "isError": True,
                "content": [{"type": "text", "text": "Command exited with code 1"}]}}]
        parent = f"r{i}"
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in lines) + "\n")
    full = mine([path], MineConfig(min_score=0.0))
    top = mine([path], MineConfig(min_score=0.0, top=3))
    assert full.summary.kept == 150 and full.summary.duplicates_dropped == 50
    assert top.rows == full.rows[:3]
    assert top.summary.above_min_score == full.summary.above_min_score == 200
