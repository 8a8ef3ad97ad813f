"""Bad input gives one line on stderr that names the file (and line) and the fix, exit 2, no
traceback: invalid UTF-8 (and --skip-invalid skips it), 100k-deep JSON, a 5,000-digit id, a store
that is not SQLite, truncated, a directory or read-only, and an --out that cannot be written
(checked before the first request)."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

from assay import cli
from assay.testing import FakeOpenAIServer

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = b'{"id": "ok", "question": "q", "answer": "yes"}\n'
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _eval(monkeypatch, capsys, tmp_path, data: Path, *extra: str, url="http://127.0.0.1:9/v1"):
    monkeypatch.syspath_prepend(str(FIXTURES))
    argv = ["assay", "eval", "exact", "--task-module", "exact_task", "--data", str(data),
            "--model", f"m=openai:m@{url}", "--out", str(tmp_path / "run"),
            "--store", str(tmp_path / "store.sqlite"), "--max-retries", "0", "--json", *extra]
    monkeypatch.setattr(sys, "argv", argv)
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line_error(code, err, *needles):
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "Fix:" in err
    for n in needles:
        assert n in err, err


def _data(tmp_path, first: bytes) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_bytes(first + GOOD)
    return path


def test_invalid_utf8_names_the_line_and_skip_invalid_skips_it(tmp_path, monkeypatch, capsys):
    data = _data(tmp_path, b'{"id": "bad", "question": "caf\xe9", "answer": "yes"}\n')
    code, _, err = _eval(monkeypatch, capsys, tmp_path, data)
    _one_line_error(code, err, f"{data}, line 1", "not valid UTF-8 (byte 0xe9", "--skip-invalid")
    with FakeOpenAIServer(lambda body: "yes") as srv:
        code, out, err = _eval(monkeypatch, capsys, tmp_path, data, "--skip-invalid",
                               url=srv.base_url)
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["data"]["skipped_invalid"] == 1 and manifest["data"]["n_items"] == 1


def test_invalid_utf8_in_a_json_array(tmp_path, monkeypatch, capsys):
    data = tmp_path / "items.json"
    data.write_bytes(b'[{"id": "a", "question": "\xff", "answer": "y"}]')
    code, _, err = _eval(monkeypatch, capsys, tmp_path, data)
    _one_line_error(code, err, str(data), "not valid UTF-8")


def test_deeply_nested_json(tmp_path, monkeypatch, capsys):
    deep = b'{"id": "deep", "question": ' + b"[" * 100_000 + b"]" * 100_000 + b', "answer": "y"}\n'
    code, _, err = _eval(monkeypatch, capsys, tmp_path, _data(tmp_path, deep))
    _one_line_error(code, err, "line 1", "nested too deeply")


def test_a_5000_digit_id(tmp_path, monkeypatch, capsys):
    huge = b'{"id": ' + b"7" * 5000 + b', "question": "q", "answer": "y"}\n'
    code, _, err = _eval(monkeypatch, capsys, tmp_path, _data(tmp_path, huge))
    _one_line_error(code, err, "line 1", "number too long", "as strings")
    assert len(err) < 600


@pytest.mark.parametrize("kind", ["not_sqlite", "truncated", "directory"])
def test_a_bad_store_fails_before_any_request(kind, tmp_path, monkeypatch, capsys):
    from assay.store import Store

    store = tmp_path / "store.sqlite"
    if kind == "not_sqlite":
        store.write_text("these are my notes, not a database\n" * 50)
    elif kind == "truncated":
        Store(store).close()
        store.write_bytes(store.read_bytes()[:5000])
    else:
        store.mkdir()
    data = _data(tmp_path, b"")
    with FakeOpenAIServer() as srv:
        code, _, err = _eval(monkeypatch, capsys, tmp_path, data, url=srv.base_url)
        assert srv.stats.requests == 0
    _one_line_error(code, err, str(store))


@pytest.mark.skipif(ROOT, reason="root writes read-only files; the check is exercised as a user")
def test_a_read_only_store(tmp_path, monkeypatch, capsys):
    from assay.store import Store

    store = tmp_path / "store.sqlite"
    Store(store).close()
    store.chmod(0o444)
    with FakeOpenAIServer() as srv:
        code, _, err = _eval(monkeypatch, capsys, tmp_path, _data(tmp_path, b""), url=srv.base_url)
        assert srv.stats.requests == 0
    _one_line_error(code, err, str(store), "writable")


def test_an_out_that_cannot_be_written_fails_before_the_first_request(tmp_path, monkeypatch,
                                                                      capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    data = _data(tmp_path, b"")
    with FakeOpenAIServer() as srv:
        monkeypatch.syspath_prepend(str(FIXTURES))
        for out in (blocker, blocker / "run"):  # --out is a file / --out cannot be made
            argv = ["assay", "eval", "exact", "--task-module", "exact_task", "--data", str(data),
                    "--model", f"m=openai:m@{srv.base_url}", "--out", str(out),
                    "--store", str(tmp_path / "s.sqlite")]
            monkeypatch.setattr(sys, "argv", argv)
            with pytest.raises(SystemExit) as exc:
                cli.main()
            _one_line_error(exc.value.code, capsys.readouterr().err, str(out), "--out")
        assert srv.stats.requests == 0


@pytest.mark.skipif(ROOT, reason="root writes read-only folders; the check is exercised as a user")
def test_a_read_only_out(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    with FakeOpenAIServer() as srv:
        monkeypatch.syspath_prepend(str(FIXTURES))
        argv = ["assay", "eval", "exact", "--task-module", "exact_task", "--data",
                str(_data(tmp_path, b"")), "--model", f"m=openai:m@{srv.base_url}", "--out",
                str(out), "--store", str(tmp_path / "s.sqlite")]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as exc:
            cli.main()
        assert srv.stats.requests == 0
    _one_line_error(exc.value.code, capsys.readouterr().err, "cannot write the run directory")


@pytest.mark.parametrize("code_, word", [(errno.EROFS, "Read-only"), (errno.ENOSPC, "space")])
def test_an_out_on_a_read_only_or_full_disk_fails_before_the_first_request(
        tmp_path, monkeypatch, capsys, code_, word):
    """As root, chmod cannot make a folder read-only, so the disk's refusal is injected where
    assay probes --out (the same OSError a read-only mount or a full disk raises)."""
    real = Path.write_bytes

    def refuse(self, data):
        if ".assay-write-check" in self.name:
            raise OSError(code_, os.strerror(code_), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", refuse)
    with FakeOpenAIServer() as srv:
        code, _, err = _eval(monkeypatch, capsys, tmp_path, _data(tmp_path, b""),
                             url=srv.base_url)
        assert srv.stats.requests == 0
    _one_line_error(code, err, "cannot write the run directory", word, "--out")
