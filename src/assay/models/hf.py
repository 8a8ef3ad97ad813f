"""Local generation with transformers: ``hf:PATH_OR_ID`` and ``hf:PATH_OR_ID+ADAPTER_DIR``.

The model is a local directory or a hub id already in the local Hugging Face cache (nothing is
downloaded). An adapter directory is loaded on top with PEFT (kept unmerged, as it was trained).
The prompt is the model's own chat template with thinking off unless the decoding asks for it
(``assay.models.chat.render_chat``); if the adapter directory carries its own tokenizer (a
fine-tuning run saves one) that tokenizer and its template are used.

Generation is batched and left-padded: requests are grouped by decoding settings, sorted by
prompt length (longest first, so an out-of-memory batch shows up at once) and cut into batches of
``batch_size``. A batch that fails is split in two and retried; a single request that still fails
is recorded as that request's error. Greedy when temperature is 0. With temperature > 0 and a
seed, each request is generated alone under its own seed (``torch.random.fork_rng``, so the
caller's RNG is untouched): a sampled token must not depend on which other prompts shared the
batch. ``latency_s`` is the batch's wall time divided by its size.

CUDA in bfloat16 when available, else CPU in float32; ``device`` and ``dtype`` override. The
resolved dtype is part of the identity (bf16 and fp32 greedy outputs differ).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import AssayError
from ._types import Completion, Decoding, Request
from .chat import render_chat, template_hash
from .identity import LocalModel
from .spec import ModelSpec

DTYPES = ("auto", "float32", "bfloat16", "float16")

# Decoding is what the Decoding (and so the cache key) says, nothing else: a model's
# generation_config.json often carries sampling defaults (repetition_penalty, top_k, min_p...) that
# transformers would otherwise apply silently and that other backends would not.
NEUTRAL = dict(num_beams=1, repetition_penalty=1.0, no_repeat_ngram_size=0, min_p=None,
               typical_p=1.0, min_new_tokens=None, min_length=0, epsilon_cutoff=0.0,
               eta_cutoff=0.0, top_h=None, suppress_tokens=None, begin_suppress_tokens=None,
               bad_words_ids=None, sequence_bias=None, forced_bos_token_id=None,
               forced_eos_token_id=None, encoder_repetition_penalty=1.0, stop_strings=None)


class HFBackend:
    """A transformers causal LM (optionally with a PEFT adapter) generating locally in batches."""

    OPTIONS = {"batch_size", "device", "dtype"}

    def __init__(self, spec: ModelSpec, *, batch_size: int = 8, device: str | None = None,
                 dtype: str = "auto", **_: Any):
        if batch_size < 1:
            raise AssayError(f"--batch-size must be at least 1 (got {batch_size})")
        if dtype not in DTYPES:
            raise AssayError(f"dtype must be one of {', '.join(DTYPES)} (got '{dtype}')")
        self.spec = spec
        self.batch_size = batch_size
        self.files = LocalModel.locate(spec.local_model, spec.adapter)
        self._device, self._dtype = device, dtype
        self._identity: dict[str, Any] | None = None
        self._model = self._tokenizer = None

    # -- identity -----------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """Backend, model name, content hashes of weights and adapter, template hash, dtype."""
        if self._identity is None:
            self._identity = self.files.identity("hf", self.spec.local_model,
                                                 self.resolved()[1])
        return self._identity

    def resolved(self) -> tuple[str, str]:
        """(device, dtype) this backend runs on: CUDA/bfloat16 when present, else CPU/float32."""
        device = self._device or ("cuda" if _cuda_available() else "cpu")
        dtype = self._dtype
        if dtype == "auto":
            dtype = "bfloat16" if device.startswith("cuda") else "float32"
        return device, dtype

    # -- loading ------------------------------------------------------------------------------
    def load(self):
        """Load tokenizer and model once; returns (model, tokenizer)."""
        if self._model is None:
            self._tokenizer = self._load_tokenizer()
            self._model = self._load_model()
        return self._model, self._tokenizer

    def _load_tokenizer(self):
        from transformers import AutoTokenizer

        where = self.files.tokenizer_dir
        tok = AutoTokenizer.from_pretrained(where, local_files_only=True)
        tok.padding_side = "left"
        if tok.pad_token is None:  # many base models ship none; eos pads, finished rows stop
            tok.pad_token = tok.eos_token
        if template_hash(tok) != self.identity()["chat_template"]:
            raise AssayError(f"the chat template transformers loaded from {where} is not the one "
                             "found in its files; put it in chat_template.jinja")
        return tok

    def _load_model(self):
        import torch
        from transformers import AutoModelForCausalLM

        from ..quiet import no_load_bars

        device, dtype = self.resolved()
        with no_load_bars():
            model = AutoModelForCausalLM.from_pretrained(
                self.files.model_dir, dtype=getattr(torch, dtype), local_files_only=True)
        if self.files.adapter_dir is not None:
            from ..errors import require

            peft = require("peft", "train")
            try:
                model = peft.PeftModel.from_pretrained(model, str(self.files.adapter_dir))
            except (ValueError, KeyError, RuntimeError, OSError) as exc:
                raise AssayError(
                    f"cannot put the adapter {self.files.adapter_dir} on {self.files.model_dir}: "
                    f"{str(exc).splitlines()[0][:300]}. Fix: use the base model the adapter "
                    "was trained on (its adapter_config.json names it)") from None
        return model.to(device).eval()

    # -- generation ---------------------------------------------------------------------------
    def generate(self, requests: Sequence[Request],
                 on_done: Callable[[Request, Completion], None]) -> None:
        """Generate every request; on_done(request, completion) is called as each batch ends."""
        if not requests:
            return
        model, tok = self.load()
        prompts = {r.key: render_chat(tok, r.messages, enable_thinking=r.decoding.enable_thinking)
                   for r in requests}
        lengths = {k: len(tok(p, add_special_tokens=False)["input_ids"])
                   for k, p in prompts.items()}
        for batch in plan_batches(requests, lengths, self.batch_size):
            self._run_batch(batch, prompts, on_done)

    def _run_batch(self, batch: list[Request], prompts: dict[str, str], on_done) -> None:
        try:
            start = time.perf_counter()
            completions = generate_batch(*self.load(), [prompts[r.key] for r in batch],
                                         batch[0].decoding, self.resolved()[0])
            latency = (time.perf_counter() - start) / len(batch)
        except Exception as exc:  # out of memory, a prompt too long...: split, then record
            if len(batch) > 1:
                _free_cuda_cache()
                half = len(batch) // 2
                self._run_batch(batch[:half], prompts, on_done)
                self._run_batch(batch[half:], prompts, on_done)
                return
            on_done(batch[0], Completion(error=f"{type(exc).__name__}: {exc}"))
            return
        for req, c in zip(batch, completions):
            on_done(req, _with_latency(c, latency))


def plan_batches(requests: Sequence[Request], lengths: dict[str, int],
                 batch_size: int) -> list[list[Request]]:
    """Batches of requests sharing one decoding, longest prompts first.

    Seeded sampled requests get a batch of their own (their tokens must not depend on batchmates).
    """
    groups: dict[Decoding, list[Request]] = {}
    for r in requests:
        groups.setdefault(r.decoding, []).append(r)
    batches = []
    for decoding, group in groups.items():
        group.sort(key=lambda r: -lengths[r.key])
        size = 1 if decoding.temperature > 0 and decoding.seed is not None else batch_size
        batches += [group[i:i + size] for i in range(0, len(group), size)]
    return batches


def generate_batch(model, tokenizer, prompts: list[str], decoding: Decoding,
                   device: str) -> list[Completion]:
    """One left-padded ``model.generate`` call for prompts that share ``decoding``."""
    import torch

    enc = tokenizer(prompts, return_tensors="pt", padding=True,
                    add_special_tokens=False).to(device)
    eos_ids = stop_ids(model, tokenizer)
    kwargs: dict[str, Any] = dict(NEUTRAL, max_new_tokens=decoding.max_tokens,
                                  eos_token_id=eos_ids, pad_token_id=tokenizer.pad_token_id,
                                  return_dict_in_generate=True, output_logits=decoding.logprobs)
    if decoding.temperature > 0:
        kwargs.update(do_sample=True, temperature=decoding.temperature, top_p=decoding.top_p,
                      top_k=0)
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    with torch.inference_mode(), torch.random.fork_rng(devices=_rng_devices(device)):
        if decoding.seed is not None:
            torch.manual_seed(decoding.seed)
        out = model.generate(**enc, **kwargs)
    new = out.sequences[:, enc["input_ids"].shape[1]:].tolist()
    prompt_lens = enc["attention_mask"].sum(dim=1).tolist()
    completions = []
    for row, tokens in enumerate(new):
        tokens, reason = cut_at_stop(tokens, eos_ids, decoding.max_tokens)
        lps = (token_logprobs(tokenizer, out.logits, row, tokens, decoding.top_logprobs)
               if decoding.logprobs else None)
        text_ids = tokens[:-1] if reason == "stop" and tokens and tokens[-1] in eos_ids else tokens
        completions.append(Completion(
            text=tokenizer.decode(text_ids, skip_special_tokens=True), finish_reason=reason,
            prompt_tokens=int(prompt_lens[row]), completion_tokens=len(tokens), logprobs=lps))
    return completions


def stop_ids(model, tokenizer) -> list[int]:
    """Every end-of-sequence id the model or tokenizer declares (Llama 3 has two)."""
    declared = getattr(model.generation_config, "eos_token_id", None)
    ids = declared if isinstance(declared, list) else [declared]
    ids = [*ids, tokenizer.eos_token_id]
    return sorted({int(i) for i in ids if i is not None})


def cut_at_stop(tokens: list[int], eos_ids: Sequence[int],
                max_tokens: int) -> tuple[list[int], str]:
    """Generated ids up to and including the first stop id, and the finish reason.

    "stop" when a stop id ended it; "length" when it ran to ``max_tokens`` without one.
    """
    for i, t in enumerate(tokens):
        if t in eos_ids:
            return tokens[:i + 1], "stop"
    return tokens, "length" if len(tokens) >= max_tokens else "stop"


def token_logprobs(tokenizer, logits, row: int, tokens: list[int], top: int) -> list[dict]:
    """The chosen tokens' log-probabilities (raw model distribution), in OpenAI's chat format."""
    import torch

    entries = []
    for step, token in enumerate(tokens):
        lp = torch.log_softmax(logits[step][row].float(), dim=-1)
        entry = {"token": tokenizer.decode([token]), "logprob": float(lp[token]),
                 "top_logprobs": []}
        if top > 0:
            values, ids = lp.topk(top)
            entry["top_logprobs"] = [{"token": tokenizer.decode([i]), "logprob": float(v)}
                                     for v, i in zip(values.tolist(), ids.tolist())]
        entries.append(entry)
    return entries


def _with_latency(c: Completion, latency: float) -> Completion:
    from dataclasses import replace

    return replace(c, latency_s=latency)


def _cuda_available() -> bool:
    """torch.cuda.is_available(), without importing torch where no GPU driver can exist.

    identity() needs the dtype before anything is generated; on a Linux machine without an NVIDIA
    or ROCm driver this spares a fully cached rerun the torch import (1.5-7 s).
    """
    import os
    import sys

    if sys.platform == "linux" and not (os.path.exists("/proc/driver/nvidia")
                                        or os.path.exists("/dev/kfd")):
        return False
    import torch

    return torch.cuda.is_available()


def _rng_devices(device: str) -> list:
    return [device] if device.startswith("cuda") else []


def _free_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()

