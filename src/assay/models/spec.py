"""Parse model specs: openai:MODEL@BASE_URL[,URL2...], hf:PATH[+ADAPTER], vllm:PATH[+ADAPTER]."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AssayError

SPEC_HELP = (
    "model specs look like LABEL=SPEC with SPEC one of\n"
    "  openai:MODEL@BASE_URL        e.g. openai:qwen2.5-7b@http://localhost:8000/v1\n"
    "                               (several replicas: openai:MODEL@URL1,URL2)\n"
    "  hf:PATH_OR_ID[+ADAPTER_DIR]  e.g. hf:./models/base+./runs/sft/adapter\n"
    "  vllm:PATH_OR_ID[+ADAPTER_DIR] e.g. vllm:Qwen/Qwen2.5-0.5B-Instruct+./adapter"
)

BACKENDS = ("openai", "hf", "vllm")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec. ``base_urls`` only for openai; ``adapter`` only for hf/vllm."""

    backend: str
    model: str
    base_urls: tuple[str, ...] = ()
    adapter: str | None = None
    label: str = ""

    def __str__(self) -> str:
        if self.backend == "openai":
            return f"openai:{self.model}@{','.join(self.base_urls)}"
        return f"{self.backend}:{self.model}" + (f"+{self.adapter}" if self.adapter else "")


def parse_spec(text: str, label: str = "") -> ModelSpec:
    """Parse one SPEC (without the LABEL= part); errors show the syntax with examples."""
    backend, sep, rest = text.partition(":")
    if not sep or backend not in BACKENDS or not rest:
        raise AssayError(f"bad model spec '{text}': {SPEC_HELP}")
    if backend == "openai":
        model, at, urls = rest.rpartition("@")
        if not at or not model or not urls:
            raise AssayError(f"bad model spec '{text}': the openai backend needs MODEL@BASE_URL. "
                             f"{SPEC_HELP}")
        base_urls = tuple(u.strip().rstrip("/") for u in urls.split(",") if u.strip())
        for u in base_urls:
            if not u.startswith(("http://", "https://")):
                raise AssayError(f"bad base URL '{u}' in model spec '{text}': it must start with "
                                 "http:// or https://, e.g. http://localhost:8000/v1")
        return ModelSpec("openai", model, base_urls=base_urls, label=label)
    model, plus, adapter = rest.partition("+")
    if plus and not adapter:
        raise AssayError(f"bad model spec '{text}': nothing after '+'. {SPEC_HELP}")
    return ModelSpec(backend, model, adapter=adapter or None, label=label)


def parse_labeled(text: str) -> ModelSpec:
    """Parse LABEL=SPEC (as given to --model)."""
    label, eq, spec = text.partition("=")
    if not eq or not label or ":" in label:
        raise AssayError(f"bad --model '{text}': write LABEL=SPEC, e.g. "
                         f"--model base=openai:qwen@http://localhost:8000/v1. {SPEC_HELP}")
    return parse_spec(spec, label=label)
