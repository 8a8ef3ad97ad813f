"""OpenAI-compatible chat backend (vLLM, Ollama, SGLang, hosted APIs) over aiohttp.

aiohttp rather than httpx: on a loopback server with 50 ms latency and 32 requests in flight,
httpx 0.28 took 10.6 s for 1,000 requests where aiohttp took 1.77 s and a bare asyncio client
1.69 s (bench/bench_eval.py).

Bounded concurrency (one semaphore per model), a keep-alive connection pool, per-request timeouts,
retries with exponential backoff and full jitter on connection errors, timeouts, 429, 5xx and
malformed responses, honouring ``Retry-After``; each retry and wait is reported, with its reason,
to the caller's ``on_retry``. A preflight (``GET /v1/models``) fails fast, naming the cause, when
a URL refuses connections, the key is refused or the model is not served; a server without that
endpoint is checked by its first request instead. Several base URLs spread the load: each request
goes to the replica with the fewest requests in flight. The API key is read from the environment
at start-up and only ever sent in the Authorization header: it is not part of the identity, the
store, the manifest or any log.

This module never imports torch.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import AssayError
from ._types import Completion, Decoding, Request
from .ratelimit import RateLimiter, estimate_tokens
from .spec import ModelSpec, mask_url

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# A chat completion of a few hundred tokens on a loaded server takes seconds to a minute; two
# minutes names a stuck request long before 6 attempts x 300 s (30 min) would.
DEFAULT_TIMEOUT_S = 120.0
PREFLIGHT_TIMEOUT_S = 10.0

# The response-size cap: a chat completion of max_tokens tokens is far smaller than this, so a
# bigger body is a broken or hostile server (100 MB bodies took 1.5 GB of memory), and it fails
# its request instead of filling memory. Per token: its text JSON-escaped (\uXXXX is 6 bytes a
# character) with room to spare; with logprobs, each alternative's entry (token, bytes, logprob).
BASE_RESPONSE_BYTES = 64 << 10
BYTES_PER_TOKEN = 64
BYTES_PER_LOGPROB = 512
MAX_RESPONSE_BYTES = 64 << 20  # the absolute ceiling, whatever max_tokens says
ERROR_BODY_CHARS = 300  # a server's error body is kept (redacted) up to this length


def response_limit(decoding: Decoding) -> int:
    """The most bytes a response to ``decoding`` may have before it fails as over-size."""
    per_token = BYTES_PER_TOKEN
    if decoding.logprobs:
        per_token += BYTES_PER_LOGPROB * (decoding.top_logprobs + 1)
    return min(MAX_RESPONSE_BYTES, BASE_RESPONSE_BYTES + max(decoding.max_tokens, 1) * per_token)


class _TooLarge(Exception):
    pass


async def _read_capped(resp, limit: int) -> bytes:
    """The body, or _TooLarge as soon as it passes ``limit`` bytes (never read past it)."""
    if resp.content_length is not None and resp.content_length > limit:
        raise _TooLarge(resp.content_length)
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise _TooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


class OpenAIBackend:
    """Async client for one model behind one or more OpenAI-compatible endpoints."""

    OPTIONS = {"concurrency", "api_key_env", "timeout_s", "max_retries", "backoff_s",
               "max_backoff_s", "extra_body", "rpm", "tpm"}

    def __init__(self, spec: ModelSpec, *, concurrency: int = 32,
                 api_key_env: str = "OPENAI_API_KEY", timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = 5, backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 extra_body: dict | None = None, rpm: float | None = None,
                 tpm: float | None = None, **_: Any):
        if concurrency < 1:
            raise AssayError(f"--concurrency must be at least 1 (got {concurrency})")
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and not value > 0:
                raise AssayError(f"--{name} must be positive (got {value}). Fix: give the "
                                 f"server's limit, e.g. --{name} {500 if name == 'rpm' else 200000}"
                                 ", or leave it out for no limit")
        self.limiter = RateLimiter(rpm, tpm)
        self.spec = spec
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.extra_body = dict(extra_body or {})
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None
        self._in_flight = {u: 0 for u in spec.base_urls}
        self._rng = random.Random(0)  # jitter only: never affects results
        self._served: dict | None = None
        self._listed: dict[str, tuple[int, bytes]] = {}  # url -> /models answer, for preflight

    def identity(self) -> dict[str, Any]:
        """What enters the cache key: never the API key.

        After ``fetch_served``, the model and what the servers report about it (the same on
        every replica), so replicas and ``localhost`` vs ``127.0.0.1`` share one cache. A server
        that reports nothing is known only by its URLs (loopback names made one)."""
        where = ({"served": self._served} if self._served is not None else
                 {"base_urls": sorted({normal_url(u) for u in self.spec.base_urls})})
        return {"backend": "openai", "model": self.spec.model, **where,
                "chat_template": "server", "extra_body": self.extra_body}

    def fetch_served(self) -> None:
        """Read this model's ``GET /models`` entry on every replica (vLLM reports ``root`` and
        ``parent``: the weights and the base of an adapter) into the identity; replicas that
        report different entries are refused. A replica that cannot be reached or says nothing
        leaves the identity by URL (the preflight names a dead URL)."""
        entries = {}
        for url in self.spec.base_urls:
            answer = _get_models(url, self._api_key)
            if answer is not None:
                self._listed[url] = answer
            entries[url] = _served_entry(answer, self.spec.model)
        distinct = {json.dumps(e, sort_keys=True) for e in entries.values()}
        if len(distinct) > 1:
            shown = "; ".join(f"{u} reports {json.dumps(e, sort_keys=True)}"
                              for u, e in entries.items())
            raise AssayError(f"the replicas of '{self.spec.model}' serve different models: "
                             f"{shown}. Fix: serve the same weights on every URL of the spec, "
                             "or give each server its own --model label")
        self._served = next(iter(entries.values()), None)
        digest = _ollama_digest(self.spec.base_urls[0], self.spec.model, self._api_key)
        if self._served is not None and digest is not None:
            self._served = {**self._served, "digest": digest}

    def generate(self, requests: Sequence[Request],
                 on_done: Callable[[Request, Completion], None]) -> None:
        """Send every request; call on_done(request, completion) as each one finishes."""
        if requests:
            asyncio.run(self.agenerate(requests, on_done))

    async def agenerate(self, requests: Sequence[Request],
                        on_done: Callable[[Request, Completion], None],
                        on_retry: Callable[[str], None] | None = None,
                        on_wait: Callable[[str], None] | None = None) -> None:
        """The same, inside a running event loop (the runner serves several models at once).

        on_retry(message) is called before each wait between attempts, with the reason and the
        wait, e.g. "HTTP 429 from URL, waiting 30 s as the server asked (attempt 1 of 6)".
        on_wait(message) is called when the rate limiter (--rpm, --tpm) holds a request, e.g.
        "rate limit (--rpm 120): waiting 0.5 s".
        """
        self._routes = {u: _route(u, self._api_key) for u in self.spec.base_urls}
        timeout = self._timeout(self.timeout_s, connect=10.0)
        sem = asyncio.Semaphore(self.concurrency)
        async with self._session(timeout, self.concurrency) as client:
            async def one(req: Request) -> None:
                async with sem:
                    completion = await self._complete(client, req, on_retry, on_wait)
                on_done(req, completion)

            tasks = [asyncio.create_task(one(r)) for r in requests]
            try:
                await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()

    def _timeout(self, total: float, connect: float):
        import aiohttp

        return aiohttp.ClientTimeout(total=total, sock_connect=min(connect, total))

    def _session(self, timeout, limit: int):
        import aiohttp  # here, not at the top: a fully cached rerun never needs it (0.25 s)

        # Plain-http replicas (a local vLLM) need no TLS context; building one costs 0.1 s.
        tls = any(u.startswith("https://") for u in self.spec.base_urls)
        connector = aiohttp.TCPConnector(limit=limit, keepalive_timeout=60,
                                         ssl=None if tls else False)
        # auth goes per request (_route): Basic from URL credentials, else the Bearer key
        return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=True)

    async def apreflight(self) -> None:
        """Fail fast when a URL is dead, the key is refused or the model is not served.

        ``GET {url}/models`` on every replica, with a short timeout. A server without that
        endpoint (or one that answers it oddly) passes: its first request shows the cause.
        """
        self._routes = {u: _route(u, self._api_key) for u in self.spec.base_urls}
        async with self._session(self._timeout(PREFLIGHT_TIMEOUT_S, 5.0), 4) as client:
            for url in self.spec.base_urls:
                await self._check_url(client, url)

    async def _check_url(self, client, url: str) -> None:
        import aiohttp

        endpoint, auth, headers = self._routes[url]
        listed = self._listed.get(url)
        url = mask_url(url)  # as it is shown: never with credentials
        try:
            if listed is not None:  # read by fetch_served moments ago
                status, raw = listed
            else:
                async with client.get(f"{endpoint}/models", auth=auth, headers=headers) as resp:
                    status, raw = resp.status, await _read_capped(resp, MAX_RESPONSE_BYTES)
        except asyncio.TimeoutError:
            raise AssayError(f"no answer from {url}/models within {PREFLIGHT_TIMEOUT_S:.0f} s. "
                             "Fix: check that the server is up and reachable from here") from None
        except _TooLarge:
            return  # an odd /models answer: the first request will show what is wrong
        except aiohttp.ClientError as exc:
            raise AssayError(f"{_cause(exc, url)}. Fix: start the server (e.g. `vllm serve "
                             f"{self.spec.model}`) or correct the URL in the --model spec") from None
        if status in (401, 403):
            raise AssayError(self._auth_message(status, url))
        served = _served_models(raw) if status == 200 else None
        if served and self.spec.model not in served:
            shown = ", ".join(served[:20]) + (", ..." if len(served) > 20 else "")
            raise AssayError(f"model '{self.spec.model}' not served at {url}; served: {shown}. "
                             "Fix: use one of these names in --model LABEL=openai:NAME@URL")

    def _auth_message(self, status: int, url: str) -> str:
        unset = "" if self._api_key else f" ({self.api_key_env} is not set)"
        return (f"HTTP {status} from {url}: check {self.api_key_env}{unset} (or the "
                f"--api-key-env variable). Fix: export {self.api_key_env}=YOUR_KEY, or name the "
                "variable that holds the key with --api-key-env")

    def _pick_url(self) -> str:
        low = min(self._in_flight.values())
        return next(u for u, n in self._in_flight.items() if n == low)

    def _body(self, req: Request) -> dict[str, Any]:
        return chat_body(self.spec.model, req, self.extra_body)

    async def _complete(self, client, req: Request,
                        on_retry: Callable[[str], None] | None = None,
                        on_wait: Callable[[str], None] | None = None) -> Completion:
        import aiohttp

        body = self._body(req)
        limit = response_limit(req.decoding)
        last_error = "no attempt made"
        attempts = self.max_retries + 1
        tokens = estimate_tokens(req.messages, req.decoding.max_tokens)
        for attempt in range(1, attempts + 1):
            if self.limiter.active:  # every attempt counts against the server's limit
                await self.limiter.acquire(tokens, on_wait)
            url = self._pick_url()
            shown = mask_url(url)
            self._in_flight[url] += 1
            start = time.perf_counter()
            asked = None
            try:
                endpoint, auth, headers = self._routes[url]
                async with client.post(f"{endpoint}/chat/completions", json=body, auth=auth,
                                       headers=headers) as resp:
                    status, retry_after = resp.status, resp.headers.get("retry-after")
                    raw = await _read_capped(resp, limit)
                latency = time.perf_counter() - start
                if status == 200:
                    try:
                        done = completion_of(json.loads(raw), latency, attempt)
                        self.limiter.settle(tokens, _used(done))
                        return done
                    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
                        last_error = f"malformed response from {shown}: {self._scrub(repr(exc))}"
                        wait = self._backoff(attempt)
                elif status in RETRY_STATUS:
                    last_error = f"HTTP {status} from {shown}: {self._error_text(raw)}"
                    asked = _retry_after(retry_after)
                    wait = self._backoff(attempt) if asked is None else asked
                    if asked is not None and self.limiter.active:
                        self.limiter.hold(asked)  # the server's limit holds every request
                elif status in (401, 403):
                    return Completion(error=self._auth_message(status, shown), attempts=attempt)
                else:
                    return Completion(error=f"HTTP {status} from {shown}: "
                                            f"{self._error_text(raw)}", attempts=attempt)
            except _TooLarge as exc:
                return Completion(error=f"response from {shown} is over the size cap: "
                                        f"{exc.args[0]:,} bytes or more, the cap is {limit:,} "
                                        f"for max_tokens {req.decoding.max_tokens} (at most "
                                        f"{MAX_RESPONSE_BYTES >> 20} MiB). Fix: check the "
                                        "server; a real completion is far smaller",
                                  attempts=attempt)
            except asyncio.TimeoutError:
                last_error = (f"no response from {shown} within {self.timeout_s:g} s "
                              "(--timeout-s; raise it for long completions)")
                wait = self._backoff(attempt)
            except aiohttp.ClientError as exc:
                last_error = self._scrub(_cause(exc, shown))
                wait = self._backoff(attempt)
            finally:
                self._in_flight[url] -= 1
            if attempt < attempts:
                wait = min(wait, self.max_backoff_s)
                if on_retry is not None:
                    why = " as the server asked" if asked is not None else ""
                    on_retry(f"{_short(last_error)}, waiting {_secs(wait)}{why} (attempt "
                             f"{attempt} of {attempts})")
                await asyncio.sleep(wait)
        return Completion(error=f"{last_error} (after {attempts} attempts)", attempts=attempts)

    def _scrub(self, text: str) -> str:
        """Server-sent or exception text as it may be stored: the API key masked (a server may
        echo the Authorization header), URL credentials masked, other secrets redacted."""
        from ..text.redact import redact

        if self._api_key and len(self._api_key) >= 8:
            text = text.replace(self._api_key, "<API_KEY>")
        for url in self.spec.base_urls:
            text = text.replace(url, mask_url(url))
        return redact(text)

    def _error_text(self, raw: bytes) -> str:
        """A server's error body as it is stored: scrubbed first, then cut (a cut must not keep
        half of a key that the scrub would have recognised whole)."""
        text = " ".join(self._scrub(raw[:1 << 16].decode("utf-8", "replace")).split())
        return text if len(text) <= ERROR_BODY_CHARS else text[:ERROR_BODY_CHARS] + "..."

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        cap = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, cap)


def chat_body(model: str, req: Request, extra_body: dict | None = None) -> dict[str, Any]:
    """The body of a chat-completions request (synchronous or in a batch's JSONL)."""
    d = req.decoding
    body: dict[str, Any] = {"model": model, "messages": list(req.messages),
                            "temperature": d.temperature, "max_tokens": d.max_tokens}
    if d.top_p != 1.0:
        body["top_p"] = d.top_p
    if d.seed is not None:
        body["seed"] = d.seed
    if d.logprobs:
        body["logprobs"] = True
        if d.top_logprobs:
            body["top_logprobs"] = d.top_logprobs
    body.update(extra_body or {})
    return body


def _cause(exc: Exception, url: str) -> str:
    """What went wrong talking to url, in the words a user searches for."""
    import errno

    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = getattr(exc, "os_error", None)
        if getattr(os_error, "errno", None) == errno.ECONNREFUSED or (
                "refused" in str(exc).lower()):
            return f"connection refused at {url}"
        if isinstance(os_error, OSError) and "name" in str(os_error).lower():
            return f"cannot resolve the host of {url} ({os_error})"
        return f"cannot connect to {url} ({os_error or exc})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"{url} closed the connection without answering"
    return f"{type(exc).__name__} talking to {url}: {exc}"


def _secs(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"


def _short(error: str) -> str:
    """The first part of an error, for a retry line (the body of a 5xx can be long)."""
    head = error.split(": ", 1)[0] if error.startswith("HTTP ") else error
    return head[:160]


# Fields of a /models entry that change on every call or say nothing about the weights.
_VOLATILE = {"created", "permission", "object"}


def normal_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.rstrip("/"))
    host = parts.hostname or ""
    if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        host = "loopback"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _get_models(url: str, api_key: str | None, what: str = "models"
                ) -> tuple[int, bytes] | None:
    """(status, body) of ``GET {url}/models`` (or ``/{what}``), or None when the server cannot
    be reached (the preflight then names the cause)."""
    import urllib.error
    import urllib.request

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/{what}", headers=headers),
                                    timeout=PREFLIGHT_TIMEOUT_S) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, ValueError):
        return None


