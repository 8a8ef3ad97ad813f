"""Model backends and the model-spec parser.

``make_backend(spec)`` returns an object with ``identity()`` (the dict that enters every cache key:
backend, model, base URLs or the content hash of local weights and adapter, chat-template hash)
and ``generate(requests, on_done)`` which calls ``on_done(request, completion)`` as each completion
arrives. Backends import their heavy dependencies only when built.
"""

from __future__ import annotations

from ._types import Completion, Decoding, Request
from ..errors import AssayError
from .spec import SPEC_HELP, ModelSpec, parse_labeled, parse_spec

__all__ = ["Completion", "Decoding", "Request", "ModelSpec", "SPEC_HELP", "parse_spec",
           "parse_labeled", "make_backend"]


def backend_class(spec: ModelSpec):
    """The backend class of a spec (its module imports heavy dependencies only when built)."""
    if spec.backend == "openai":
        from .openai import OpenAIBackend

        return OpenAIBackend
    if spec.backend == "openai-batch":
        from .batch import OpenAIBatchBackend

        return OpenAIBatchBackend
    if spec.backend in ("hf", "embedded"):  # embedded: the hf backend on the converted model
        from .hf import HFBackend

        return HFBackend
    from .vllm import VLLMBackend

    return VLLMBackend


def make_backend(spec: ModelSpec, backend_options: dict | None = None, **options):
    """Build the backend for a spec.

    options: the runner's general settings (concurrency, api_key_env, batch_size...), each passed
    only to the backends that take it. backend_options: what the user asked for this backend
    (--backend-option KEY=VALUE, e.g. dtype=bfloat16 for hf); a name the backend does not take
    is an error listing the ones it does.
    """
    cls = backend_class(spec)
    unknown = sorted(set(backend_options or {}) - set(cls.OPTIONS))
    if unknown:
        raise AssayError(f"the {spec.backend} backend has no option {unknown}. Fix: use one of "
                         f"{sorted(cls.OPTIONS)} with --backend-option KEY=VALUE")
    kwargs = {k: v for k, v in options.items() if k in cls.OPTIONS}
    kwargs.update(backend_options or {})
    return cls(spec, **kwargs)
