"""Render chat messages with a model's own chat template, with thinking mode off unless asked.

Reasoning models open a thinking block when their template says so (Qwen3's ``<think>``,
Gemma's ``<|think|>``, gpt-oss's ``<|channel|>analysis``...). A thinking token that reaches a
prompt by accident changes what is measured (the model reasons where the task expected a direct
answer) and costs the token budget, so ``render_chat`` passes ``enable_thinking`` through to the
template and refuses a rendered prompt that still carries a thinking marker the messages did not.

One exception is allowed: an *empty, closed* thinking block such as Qwen3's
``<think>\\n\\n</think>\\n\\n`` is how those templates switch thinking off, so it is not a leak.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from ..errors import AssayError

THINKING_MARKERS: tuple[str, ...] = (
    "<think>", "</think>",                      # Qwen3, DeepSeek-R1, QwQ
    "<|think|>",                                # Gemma 4 (system-turn switch)
    "<|channel|>thought", "<|channel>thought",  # Gemma-style thought channel
    "<|channel|>analysis",                      # gpt-oss harmony
    "<thinking>", "</thinking>",
    "<|begin_of_thought|>", "<|end_of_thought|>",
    "<start_of_thinking>", "<end_of_thinking>",
)

# How templates spell "thinking is off": an empty block, closed at once.
_EMPTY_BLOCKS = re.compile(r"<think>\s*</think>|<thinking>\s*</thinking>"
                           r"|<\|begin_of_thought\|>\s*<\|end_of_thought\|>")


def leaked_markers(rendered: str, messages: Sequence[dict[str, Any]]) -> list[str]:
    """Thinking markers in ``rendered`` beyond those the message contents carry themselves."""
    prompt = _EMPTY_BLOCKS.sub("", rendered)
    contents = "\n".join(str(m.get("content") or "") for m in messages)
    return [m for m in THINKING_MARKERS if prompt.count(m) > contents.count(m)]


def render_chat(tokenizer, messages: Sequence[dict[str, Any]], *,
                add_generation_prompt: bool = True, enable_thinking: bool = False) -> str:
    """The prompt string the model sees, from its own chat template.

    ``enable_thinking`` is passed to the template (templates that do not use it ignore it). With
    thinking off, a thinking marker in the result that the messages did not contain raises
    AssayError: the template cannot switch thinking off and the prompt would measure the wrong
    thing.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise AssayError(f"the tokenizer of '{getattr(tokenizer, 'name_or_path', '?')}' has no "
                         "chat template. Fix: use an instruction-tuned model, or set "
                         "tokenizer.chat_template in its tokenizer_config.json")
    text = tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=add_generation_prompt,
                                         enable_thinking=enable_thinking)
    if not enable_thinking:
        leaked = leaked_markers(text, messages)
        if leaked:
            raise AssayError(
                f"thinking mode is off but the chat template of "
                f"'{getattr(tokenizer, 'name_or_path', '?')}' put {', '.join(leaked)} into the "
                "prompt (its template ignores enable_thinking=False). Fix: use a template that "
                "honours enable_thinking, or ask for thinking explicitly "
                "(Decoding.enable_thinking)")
    return text


def template_hash(tokenizer) -> str:
    """sha256 of the tokenizer's chat template string (of "none" when it has none)."""
    return hash_template(getattr(tokenizer, "chat_template", None))


def hash_template(template: str | dict[str, str] | None) -> str:
    """sha256 of a chat template; named templates (a dict) are hashed in name order."""
    if isinstance(template, dict):
        template = "\n".join(f"{k}\n{template[k]}" for k in sorted(template))
    return hashlib.sha256((template or "none").encode("utf-8")).hexdigest()
