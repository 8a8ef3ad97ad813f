"""Offline vLLM generation: ``vllm:PATH_OR_ID`` and ``vllm:PATH_OR_ID+ADAPTER_DIR`` (GPU only).

vLLM is an optional extra (``pip install 'assay[vllm]'``); without it building this backend is a
clear error. It cannot run on the development machines (no GPU), so it is kept small; its
request-to-``SamplingParams`` mapping and output conversion are tested against a stand-in module.

Prompts are rendered here with ``render_chat`` on vLLM's own tokenizer (the model's chat template,
thinking off unless asked, the thinking-leak guard) and sent as token ids through
``LLM.generate``, so the ``hf`` and ``vllm`` backends see the same prompt text for the same
model. An adapter is applied per request with a ``LoRARequest`` (``enable_lora`` and a
``max_lora_rank`` read from its ``adapter_config.json``).

vLLM schedules its own batches, so requests go to it in chunks of ``chunk_size``; each chunk's
completions are handed to ``on_done`` (and so committed to the store) when the chunk returns: a
killed run loses at most one chunk. A chunk that fails is split in two and retried; a single
request that still fails is recorded as its error. ``latency_s`` is chunk wall time / chunk size.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import AssayError, MissingDependency, require
from ._types import Completion, Decoding, Request
from .chat import render_chat
from .identity import LocalModel
from .spec import ModelSpec

LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the max_lora_rank values vLLM accepts


def ensure_vllm() -> None:
    """Raise MissingDependency (naming ``pip install 'assay[vllm]'``) when vLLM is absent."""
    try:
        found = importlib.util.find_spec("vllm") is not None
    except ValueError:  # already imported without a spec (a stand-in module in tests)
        found = True
    if not found:
        raise MissingDependency("vllm (needed by vllm: model specs; it requires a GPU)", "vllm")


class VLLMBackend:
    """vLLM's offline ``LLM`` engine, with an optional LoRA adapter."""

    OPTIONS = {"dtype", "chunk_size", "gpu_memory_utilization", "max_model_len",
               "tensor_parallel_size"}

    def __init__(self, spec: ModelSpec, *, dtype: str = "auto", chunk_size: int = 512,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None,
                 tensor_parallel_size: int = 1, **_: Any):
        ensure_vllm()
        if chunk_size < 1:
            raise AssayError(f"chunk_size must be at least 1 (got {chunk_size})")
        self.spec = spec
        self.files = LocalModel.locate(spec.model, spec.adapter)
        self.dtype, self.chunk_size = dtype, chunk_size
        self.engine_args = {"gpu_memory_utilization": gpu_memory_utilization,
                            "max_model_len": max_model_len,
                            "tensor_parallel_size": tensor_parallel_size}
        self._identity: dict[str, Any] | None = None
        self._llm = self._lora = None

    def identity(self) -> dict[str, Any]:
        """Backend, model name, content hashes of weights and adapter, template hash, dtype."""
        if self._identity is None:
            self._identity = self.files.identity("vllm", self.spec.model, self.dtype)
        return self._identity

    def load(self):
        """Start the engine once; returns the ``LLM``."""
        if self._llm is None:
            vllm = require("vllm", "vllm")
            args = {k: v for k, v in self.engine_args.items() if v is not None}
            if self.files.adapter_dir is not None:
                args.update(enable_lora=True, max_lora_rank=lora_rank(self.files.adapter_dir))
                lora = importlib.import_module("vllm.lora.request")
                self._lora = lora.LoRARequest("adapter", 1, str(self.files.adapter_dir))
            self._llm = vllm.LLM(model=str(self.files.model_dir),
                                 tokenizer=str(self.files.tokenizer_dir), dtype=self.dtype,
                                 seed=0, **args)
        return self._llm

    def generate(self, requests: Sequence[Request],
                 on_done: Callable[[Request, Completion], None]) -> None:
        """Generate every request, chunk by chunk; on_done is called as each chunk returns."""
        if not requests:
            return
        llm = self.load()
        tok = llm.get_tokenizer()
        prompts = {r.key: tok(render_chat(tok, r.messages,
                                          enable_thinking=r.decoding.enable_thinking),
                              add_special_tokens=False)["input_ids"] for r in requests}
        for i in range(0, len(requests), self.chunk_size):
            self._run_chunk(list(requests[i:i + self.chunk_size]), prompts, on_done)

    def _run_chunk(self, chunk: list[Request], prompts: dict[str, list[int]], on_done) -> None:
        vllm = require("vllm", "vllm")
        try:
            start = time.perf_counter()
            outputs = self.load().generate(
                [{"prompt_token_ids": prompts[r.key]} for r in chunk],
                [sampling_params(vllm, r.decoding) for r in chunk],
                lora_request=self._lora, use_tqdm=False)
            latency = (time.perf_counter() - start) / len(chunk)
        except Exception as exc:  # a prompt longer than the context, out of memory...
            if len(chunk) > 1:
                half = len(chunk) // 2
                self._run_chunk(chunk[:half], prompts, on_done)
                self._run_chunk(chunk[half:], prompts, on_done)
                return
            on_done(chunk[0], Completion(error=f"{type(exc).__name__}: {exc}"))
            return
        for req, out in zip(chunk, outputs):
            on_done(req, to_completion(out, req.decoding, latency))


def sampling_params(vllm, decoding: Decoding):
    """vLLM ``SamplingParams`` for one request's decoding (greedy at temperature 0)."""
    kwargs: dict[str, Any] = {"temperature": decoding.temperature, "top_p": decoding.top_p,
                              "max_tokens": decoding.max_tokens}
    if decoding.seed is not None:
        kwargs["seed"] = decoding.seed
    if decoding.logprobs:
        kwargs["logprobs"] = decoding.top_logprobs  # 0: only the chosen token's
    return vllm.SamplingParams(**kwargs)


def to_completion(output, decoding: Decoding, latency_s: float) -> Completion:
    """A ``Completion`` from a vLLM ``RequestOutput`` (its first and only sample)."""
    out = output.outputs[0]
    logprobs = (openai_logprobs(out.token_ids, out.logprobs, decoding.top_logprobs)
                if decoding.logprobs and out.logprobs is not None else None)
    return Completion(text=out.text, finish_reason=out.finish_reason,
                      prompt_tokens=len(output.prompt_token_ids or []),
                      completion_tokens=len(out.token_ids), latency_s=latency_s,
                      logprobs=logprobs)


def openai_logprobs(token_ids: Sequence[int], steps: Sequence[dict], top: int) -> list[dict]:
    """vLLM's per-step ``{token_id: Logprob}`` dicts in OpenAI's chat logprobs format."""
    entries = []
    for token, step in zip(token_ids, steps):
        chosen = step[token]
        ranked = sorted(step.values(), key=lambda lp: lp.rank)[:top]
        entries.append({"token": chosen.decoded_token, "logprob": chosen.logprob,
                        "top_logprobs": [{"token": lp.decoded_token, "logprob": lp.logprob}
                                         for lp in ranked]})
    return entries


def lora_rank(adapter_dir) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that fits the adapter's rank ``r``."""
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    r = int(config.get("r", 8))
    for rank in LORA_RANKS:
        if rank >= r:
            return rank
    raise AssayError(f"LoRA rank {r} of {adapter_dir} exceeds vLLM's maximum {LORA_RANKS[-1]}")

