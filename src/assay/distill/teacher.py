"""The teacher: a backend behind the eval's store, one request at a time, as the loop asks.

Every request is keyed like an eval request (the backend's identity, the decoding, the hash of
the exact messages and the sample index), looked up in the store first and journaled the moment
its completion arrives, so a killed run loses no finished completion and the same command again
sends only what is missing. A revision's messages contain the previous attempt's text, which the
store gives back identically on a rerun, so the whole chain is found again.

Served backends (``agenerate``) get one call per request, made inside the item's own chain the
moment its check fails, so chains pipeline and never wait for a round; one semaphore bounds the
requests in flight. (Sharing one call among the requests ready in the same event-loop turn was
measured slower: 2.6-3.0x a bare client against 1.8-1.9x, because it lines the chains up behind
each other's checks; the calls would need a long-lived session, which the backend's public API
does not offer, to stop paying a connection per request.) Local backends (hf, vllm), which
generate in batches, get every request that is waiting at the same moment as one batch, run in
a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..models import Completion, Decoding, Request, make_backend, parse_spec
from ..store import Store, canonical_hash, model_key
from .ledger import BudgetExhausted, Ledger


def sample_seed(item_id: str, candidate: int, seed: int) -> int:
    """A per-item, per-candidate seed (a sampled teacher is reproducible where it honours seeds)."""
    return int(canonical_hash([item_id, candidate, seed])[:8], 16)


@dataclass(frozen=True)
class Answer:
    """A completion and whether the store already had it."""

    request: Request
    completion: Completion
    cached: bool


class Teacher:
    """Ask the teacher for one completion of some messages, through the store."""

    def __init__(self, backend, store: Store, ledger: Ledger, *, temperature: float,
                 max_tokens: int, concurrency: int, seed: int = 0, cache: bool = True):
        self.backend = backend
        # cache False (--no-cache): every request is sent; the new answer supersedes the stored
        # one, which moves to the store's history
        self.cache = cache
        self.identity = backend.identity()
        self.store = store
        self.ledger = ledger
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self._sem = asyncio.Semaphore(concurrency)
        self._mkey_short = canonical_hash(self.identity)
        self._batch: _Batcher | None = None
        self._mkeys: dict[Decoding, str] = {}

    def decoding(self, item_id: str, candidate: int) -> Decoding:
        if self.temperature == 0:
            return Decoding(temperature=0.0, max_tokens=self.max_tokens)
        return Decoding(temperature=self.temperature, max_tokens=self.max_tokens,
                        seed=sample_seed(item_id, candidate, self.seed))

    def model_key(self, dec: Decoding) -> str:
        """The store's model key of a decoding (memoised: hashing it costs 0.2 ms a request)."""
        if dec not in self._mkeys:
            self._mkeys[dec] = model_key(self.identity, dec.key())
        return self._mkeys[dec]

    def request(self, messages: list[dict], item_id: str, candidate: int) -> Request:
        dec = self.decoding(item_id, candidate)
        phash = canonical_hash(list(messages))
        key = canonical_hash({"model": self.model_key(dec), "prompt": phash,
                              "sample": candidate})
        return Request(key=key, messages=tuple(messages), decoding=dec, item_id=item_id,
                       sample=candidate, prompt_hash=phash)

    async def ask(self, messages: list[dict], item_id: str, candidate: int,
                  round_: int) -> Answer:
        """The stored completion, or a new one (journaled at once). Raises BudgetExhausted."""
        req = self.request(messages, item_id, candidate)
        hit = self.store.get_many([req.key]).get(req.key) if self.cache else None
        if hit is not None:
            self.ledger.record(round_, hit, cached=True)
            return Answer(req, hit, True)
        estimate = self.ledger.estimate(req.messages, req.decoding.max_tokens)
        self.ledger.reserve(estimate)
        try:
            async with self._sem:
                completion = await self._send(req)
        finally:
            self.ledger.release(estimate)
        self.store.put(req.key, self._mkey_short, req.prompt_hash, req.sample, completion,
                       replace=not self.cache)
        self.ledger.record(round_, completion, cached=False)
        return Answer(req, completion, False)

    async def _send(self, req: Request) -> Completion:
        if hasattr(self.backend, "agenerate"):
            got: list[Completion] = []
            await self.backend.agenerate([req], lambda _r, c: got.append(c))
            return got[0] if got else Completion(error="the backend returned no completion")
        if self._batch is None:
            self._batch = _Batcher(self.backend)
        return await self._batch.send(req)


class _Batcher:
    """Requests waiting at the same moment go to a local backend's ``generate`` as one batch,
    run in a worker thread; each future is resolved as its completion arrives."""

    def __init__(self, backend):
        self.backend = backend
        self.pending: list[tuple[Request, asyncio.Future]] = []
        self.running: asyncio.Task | None = None

    async def send(self, req: Request) -> Completion:
        fut = asyncio.get_running_loop().create_future()
        self.pending.append((req, fut))
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.pending:
            for _ in range(3):  # let every chain that is ready queue its request
                await asyncio.sleep(0)
            batch, self.pending = self.pending, []
            # Two items with the same prompt send the same request (same key): it is generated
            # once and answers both (a key mapped to one future left the other waiting forever).
            futures: dict[str, list[asyncio.Future]] = {}
            unique: dict[str, Request] = {}
            for r, f in batch:
                futures.setdefault(r.key, []).append(f)
                unique.setdefault(r.key, r)

            def on_done(r: Request, c: Completion) -> None:
                for f in futures.get(r.key, ()):
                    loop.call_soon_threadsafe(_resolve, f, c)
            try:
                await asyncio.to_thread(self.backend.generate, list(unique.values()), on_done)
            except Exception as exc:  # a crashed batch fails its requests, not the run
                for fs in futures.values():
                    for f in fs:
                        _resolve(f, Completion(error=f"{type(exc).__name__}: {exc}"))
            await asyncio.sleep(0)
            for fs in futures.values():
                for f in fs:
                    _resolve(f, Completion(error="the backend returned no completion"))


def _resolve(fut: asyncio.Future, c: Completion) -> None:
    if not fut.done():
        fut.set_result(c)


def build_teacher(spec_text: str, store: Store, ledger: Ledger, *, temperature: float,
                  max_tokens: int, concurrency: int, seed: int, api_key_env: str,
                  timeout_s: float, max_retries: int, backend_options: dict | None = None,
                  cache: bool = True, rpm: float | None = None, tpm: float | None = None):
    """The Teacher of a model spec (the backend is built the way `assay eval` builds it)."""
    spec = parse_spec(spec_text, label="teacher")
    backend = make_backend(spec, backend_options, concurrency=concurrency,
                           api_key_env=api_key_env, timeout_s=timeout_s,
                           max_retries=max_retries, rpm=rpm, tpm=tpm)
    if hasattr(backend, "attach_store"):  # a batch backend journals its batches there
        backend.attach_store(store)
    return spec, Teacher(backend, store, ledger, temperature=temperature,
                         max_tokens=max_tokens, concurrency=concurrency, seed=seed, cache=cache)


__all__ = ["Answer", "BudgetExhausted", "Teacher", "build_teacher", "sample_seed"]
