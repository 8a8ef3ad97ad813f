"""Secret and home-path redaction: every planted kind is replaced; ordinary text is kept."""

from __future__ import annotations

import pytest

from assay.text.redact import redact, redact_obj, redact_with_counts

# Built from pieces so no secret-looking literal sits in the repository.
OPENAI = "sk-" + "proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
OPENAI_OLD = "sk-" + "Zy9" * 12
ANTHROPIC = "sk-" + "ant-api03-" + "Q" * 30 + "-xyz"
GITHUB = "ghp_" + "a1B2" * 9
GITHUB_PAT = "github_pat_" + "11AAAA" * 6
GITHUB_OAUTH = "gho_" + "Z9y8" * 9
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
HF = "hf_" + "AbCdEfGhIj" * 3 + "kl"
SLACK = "xoxb-" + "1234567890-0987654321-" + "AbCdEfGhIjKl"
PRIVATE = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
           "-----END OPENSSH PRIVATE KEY-----")


@pytest.mark.parametrize("text, secret, placeholder", [
    (f"export OPENAI_API_KEY={OPENAI}", OPENAI, "<OPENAI_KEY>"),
    (f"key: {OPENAI_OLD}", OPENAI_OLD, "<OPENAI_KEY>"),
    (f"client = Anthropic(api_key='{ANTHROPIC}')", ANTHROPIC, "<ANTHROPIC_KEY>"),
    (f"git clone https://{GITHUB}@github.com/x/y", GITHUB, "<GITHUB_TOKEN>"),
    (f"token {GITHUB_PAT} and {GITHUB_OAUTH}", GITHUB_PAT, "<GITHUB_TOKEN>"),
    (f"token {GITHUB_PAT} and {GITHUB_OAUTH}", GITHUB_OAUTH, "<GITHUB_TOKEN>"),
    (f"aws_access_key_id = {AWS_ID}", AWS_ID, "<AWS_ACCESS_KEY>"),
    (f"HF_TOKEN={HF} huggingface-cli login", HF, "<HF_TOKEN>"),
    (f"SLACK_BOT={SLACK}", SLACK, "<SLACK_TOKEN>"),
    (f"prefix\n{PRIVATE}\nsuffix", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "<PRIVATE_KEY>"),
])
def test_vendor_tokens_are_replaced_by_named_placeholders(text, secret, placeholder):
    out = redact(text)
    assert secret not in out
    assert placeholder in out


@pytest.mark.parametrize("text, secret", [
    ("PASSWORD=hunter22", "hunter22"),
    ("DB_PASSWORD='correct horse'", "correct horse"),
    ("SECRET=x1y2z3w4", "x1y2z3w4"),
    ("MY_SERVICE_TOKEN=abcd-efgh-ijkl", "abcd-efgh-ijkl"),
    ('{"api_key": "k3y-v4lu3", "user": "bob"}', "k3y-v4lu3"),
    ("password: s3cr3tpass\nuser: bob", "s3cr3tpass"),
    ("apiKey: 'zzzz-1111'", "zzzz-1111"),
    ("curl -H 'Authorization: Bearer abc.def.ghi123' x", "abc.def.ghi123"),
    ('headers = {"Authorization": "token 0123456789abcdef"}', "0123456789abcdef"),
    ("use bearer eyJhbGciOiJIUzI1NiJ9abc in the header", "eyJhbGciOiJIUzI1NiJ9abc"),
    ("postgres://admin:pa55word@db.local/app", "pa55word"),
])
def test_generic_assignments_and_auth_headers_are_replaced(text, secret):
    out = redact(text)
    assert secret not in out
    assert "<SECRET>" in out or "<TOKEN>" in out or "<PASSWORD>" in out


def test_private_key_block_without_end_marker_is_cut_to_the_end():
    text = "key follows\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n(truncated)"
    assert redact(text) == "key follows\n<PRIVATE_KEY>"


def test_home_paths_keep_their_shape():
    text = ("cd /Users/badlogic/workspaces/pi-mono && cat /home/alice/.bashrc ~bob/notes.txt "
            "C:\\Users\\carol\\repo ~/x --Users-badlogic-workspaces-pi-mono--")
    out = redact(text)
    assert out == ("cd /Users/<user>/workspaces/pi-mono && cat /home/<user>/.bashrc "
                   "~<user>/notes.txt C:\\Users\\<user>\\repo ~/x "
                   "--Users-<user>-workspaces-pi-mono--")
    for name in ("badlogic", "alice", "bob", "carol"):
        assert name not in out


def test_ordinary_text_and_code_are_kept():
    text = ('monkey: banana\nmax_tokens=512\n{"tokensBefore": 175004}\n'
            "const apiKey = options.apiKey;\ntoken = getToken()\n/usr/home/x /var/folders/ab")
    assert redact(text) == text


def test_counts_and_idempotence():
    text = f"{OPENAI} {GITHUB} PASSWORD=hunter22 /home/alice/x /home/bob/y"
    result = redact_with_counts(text)
    assert result.counts == {"openai_key": 1, "github_token": 1, "assignment": 1, "home_path": 2}
    assert result.total == 5
    assert redact(result.text) == result.text


def test_redact_obj_walks_nested_structures_and_rejects_non_text():
    obj = {"a": [f"x {HF}", {"b": "/home/zed/q"}], "n": 3, "t": (OPENAI,)}
    assert redact_obj(obj) == {"a": ["x <HF_TOKEN>", {"b": "/home/<user>/q"}], "n": 3,
                               "t": ["<OPENAI_KEY>"]}
    with pytest.raises(ValueError, match="text must be a str"):
        redact_with_counts(b"bytes")


def test_ordinary_trace_text_is_not_over_redacted():
    sha = "3f0c1b7e9a2d4c6b8e0f1a3c5d7e9b1a2c4d6e8f"  # a git commit: 40 lower-case hex
    text = (f"commit {sha}\ndocker run -p 8080:80 app\nall tests pass now\n"
            "/usr/lib/python3/dist-packages/setuptools/__init__.py\nmax_tokens=512\n"
            "the password reset link\ntokenizer = AutoTokenizer.from_pretrained(name)\n"
            "see https://github.com/org/repo/pull/12 and user@example.com")
    assert redact(text) == text


def test_home_root_and_extra_paths_become_placeholders(monkeypatch):
    monkeypatch.setenv("HOME", "/srv/homes/zed")
    text = "open /srv/homes/zed/.ssh/id_rsa, /root/.netrc and /work/proj/app.py; /rooted stays"
    out = redact(text, {"/work/proj": "<cwd>"})
    assert out == "open <home>/.ssh/id_rsa, <home>/.netrc and <cwd>/app.py; /rooted stays"


@pytest.mark.parametrize("text, secret", [
    ("mongodb://app:p@ss@w0rd@db:27017/x", "ss@w0rd"),
    ("redis://:r3dis-pw@cache:6379", "r3dis-pw"),
    ("curl --user admin:Adm1nPw https://x", "Adm1nPw"),
    ("Set-Cookie: sid=Q2w3E4r5T6y7; HttpOnly", "Q2w3E4r5T6y7"),
    ("# passwd: Sh3ll-C0mment", "Sh3ll-C0mment"),
    ('{"env": "A=1\\nsk-' + 'proj-' + 'Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8"}', "Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8"),
])
def test_credentials_in_urls_commands_cookies_and_escaped_json(text, secret):
    assert secret not in redact(text)