def _ollama_digest(url: str, model: str, api_key: str | None) -> str | None:
    """The digest Ollama's native API reports for ``model`` (``GET /api/tags`` beside
    ``/v1``), or None where there is no such API: its /v1/models entry says nothing of the
    weights, and ``ollama pull`` replaces them under the same name."""
    if not url.endswith("/v1"):
        return None
    answer = _get_models(url[:-3] + "/api", api_key, "tags")
    try:
        tags = json.loads(answer[1])["models"] if answer and answer[0] == 200 else []
        names = {model, model + ":latest"}
        return next((str(t["digest"]) for t in tags if t.get("name") in names), None)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _served_entry(answer: tuple[int, bytes] | None, model: str) -> dict | None:
    """The /models entry for ``model`` without its volatile fields, or None."""
    if answer is None or answer[0] != 200:
        return None
    try:
        data = json.loads(answer[1])["data"]
    except (ValueError, KeyError, TypeError):
        return None
    entry = next((m for m in data if isinstance(m, dict) and m.get("id") == model), None)
    return None if entry is None else {k: v for k, v in entry.items() if k not in _VOLATILE}


def _served_models(raw: bytes) -> list[str] | None:
    """The model ids of a /models answer, or None when it is not the usual list."""
    try:
        data = json.loads(raw)["data"]
        return [str(m["id"]) for m in data]
    except (ValueError, KeyError, TypeError):
        return None


def _route(url: str, api_key: str | None):
    """(URL without credentials, BasicAuth from them or None, headers) for one base URL: URL
    credentials are sent as Basic auth, else the API key as a Bearer token (never both)."""
    import aiohttp
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, ({"Authorization": f"Bearer {api_key}"} if api_key else {})
    host = parts.netloc.rpartition("@")[2]
    auth = aiohttp.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=host)), auth, {}


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _used(c: Completion) -> int | None:
    """The tokens a completion used, as the server reported them (None when it did not)."""
    if c.prompt_tokens is None or c.completion_tokens is None:
        return None
    return c.prompt_tokens + c.completion_tokens


def completion_of(data: dict, latency: float, attempts: int) -> Completion:
    choice = data["choices"][0]
    text = choice["message"].get("content")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TypeError(f"message.content is {type(text).__name__}")
    usage = data.get("usage") or {}
    logprobs = (choice.get("logprobs") or {}).get("content")
    return Completion(text=text, finish_reason=choice.get("finish_reason"),
                      prompt_tokens=usage.get("prompt_tokens"),
                      completion_tokens=usage.get("completion_tokens"), latency_s=latency,
                      logprobs=logprobs, attempts=attempts)
