"""Model backends and the model-spec parser.

``make_backend(spec)`` returns an object with ``identity()`` (the dict that enters every cache key:
backend, model, base URLs or the content hash of local weights and adapter, chat-template hash)
and ``generate(requests, on_done)`` which calls ``on_done(request, completion)`` as each completion
arrives. Backends import their heavy dependencies only when built.
"""

from __future__ import annotations

from ._types import Completion, Decoding, Request
from .spec import SPEC_HELP, ModelSpec, parse_labeled, parse_spec

__all__ = ["Completion", "Decoding", "Request", "ModelSpec", "SPEC_HELP", "parse_spec",
           "parse_labeled", "make_backend"]


def make_backend(spec: ModelSpec, **options):
    """Build the backend for a spec; options are backend settings (concurrency, api_key_env...)."""
    if spec.backend == "openai":
        from .openai import OpenAIBackend

        return OpenAIBackend(spec, **options)
    if spec.backend == "hf":
        from .hf import HFBackend

        return HFBackend(spec, **{k: v for k, v in options.items() if k in HFBackend.OPTIONS})
    from .vllm import VLLMBackend

    return VLLMBackend(spec, **{k: v for k, v in options.items() if k in VLLMBackend.OPTIONS})
