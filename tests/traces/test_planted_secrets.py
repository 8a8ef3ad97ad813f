"""Redaction that holds: 40+ secret kinds planted in every field of a pi session file (user, assistant
and thinking text, tool-call arguments, tool results, bash executions, summaries, labels, the
file's own path under $HOME, the cwd, a malformed line, and regions that clipping cuts) reach
neither rows.jsonl nor the `--json` summary, not even as a fragment."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.text.redact import redact
from assay.traces import MineConfig, RowConfig, mine, write_rows


def _k(*parts: str) -> str:
    """Built from pieces so no secret-looking literal sits in the repository."""
    return "".join(parts)


# kind -> (text as it appears in a session, the secret parts that must not survive)
PLANTED: dict[str, tuple[str, tuple[str, ...]]] = {}


def _plant(kind: str, text: str, *secrets: str) -> None:
    PLANTED[kind] = (text, secrets or (text,))


_plant("openai_project", _k("sk-", "proj-", "Qw7Er8Ty9Ui0Op1As2Df3Gh4Jk5L"))
_plant("openai_legacy", _k("sk-", "Lm4Nb5Vc6Xz7Lk8Jh9Gf0Ds1Aq2Wq3"))
_plant("anthropic", _k("sk-", "ant-api03-", "Zx9Cv8Bn7Mm6Qq5Ww4Ee3Rr2Tt1Yy0Uu"))
_plant("stripe_live", _k("sk_", "live_", "51HbQx2LkPz8Rt6Wv4Ym"))
_plant("stripe_restricted", _k("rk_", "live_", "51JcRy3MlQa9Su7Xw5Zn"))
_plant("google_api", _k("AIza", "SyD4f5G6h7J8k9L0z1X2c3V4b5N6m7Q8w9E"))
_plant("google_oauth", _k("ya29.", "a0AfH6SMBx7Yq2Lk9Pz3Rt8Wv"))
_plant("gitlab", _k("glpat-", "Xy7Kq2Lm9Pn4Rs8Tv3Wz"))
_plant("npm", _k("npm_", "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2"))
_plant("pypi", _k("pypi-", "AgEIcHlwaS5vcmc", "CJDk2ZjYtNzQ5MS00YjQ2LWI4ZmUtYzE0Mjg"))
_plant("github_classic", _k("ghp_", "Hj8Kl9Zx0Cv1Bn2Mq3Wr4Et5Yu6Io7Pa8Sd"))
_plant("github_fine_grained", _k("github_pat_", "11ABCDEFG0", "Xq9Wz8Lp7Mn6Bv5"))
_plant("github_oauth", _k("gho_", "Pq1Wr2Et3Yu4Io5As6Df7Gh8Jk9Lz0Xc1Vb"))
_plant("aws_access_key", _k("AKIA", "QWERTYUIOPASDFGH"))
_plant("aws_secret_bare", _k("wJalrXUtnFEMI", "/K7MDENG/bPxRfiCY9XAMPLEKEY"))
_plant("hex_key_bare", _k("9f8e7d6c5b4a3928", "1706f5e4d3c2b1a0"))
_plant("huggingface", _k("hf_", "RtYuIoPaSdFgHjKlZxCvBnMqWe"))
_plant("slack_bot", _k("xoxb-", "2048204820-4096409640-", "QxWzErTyUiOp"))
_plant("slack_user", _k("xoxp-", "1357913579-2468024680-", "AsDfGhJkLzXc"))
_plant("slack_webhook", _k("https://hooks.slack.com/services/", "T0AAAAAA/B0BBBBBB/",
                           "Zq8Xw7Ce6Vr5Bt4Ny3Mu2"), "Zq8Xw7Ce6Vr5Bt4Ny3Mu2")
_plant("discord_webhook", _k("https://discord.com/api/webhooks/", "123456789012/",
                             "Pl0Ok9Ij8Uh7Yg6Tf5Rd4Es3"), "Pl0Ok9Ij8Uh7Yg6Tf5Rd4Es3")
_plant("twilio", _k("SK", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"))
_plant("sendgrid", _k("SG.", "Nq2Wr4Ty6Ui8Op0As2Df", ".", "Gh4Jk6Lz8Xc0Vb2Nm4Qw6Er8Ty"))
_plant("azure_client_secret", _k("abc", "8Q~", "Zx7Cv6Bn5Mm4Qq3Ww2Ee1Rr0Tt9Yy8Uu7I"))
_plant("jwt", _k("eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", ".",
                 "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV"))
_plant("digitalocean", _k("dop_v1_", "a" * 8, "0123456789abcdef" * 3, "b" * 8),
       _k("0123456789abcdef" * 3))
_plant("databricks", _k("dapi", "0123456789abcdef0123456789abcdef"))
_plant("telegram", _k("1234567890:", "AA", "Hx9Kq2Lm7Pn4Rs8Tv3Wz6Yb1Cd5Ef0Gh3Jk"))
_plant("mailgun", _k("key-", "3a6f9c0d2b4e8f1a7c5d3e9b0a2f4c6d"))
_plant("rsa_private_key", _k("-----BEGIN RSA ", "PRIVATE KEY-----\n",
                             "MIIEowIBAAKCAQEAx7Yq2Lk9Pz3Rt8Wv5Nm1Qa4Sd6Fg8Hj0Kl2Zx4Cv6Bn8Mq\n",
                             "Rt8Wv5Nm1Qa4Sd6Fg8Hj0Kl2Zx4Cv6Bn8MqMIIEowIBAAKCAQEAx7Yq2Lk9Pz3\n",
                             "-----END RSA ", "PRIVATE KEY-----"),
       "MIIEowIBAAKCAQEAx7Yq2Lk9Pz3Rt8Wv5Nm1Qa4Sd6Fg8Hj0Kl2Zx4Cv6Bn8Mq",
       "Rt8Wv5Nm1Qa4Sd6Fg8Hj0Kl2Zx4Cv6Bn8MqMIIEowIBAAKCAQEAx7Yq2Lk9Pz3")
_plant("openssh_private_key", _k("-----BEGIN OPENSSH ", "PRIVATE KEY-----\n",
                                 "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMw\n",
                                 "-----END OPENSSH ", "PRIVATE KEY-----"),
       "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMw")
_plant("redis_url", "redis://:Rd1sP4ssW0rd@cache.internal:6379/0", "Rd1sP4ssW0rd")
_plant("mongodb_at_in_password", "mongodb://app:Mg0p@ss@W0rd!@db.internal:27017/app",
       "Mg0p@ss@W0rd!", "ss@W0rd!")
_plant("url_password_with_slash", "https://deploy:Sl4sh/Pa55/w0rd@git.internal/repo.git",
       "Sl4sh/Pa55/w0rd", "Pa55/w0rd")
_plant("curl_user", "curl -u admin:Cu7lP4ssw0rd https://api.internal/v1", "Cu7lP4ssw0rd")
_plant("cookie_header", "Cookie: session=Ck9Xq2Lm7Pn4Rs8Tv3; csrftoken=Cs2Rf5Tg8Yh1Uj4",
       "Ck9Xq2Lm7Pn4Rs8Tv3", "Cs2Rf5Tg8Yh1Uj4")
_plant("db_pass", "DB_PASS=Db9Pa55Val", "Db9Pa55Val")
_plant("pgpassword", "PGPASSWORD=Pg7Secr3tVal psql -h db", "Pg7Secr3tVal")
_plant("password_in_prose", "my password is Hunt3r-Pr0se ok", "Hunt3r-Pr0se")
_plant("password_in_shell_comment", "# pw: Sh3llC0mm3nt!", "Sh3llC0mm3nt!")
_plant("bearer_header", "Authorization: Bearer Br3arerT0kenValue.Xyz", "Br3arerT0kenValue.Xyz")
_plant("secret_assignment", "export API_SECRET=As5ecr3tV4lue", "As5ecr3tV4lue")
_plant("token_assignment", "MY_SERVICE_TOKEN=Tk-9a8b-7c6d-5e4f", "Tk-9a8b-7c6d-5e4f")
_plant("json_api_key", '{"api_key": "Js0nK3yV4lue99"}', "Js0nK3yV4lue99")
_plant("entropy_near_keyword", "the deploy key is Q9wE8rT7yU6iO5pA4sD3", "Q9wE8rT7yU6iO5pA4sD3")

ALL = "\n".join(text for text, _ in PLANTED.values())
CWD = "/srv/zeduser-work/projectx"


def _clipped(secret_text: str, at: int) -> str:
    """A long output with the secrets starting just before position ``at`` (a clip boundary)."""
    return "x" * (at - 10) + " " + secret_text + " " + "y" * 9000 + "\nCommand exited with code 1"


def _session(home, tmp_path):
    user_parts = [{"type": "text", "text": f"fix the deploy, here is everything:\n{ALL}"}]
    call_args = {"command": f"deploy.sh {ALL}", "env": ALL}
    lines = [
        {"type": "session", "version": 3, "id": "s", "timestamp": "t", "cwd": CWD},
        {"type": "session_info", "id": "i0", "parentId": None, "name": ALL},
        {"type": "message", "id": "u1", "parentId": "i0", "message": {"role": "user",
         "content": user_parts}},
        {"type": "message", "id": "a1", "parentId": "u1", "message": {"role": "assistant",
         "content": [{"type": "thinking", "thinking": ALL}, {"type": "text", "text": ALL},
                     {"type": "toolCall", "id": "t1", "name": "bash", "arguments": call_args},
                     {"type": "toolCall", "id": "t2", "name": "read",
                      "arguments": {"path": f"{CWD}/.env {ALL}"}},
                     {"type": "toolCall", "id": "t3", "name": "deploy",
                      "arguments": {"token": ALL, "n": 1}}]}},
        {"type": "message", "id": "r1", "parentId": "a1", "message": {
            "role": "toolResult", "toolCallId": "t1", "toolName": "bash", "isError": True,
            "details": {"stderr": ALL},
            "content": [{"type": "text", "text": f"{ALL}\nCommand exited with code 1"}]}},
        {"type": "message", "id": "r2", "parentId": "r1", "message": {
            "role": "toolResult", "toolCallId": "t2", "toolName": "read", "isError": True,
            "content": [{"type": "text", "text": _clipped(ALL, 2666)}]}},
        {"type": "message", "id": "r3", "parentId": "r2", "message": {
            "role": "toolResult", "toolCallId": "t3", "toolName": "deploy", "isError": True,
            "content": [{"type": "text", "text": _clipped(ALL, 1200 * 2 // 3)}]}},
        {"type": "message", "id": "b1", "parentId": "r3", "message": {
            "role": "bashExecution", "command": f"env | grep {ALL}", "output": ALL,
            "exitCode": 2, "cancelled": False}},
        {"type": "compaction", "id": "c1", "parentId": "b1", "summary": f"Earlier: {ALL}",
         "tokensBefore": 1},
        {"type": "branch_summary", "id": "c2", "parentId": "c1", "fromId": "u1",
         "summary": f"Branch: {ALL}"},
        {"type": "custom_message", "id": "m1", "parentId": "c2", "customType": "x",
         "content": ALL, "display": True},
        {"type": "label", "id": "l1", "parentId": "m1", "targetId": "u1", "label": ALL},
        {"type": "message", "id": "u2", "parentId": "l1", "message": {"role": "user",
         "content": f"no, that's wrong, use these instead:\n{ALL}"}},
        {"type": "message", "id": "a2", "parentId": "u2", "message": {"role": "assistant",
         "content": [{"type": "toolCall", "id": "t4", "name": "bash",
                      "arguments": {"command": f"cat {home}/.netrc"}}]}},
        {"type": "message", "id": "r4", "parentId": "a2", "message": {
            "role": "toolResult", "toolCallId": "t4", "toolName": "bash", "isError": True,
            "content": [{"type": "text", "text": f"cat: {home}/.netrc: Permission denied\n"
                         f"{ALL}\nCommand exited with code 1"}]}},
    ]
    folder = home / "sessions" / "--srv-zeduser-work-projectx--"
    folder.mkdir(parents=True)
    path = folder / "s.jsonl"
    text = "\n".join(json.dumps(o) for o in lines) + "\n"
    path.write_text(text + '{"type": "label", "id": "zz", "note": ' + json.dumps(ALL) + "\n")
    return path


def _fragments(secret: str, width: int = 12) -> list[str]:
    if len(secret) <= width:
        return [secret]
    return [secret[i:i + width] for i in range(0, len(secret) - width + 1, 3)]


def _leaks(text: str) -> dict[str, str]:
    found = {}
    for kind, (_, secrets) in PLANTED.items():
        for secret in secrets:
            frag = next((f for f in _fragments(secret) if f in text), None)
            if frag:
                found[kind] = frag
    return found


@pytest.fixture
def planted(tmp_path, monkeypatch):
    home = tmp_path / "zedhome"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home, _session(home, tmp_path)


def test_at_least_35_kinds_are_planted():
    assert len(PLANTED) >= 35


def test_each_kind_alone_is_redacted():
    leaks = {k: f for k, (text, _) in PLANTED.items() for f in [_leaks(redact(text)).get(k)] if f}
    assert not leaks


def test_no_planted_secret_reaches_rows_and_paths_are_placeholders(planted, tmp_path):
    home, path = planted
    result = mine([path], MineConfig(min_score=0.0))
    assert result.rows and result.summary.malformed_lines == 1
    out = tmp_path / "rows.jsonl"
    write_rows(result.rows, out)
    text = out.read_text()
    assert not _leaks(text)
    assert str(home) not in text and "zeduser" not in text and CWD not in text
    assert "<home>/sessions/" in text and "Working directory: <cwd>" in text
    summary = json.dumps(result.summary.to_dict())
    assert not _leaks(summary) and str(home) not in summary
    # the test can fail: without redaction every kind is there
    raw = json.dumps(mine([path], MineConfig(min_score=0.0, rows=RowConfig(redact=False))).rows)
    assert set(_leaks(raw)) >= set(PLANTED) - {"entropy_near_keyword"}


def test_the_cli_json_summary_and_rows_are_clean(planted, tmp_path):
    home, path = planted
    out = tmp_path / "rows.jsonl"
    res = CliRunner().invoke(app, ["traces", "mine", str(path), "--out", str(out),
                                   "--min-score", "0", "--json"])
    assert res.exit_code == 0, res.output
    assert not _leaks(res.stdout) and not _leaks(out.read_text())
    assert str(home) not in res.stdout and json.loads(res.stdout)["kept"] >= 1
