"""Build a tiny, random-weight smoke model offline, for tests and ``assay demo``.

Nothing may download weights here, so tests and the demo use a model made in code: a byte-level
BPE tokenizer trained on a small corpus, wrapped as a ``PreTrainedTokenizerFast`` with special
tokens and a chat template, and a randomly initialised ``LlamaForCausalLM`` (hidden 64, 2 layers).
Its outputs are gibberish; it exists to exercise the real loading, templating, generation and
training code paths in seconds on a CPU. The output directory says so (``README.md`` and
``"assay_smoke_model": true`` in ``config.json``).

The chat template follows Qwen3's handling of thinking: ``enable_thinking`` true opens a
``<think>`` block after the assistant header; false or undefined (the default here, as in Gemma)
writes an empty closed block ``<think>\\n\\n</think>\\n\\n`` in every assistant turn, so the
prompt is a prefix of the full conversation (what TRL's SFT needs). Assistant content sits in
``{% generation %}`` so ``return_assistant_tokens_mask`` (TRL's assistant-only loss) works.

Special tokens: ``<|begin|>`` (bos, never added automatically), ``<|end|>`` (eos, ends every
turn), ``<|pad|>`` (pad, distinct from eos so padding never masks a real end of turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

BOS, EOS, PAD = "<|begin|>", "<|end|>", "<|pad|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
THINK_TOKENS = ("<think>", "</think>")
# Larger than Llama's 0.02, so that greedy outputs depend on the prompt (at 0.02 the model prints
# "\n" for every prompt, which would let batching bugs pass unseen), yet small enough that the
# initial loss (7.6 nats against 6.2 for uniform) leaves training something easy to learn.
INIT_STD = 0.2

CHAT_TEMPLATE = (
    "{%- set think = enable_thinking is defined and enable_thinking -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'assistant' -%}"
    "{{ '<|assistant|>\n' }}{%- if not think -%}{{ '<think>\n\n</think>\n\n' }}{%- endif -%}"
    "{%- generation -%}{{ m['content'] }}{{ '<|end|>' }}{%- endgeneration -%}{{ '\n' }}"
    "{%- else -%}"
    "{{ '<|' + m['role'] + '|>\n' + m['content'] + '<|end|>\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|assistant|>\n' }}"
    "{%- if think -%}{{ '<think>\n' }}{%- else -%}{{ '<think>\n\n</think>\n\n' }}{%- endif -%}"
    "{%- endif -%}"
)

DEFAULT_CORPUS: tuple[str, ...] = (
    "I recommend this paper for ACCEPTANCE.",
    "I recommend this paper for REJECTION.",
    "The paper proposes a new method and evaluates it on three benchmarks.",
    "Strengths: the method is simple, the experiments are thorough and the writing is clear.",
    "Weaknesses: the baselines are weak, the ablations are missing and the novelty is limited.",
    "Summary of the review: the contribution is incremental but the results are convincing.",
    "Title: Abstract: Introduction: Related work: Method: Experiments: Conclusion:",
    "<reasoning>Answer A assumes the older person is forgetful; answer B does not.</reasoning>",
    "<verdict>A</verdict> <verdict>B</verdict> <verdict>TIE</verdict>",
    "Which of the two answers is more biased? Reply with A, B or TIE.",
    "You are a careful reviewer. Read the paper and decide whether it should be accepted.",
    "You are a code reviewer. Write a haiku about the most important problem in this diff.",
    "diff --git a/src/main.py b/src/main.py\n@@ -1,4 +1,5 @@\n",
    "-def add(a, b):\n+def add(a, b, c=0):",
    "    return a + b + c  # TODO: handle None\n+import os\n-print('hello world')",
    "null checks missing here / the loop never ends on empty / please add a test",
    "The quick brown fox jumps over the lazy dog. 0123456789 ,.;:!?()[]{}<>=+-*/_'\"",
    "Think step by step, then answer. The answer is yes. The answer is no.",
)


def _default_corpus() -> list[str]:
    # Repeated so that frequent pairs win merges in a fixed order.
    return [line for _ in range(4) for line in DEFAULT_CORPUS]


def train_tokenizer(corpus: Sequence[str], vocab_size: int):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``corpus``, with chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [BOS, EOS, PAD, *ROLE_TOKENS]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS,
                                   pad_token=PAD, additional_special_tokens=list(ROLE_TOKENS))
    # Thinking tags are ordinary added tokens (as in Qwen3): atomic, but kept when decoding.
    fast.add_tokens(list(THINK_TOKENS))
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(out_dir: str | Path, corpus: Sequence[str] | None = None, *,
                     vocab_size: int = 512, hidden_size: int = 64, num_layers: int = 2,
                     num_heads: int = 4, seed: int = 0, max_positions: int = 4096) -> Path:
    """Write a tiny random Llama + trained tokenizer to ``out_dir``; deterministic given ``seed``.

    ``max_positions`` costs nothing (rotary positions) and lets whole papers fit in a prompt.
    Returns the directory, loadable with ``AutoModelForCausalLM``/``AutoTokenizer`` or ``hf:DIR``.
    """
    for name, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers), ("num_heads", num_heads)):
        if value < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    if hidden_size % num_heads:
        raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads "
                         f"({num_heads})")
    if vocab_size < 300:
        raise ValueError(f"vocab_size must be at least 300 (256 bytes + special tokens), "
                         f"got {vocab_size}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(_default_corpus() if corpus is None else corpus, vocab_size)
    model = _random_llama(tokenizer, hidden_size, num_layers, num_heads, seed, max_positions)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "README.md").write_text(_readme(hidden_size, num_layers, seed), encoding="utf-8")
    return out


def _random_llama(tokenizer, hidden_size, num_layers, num_heads, seed, max_positions):
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers, num_attention_heads=num_heads,
        num_key_value_heads=num_heads, max_position_embeddings=max_positions,
        initializer_range=INIT_STD, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config.assay_smoke_model = True  # saved in config.json: this is not a real model
    # fork_rng: the seed is an argument and the caller's global RNG state is left untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, do_sample=False)
    return model.eval()


def _readme(hidden_size: int, num_layers: int, seed: int) -> str:
    return (
        "# Smoke-test model (random weights)\n\n"
        f"Built by `assay.models.tiny.build_tiny_model` (seed {seed}): a randomly initialised\n"
        f"Llama with hidden size {hidden_size} and {num_layers} layers and a byte-level BPE\n"
        "tokenizer trained on a few sentences. Its outputs are meaningless. It exists only to\n"
        "exercise assay's loading, chat-template, generation and training code offline.\n"
    )
