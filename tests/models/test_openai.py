"""The OpenAI-compatible backend against a loopback server: concurrency, retries, Retry-After,
faults recorded per request, replicas, logprobs, and the API key only ever in a header."""

from __future__ import annotations

import time

import pytest

from assay.models import Decoding, Request, make_backend, parse_spec
from assay.testing import FakeOpenAIServer


def _requests(n, **dec):
    return [Request(key=f"k{i}", messages=({"role": "user", "content": f"q{i}"},),
                    decoding=Decoding(**dec), item_id=str(i)) for i in range(n)]


def _run(spec, requests, **opts):
    backend = make_backend(parse_spec(spec), **opts)
    done = {}
    backend.generate(requests, lambda r, c: done.__setitem__(r.key, c))
    return done


def test_concurrency_is_bounded_and_used():
    with FakeOpenAIServer(latency_s=0.05) as srv:
        done = _run(f"openai:m@{srv.base_url}", _requests(60), concurrency=8)
    assert len(done) == 60 and all(c.error is None for c in done.values())
    assert srv.stats.max_in_flight == 8
    assert srv.stats.requests == 60


def test_request_body_carries_decoding():
    with FakeOpenAIServer() as srv:
        _run(f"openai:m@{srv.base_url}", _requests(1, max_tokens=7, seed=3, logprobs=True,
                                                    top_logprobs=2), concurrency=1)
    body = srv.stats.bodies[0]
    assert body["model"] == "m" and body["max_tokens"] == 7 and body["seed"] == 3
    assert body["temperature"] == 0.0 and body["logprobs"] is True and body["top_logprobs"] == 2


def test_retries_on_5xx_malformed_and_dropped_connections():
    faults = {0: {"status": 500}, 1: {"malformed": True}, 2: {"drop": True}, 3: {"status": 503}}
    with FakeOpenAIServer(fault=lambda i, body: faults.get(i)) as srv:
        done = _run(f"openai:m@{srv.base_url}", _requests(1), concurrency=1, backoff_s=0.01)
    c = done["k0"]
    assert c.error is None and c.text.startswith("answer")
    assert c.attempts == 5 and srv.stats.requests == 5


def test_retry_after_is_honoured():
    fault = lambda i, body: {"status": 429, "headers": {"Retry-After": "1"}} if i == 0 else None
    with FakeOpenAIServer(fault=fault) as srv:
        start = time.perf_counter()
        done = _run(f"openai:m@{srv.base_url}", _requests(1), concurrency=1, backoff_s=0.001)
        waited = time.perf_counter() - start
    assert done["k0"].error is None and done["k0"].attempts == 2
    assert waited >= 1.0


def test_client_errors_are_not_retried_and_are_recorded():
    with FakeOpenAIServer(fault=lambda i, body: {"status": 400}) as srv:
        done = _run(f"openai:m@{srv.base_url}", _requests(2), concurrency=2)
    assert srv.stats.requests == 2
    assert all(c.error.startswith("HTTP 400") for c in done.values())


def test_persistent_failure_ends_in_an_error_after_the_retry_budget():
    with FakeOpenAIServer(fault=lambda i, body: {"status": 502}) as srv:
        done = _run(f"openai:m@{srv.base_url}", _requests(1), concurrency=1, max_retries=2,
                    backoff_s=0.001)
    assert srv.stats.requests == 3
    assert "HTTP 502" in done["k0"].error and "after 3 attempts" in done["k0"].error


def test_unreachable_server_is_an_error_not_a_crash():
    done = _run("openai:m@http://127.0.0.1:9/v1", _requests(1), concurrency=1, max_retries=1,
                backoff_s=0.001)
    assert done["k0"].error is not None


def test_replicas_share_the_load():
    with FakeOpenAIServer(latency_s=0.02) as a, FakeOpenAIServer(latency_s=0.02) as b:
        done = _run(f"openai:m@{a.base_url},{b.base_url}", _requests(40), concurrency=8)
    assert len(done) == 40
    assert a.stats.requests >= 10 and b.stats.requests >= 10
    assert a.stats.requests + b.stats.requests == 40


def test_logprobs_and_truncation_are_returned():
    lp = [{"token": "ACCEPT", "logprob": -0.1, "top_logprobs": []}]
    responder = lambda body: {"text": "one two three four", "logprobs": lp}
    with FakeOpenAIServer(responder) as srv:
        done = _run(f"openai:m@{srv.base_url}", _requests(1, max_tokens=2, logprobs=True))
    c = done["k0"]
    assert c.logprobs == lp and c.finish_reason == "length" and c.truncated
    assert c.text == "one two"


def test_api_key_goes_in_the_header_only(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test-123456")
    with FakeOpenAIServer() as srv:
        backend = make_backend(parse_spec(f"openai:m@{srv.base_url}"), api_key_env="MY_KEY")
        backend.generate(_requests(1), lambda r, c: None)
    assert srv.stats.headers[0]["authorization"] == "Bearer sk-test-123456"
    assert "sk-test" not in repr(backend.identity())


def test_identity_distinguishes_model_and_base_url():
    ids = {repr(make_backend(parse_spec(s)).identity()) for s in
           ["openai:a@http://h:1/v1", "openai:b@http://h:1/v1", "openai:a@http://h:2/v1"]}
    assert len(ids) == 3


@pytest.mark.parametrize("bad", ["openai:m", "openai:@http://x", "foo:bar", "hf:", "openai:m@ftp://x",
                                 "hf:base+"])
def test_bad_specs_show_the_syntax(bad):
    from assay.errors import AssayError

    with pytest.raises(AssayError, match="openai:MODEL@BASE_URL|http://"):
        parse_spec(bad)
