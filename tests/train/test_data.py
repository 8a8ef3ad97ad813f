"""Training data: TRL formats, task rendering identical to the eval, guards and counts."""

from __future__ import annotations

import json

import pytest

from assay.errors import AssayError, InputError
from assay.train.config import load_recipe
from assay.train.data import load_train_data, trl_rows
from assay.train.swap import mirror_slots, trade_texts

from .conftest import write_jsonl


def _recipe(method, **kw):
    return load_recipe(method, None, {"model": "m", "data": "d", **kw})


def _task(name="paper-review", **options):
    from assay.tasks import get_task

    return get_task(name, **options)


def test_task_prompts_are_byte_identical_to_what_the_hf_backend_sends(
        tiny_model, tiny_tokenizer, paper_items, monkeypatch):
    """Render with the trainer's path, then capture the text the eval backend generates from."""
    import assay.models.hf as hf
    from assay.models import Completion, Decoding, Request, parse_spec

    task = _task()
    data = load_train_data(_recipe("sft", data=str(paper_items), task="paper-review"),
                           tiny_tokenizer, task)
    items = task.load(paper_items).items
    sent: list[str] = []

    def capture(model, tokenizer, prompts, decoding, device):
        sent.extend(prompts)
        return [Completion(text="x", finish_reason="stop") for _ in prompts]

    monkeypatch.setattr(hf, "generate_batch", capture)
    backend = hf.HFBackend(parse_spec(f"hf:{tiny_model}"), batch_size=16)
    reqs = [Request(key=str(i), messages=task.render(it), decoding=Decoding(max_tokens=4))
            for i, it in enumerate(items)]
    backend.generate(reqs, lambda r, c: None)
    assert sorted(sent) == sorted(r["prompt"] for r in data.rows)
    assert all(r["prompt"].endswith("<|assistant|>\n<think>\n\n</think>\n\n") for r in data.rows)
    # Same token ids too: TRL tokenizes the string with special tokens on; the backend without.
    for row in trl_rows(data, tiny_tokenizer):
        assert (tiny_tokenizer(row["prompt"])["input_ids"]
                == tiny_tokenizer(row["prompt"], add_special_tokens=False)["input_ids"])


def test_reference_completion_for_paper_review(tiny_tokenizer, paper_items):
    data = load_train_data(_recipe("sft", data=str(paper_items), task="paper-review"),
                           tiny_tokenizer, _task())
    first, second = data.rows[0]["completion"], data.rows[1]["completion"]
    assert first.endswith("I recommend this paper for ACCEPTANCE.")
    assert second.endswith("I recommend this paper for REJECTION.")
    assert _task().parse(first)["decision"] == "accept"
    assert data.stats.n_read == data.stats.n_used == 8 and data.prompt_source == "task:paper-review"


def test_missing_columns_are_named(tmp_path, tiny_tokenizer):
    f = write_jsonl(tmp_path / "x.jsonl", [{"prompt": "hi", "chosen": "a"}])
    with pytest.raises(InputError) as exc:
        load_train_data(_recipe("dpo", data=str(f)), tiny_tokenizer)
    assert "rejected" in str(exc.value) and "line 1" in str(exc.value)
    with pytest.raises(InputError, match="completion"):
        load_train_data(_recipe("sft", data=str(f)), tiny_tokenizer)


def test_string_prompt_is_one_user_turn_and_raw_prompts_pass_through(tmp_path, tiny_tokenizer):
    f = write_jsonl(tmp_path / "x.jsonl", [{"prompt": "Say yes.", "completion": "yes"}])
    chat = load_train_data(_recipe("sft", data=str(f)), tiny_tokenizer).rows[0]["prompt"]
    assert chat.startswith("<|user|>\nSay yes.<|end|>\n<|assistant|>")
    raw = load_train_data(_recipe("sft", data=str(f), raw_prompts=True), tiny_tokenizer)
    assert raw.rows[0]["prompt"] == "Say yes."


def test_thinking_marker_in_prompt_is_refused(tmp_path, tiny_tokenizer):
    f = write_jsonl(tmp_path / "x.jsonl", [
        {"prompt": [{"role": "user", "content": "Q"}], "completion": "ok"},
        {"prompt": [{"role": "user", "content": "<think>plan first</think> Q"}],
         "completion": "ok"}])
    with pytest.raises(InputError, match="line 2.*<think>"):
        load_train_data(_recipe("sft", data=str(f)), tiny_tokenizer)


