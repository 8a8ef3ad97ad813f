"""The openai backend against hostile servers: over-size bodies fail their request with the reason,
a server echoing the Authorization header leaves the key in no file, and credentials in a model
spec's URL are parsed with urllib, sent as Basic auth and never echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.errors import AssayError
from assay.models import Decoding, Request
from assay.models.openai import MAX_RESPONSE_BYTES, OpenAIBackend, response_limit
from assay.models.spec import parse_labeled, parse_spec
from assay.run import EvalConfig, evaluate
from assay.testing import FakeOpenAIServer

FIXTURES = Path(__file__).parent.parent / "fixtures"
KEY = "sk-" + "live-" + "Hx7Kq2Lm9Pn4Rs8Tv3Wz6Yb1"


def _requests(n, max_tokens=16):
    return [Request(key=f"k{i}", messages=({"role": "user", "content": f"q{i}"},),
                    decoding=Decoding(max_tokens=max_tokens), item_id=str(i), pass_="original",
                    sample=None, prompt_hash=f"h{i}") for i in range(n)]


def _run(backend, requests):
    done = {}
    backend.generate(requests, lambda r, c: done.__setitem__(r.key, c))
    return done


def test_response_limit_follows_max_tokens_up_to_a_ceiling():
    assert response_limit(Decoding(max_tokens=16)) == (64 << 10) + 16 * 64
    assert response_limit(Decoding(max_tokens=16, logprobs=True, top_logprobs=5)) > \
        response_limit(Decoding(max_tokens=16))
    assert response_limit(Decoding(max_tokens=10**9)) == MAX_RESPONSE_BYTES


def test_an_over_size_body_fails_that_request_with_the_reason():
    big = "x" * 3_000_000  # one "word": the fake server does not cut it at max_tokens
    with FakeOpenAIServer(lambda body: big if body["messages"][-1]["content"] == "q1"
                          else "fine") as srv:
        backend = OpenAIBackend(parse_spec(f"openai:m@{srv.base_url}"), max_retries=3)
        done = _run(backend, _requests(3))
    assert done["k0"].text == "fine" and done["k2"].text == "fine"
    err = done["k1"].error
    assert "over the size cap" in err and f"{response_limit(Decoding(max_tokens=16)):,}" in err
    assert done["k1"].attempts == 1  # not retried: the same server would send it again


def test_a_server_echoing_the_authorization_header_leaves_the_key_in_no_file(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.syspath_prepend(str(FIXTURES))
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"id": i, "question": f"q{i}", "answer": "yes"}) + "\n"
                            for i in range(4)))
    fault = lambda i, body: ({"status": 400 if body["messages"][-1]["content"] == "q1" else 500,
                              "echo_headers": True}
                             if body["messages"][-1]["content"] in ("q1", "q2") else None)
    with FakeOpenAIServer(fault=fault) as srv:
        cfg = EvalConfig(task="exact", task_module="exact_task", data=str(data),
                         models=[f"m=openai:m@{srv.base_url}"], out=str(tmp_path / "run"),
                         store=str(tmp_path / "store.sqlite"), max_retries=1,
                         max_errors=5)
        res = evaluate(cfg)
        assert srv.stats.headers[0]["authorization"] == f"Bearer {KEY}"  # the key was sent
    assert res.errors == 2
    errors = [json.loads(line)["error"] for line in (tmp_path / "run/items.jsonl").open()]
    assert any("<API_KEY>" in (e or "") for e in errors)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
            assert KEY[10:].encode() not in path.read_bytes(), path


def test_url_credentials_are_parsed_sent_as_basic_auth_and_never_echoed():
    spec = parse_spec("openai:org/model@http://bob:P@ss/w:rd@127.0.0.1:1/v1")
    assert spec.model == "org/model" and "P@ss" not in str(spec) and "<user>:***@" in str(spec)
    with FakeOpenAIServer() as srv:
        url = srv.base_url.replace("http://", "http://bob:P@ss/w:rd@")
        backend = OpenAIBackend(parse_spec(f"openai:m@{url}"))
        assert "P@ss" not in json.dumps(backend.identity())
        done = _run(backend, _requests(1))
        sent = srv.stats.headers[0]["authorization"]
    assert done["k0"].error is None and sent.startswith("Basic ")
    import base64

    assert base64.b64decode(sent.split()[1]).decode() == "bob:P@ss/w:rd"


@pytest.mark.parametrize("spec", ["openai:m@http://bob:S3cretPW@host:99999/v1",
                                  "openai:m@ftp://bob:S3cretPW@host/v1",
                                  "openai:m@http://bob:S3cretPW@/v1"])
def test_a_bad_spec_with_credentials_is_one_line_without_them(spec):
    with pytest.raises(AssayError) as exc:
        parse_labeled(f"base={spec}")
    message = str(exc.value)
    assert "S3cretPW" not in message and "\n" not in message.split(": model specs")[0]
    assert "Fix:" in message or "e.g." in message
