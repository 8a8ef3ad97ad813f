"""Chat rendering with thinking off: the guard against thinking tokens leaking into prompts."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from assay.errors import AssayError
from assay.models.chat import THINKING_MARKERS, leaked_markers, render_chat, template_hash

MSGS = [{"role": "user", "content": "Accept or reject?"}]


class FakeTokenizer:
    """Renders a given Jinja-free template function; records the kwargs it was given."""

    name_or_path = "fake"

    def __init__(self, render, chat_template="tmpl"):
        self._render = render
        self.chat_template = chat_template
        self.calls = []

    def apply_chat_template(self, messages, **kwargs):
        self.calls.append(kwargs)
        return self._render(messages, **kwargs)


def test_render_passes_enable_thinking_and_allows_empty_block(tiny_tokenizer):
    text = render_chat(tiny_tokenizer, MSGS)
    assert text.endswith("<|assistant|>\n<think>\n\n</think>\n\n")
    with_thinking = render_chat(tiny_tokenizer, MSGS, enable_thinking=True)
    assert with_thinking.endswith("<|assistant|>\n<think>\n")


def test_template_that_ignores_enable_thinking_raises():
    always_thinks = FakeTokenizer(lambda m, **k: "<|user|>Accept or reject?<|assistant|><think>\n")
    with pytest.raises(AssayError, match="<think>"):
        render_chat(always_thinks, MSGS)
    assert always_thinks.calls[0]["enable_thinking"] is False
    # Asked for thinking: no complaint.
    assert render_chat(always_thinks, MSGS, enable_thinking=True).endswith("<think>\n")


def test_gemma_style_think_switch_is_caught():
    gemma = FakeTokenizer(lambda m, **k: "<start_of_turn>system\n<|think|><end_of_turn>\n")
    with pytest.raises(AssayError, match=r"<\|think\|>"):
        render_chat(gemma, MSGS)


def test_markers_inside_the_messages_are_not_a_leak():
    msgs = [{"role": "user", "content": "Explain what <think> tags do."}]
    echo = FakeTokenizer(lambda m, **k: f"<|user|>{m[0]['content']}<|assistant|>")
    assert "<think>" in render_chat(echo, msgs)
    assert leaked_markers("a <think>\n\n</think> b", MSGS) == []
    assert leaked_markers("a <think> b </think>", MSGS) == ["<think>", "</think>"]
    assert {"<think>", "<|think|>"} <= set(THINKING_MARKERS)


def test_missing_template_is_a_clear_error():
    with pytest.raises(AssayError, match="no chat template"):
        render_chat(FakeTokenizer(lambda m, **k: "", chat_template=None), MSGS)


def test_template_hash(tiny_tokenizer):
    expected = hashlib.sha256(tiny_tokenizer.chat_template.encode()).hexdigest()
    assert template_hash(tiny_tokenizer) == expected
    assert template_hash(SimpleNamespace(chat_template=None)) == hashlib.sha256(b"none").hexdigest()
    assert template_hash(SimpleNamespace(chat_template="a")) != template_hash(
        SimpleNamespace(chat_template="b"))