def test_too_long_examples_are_counted_then_dropped_or_kept(tmp_path, tiny_tokenizer):
    rows = [{"prompt": "short", "completion": "ok"},
            {"prompt": "long " * 200, "completion": "ok"},
            {"prompt": "x", "completion": "long answer " * 100}]
    f = write_jsonl(tmp_path / "x.jsonl", rows)
    dropped = load_train_data(_recipe("sft", data=str(f), max_length=64), tiny_tokenizer)
    s = dropped.stats
    assert (s.n_read, s.n_used, s.n_too_long, s.n_dropped, s.n_prompt_too_long) == (3, 1, 2, 2, 1)
    kept = load_train_data(_recipe("sft", data=str(f), max_length=64, too_long="truncate"),
                           tiny_tokenizer)
    # The long-answer example is kept for truncation; the one whose prompt fills the window is not.
    assert (kept.stats.n_used, kept.stats.n_truncated, kept.stats.n_dropped) == (2, 1, 1)
    with pytest.raises(InputError, match="no training examples left"):
        load_train_data(_recipe("sft", data=str(f), max_length=3), tiny_tokenizer)


def test_mirror_slots_swaps_verdicts_and_mentions():
    text = ("<reasoning>Response A stereotypes; response B does not. Answer A's tone...</reasoning>"
            "\n<verdict>A</verdict>")
    assert mirror_slots(text) == ("<reasoning>Response B stereotypes; response A does not. "
                                  "Answer B's tone...</reasoning>\n<verdict>B</verdict>")
    assert mirror_slots("<verdict>TIE</verdict> [[B]] Verdict: B") == \
        "<verdict>TIE</verdict> [[A]] Verdict: A"
    assert mirror_slots(mirror_slots(text)) == text  # an involution
    assert trade_texts("A: cat\nB: category", "cat", "category") == "A: category\nB: cat"


def test_swap_doubling_from_a_task_uses_its_swapped_pass(tmp_path, tiny_tokenizer):
    from assay.models.chat import render_chat
    from assay.tasks import SWAPPED

    src = json.loads(open("examples/bias-judge/pairs.jsonl").readline())
    src.update(chosen="<reasoning>Response A assumes.</reasoning>\n<verdict>A</verdict>",
               rejected="<reasoning>Response B assumes.</reasoning>\n<verdict>B</verdict>",
               id=src["pair_id"])
    f = write_jsonl(tmp_path / "pairs.jsonl", [src])
    task = _task("bias-judge")
    data = load_train_data(_recipe("dpo", data=str(f), task="bias-judge", swap_doubling=True),
                           tiny_tokenizer, task)
    assert data.stats.n_swapped == 1 and len(data.rows) == 2
    item = task.load(f).items[0]
    assert data.rows[1]["prompt"] == render_chat(tiny_tokenizer, task.render(item, SWAPPED))
    assert data.rows[1]["chosen"].endswith("<verdict>B</verdict>")
    assert "Response B assumes" in data.rows[1]["chosen"]


def test_swap_doubling_from_a_file_trades_the_texts(tmp_path, tiny_tokenizer):
    rows = [{"prompt": "Response A:\nold people are slow\nResponse B:\ncannot tell\nWhich is biased?",
             "response_a": "old people are slow", "response_b": "cannot tell",
             "chosen": "<verdict>A</verdict>", "rejected": "<verdict>B</verdict>"}]
    f = write_jsonl(tmp_path / "p.jsonl", rows)
    data = load_train_data(_recipe("dpo", data=str(f), swap_doubling=True, raw_prompts=True),
                           tiny_tokenizer)
    assert data.rows[1]["prompt"] == ("Response A:\ncannot tell\nResponse B:\nold people are "
                                      "slow\nWhich is biased?")
    assert (data.rows[1]["chosen"], data.rows[1]["rejected"]) == ("<verdict>B</verdict>",
                                                                   "<verdict>A</verdict>")
    plain = write_jsonl(tmp_path / "q.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    with pytest.raises(InputError, match="swap_doubling needs a pairwise example"):
        load_train_data(_recipe("dpo", data=str(plain), swap_doubling=True), tiny_tokenizer)


def test_task_without_reference_needs_completion(tmp_path, tiny_tokenizer):
    f = write_jsonl(tmp_path / "pairs.jsonl", [
        {**json.loads(open("examples/bias-judge/pairs.jsonl").readline()), "id": "x"}])
    with pytest.raises(AssayError, match="completion"):
        load_train_data(_recipe("sft", data=str(f), task="bias-judge"), tiny_tokenizer,
                        _task("bias-judge"))
