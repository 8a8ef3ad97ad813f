"""The hf backend on the tiny offline model, with and without a PEFT adapter."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from assay.errors import AssayError
from assay.models import Decoding, Request, make_backend, parse_spec
from assay.models.hf import cut_at_stop, plan_batches

PROMPTS = ["hello", "I recommend this paper for", "x", "Which answer is more biased?",
           "The paper proposes a new method and evaluates it on three benchmarks.", "TIE"]


@pytest.fixture(autouse=True)
def _hash_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path / "cache"))


def _requests(decoding=Decoding(max_tokens=12), prompts=PROMPTS):
    return [Request(key=f"k{i}", messages=[{"role": "user", "content": p}], decoding=decoding)
            for i, p in enumerate(prompts)]


def _run(backend, requests):
    got = {}
    backend.generate(requests, lambda r, c: got.__setitem__(r.key, c))
    return got


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory):
    """A LoRA adapter with perturbed (non-zero) B matrices, so it changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj",
                                                                                "v_proj"]))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    out = tmp_path_factory.mktemp("adapter") / "adapter"
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def base_backend(tiny_model):
    return make_backend(parse_spec(f"hf:{tiny_model}"), batch_size=4)


def test_greedy_is_deterministic_and_batching_does_not_change_it(tiny_model, base_backend):
    batched = _run(base_backend, _requests())
    again = _run(base_backend, _requests())
    single = _run(make_backend(parse_spec(f"hf:{tiny_model}"), batch_size=1), _requests())
    assert {k: c.text for k, c in batched.items()} == {k: c.text for k, c in again.items()}
    assert {k: c.text for k, c in batched.items()} == {k: c.text for k, c in single.items()}
    assert len({c.text for c in batched.values()}) > 1  # outputs depend on the prompt
    for c in batched.values():
        assert c.error is None and c.latency_s > 0 and c.prompt_tokens > 0
        if c.finish_reason == "length":  # cut by max_tokens: flagged as truncated
            assert c.truncated and c.completion_tokens == 12
        else:  # ended by <|end|>, which counts as a generated token but is not in the text
            assert c.finish_reason == "stop" and not c.truncated and c.completion_tokens <= 12


def test_prompt_token_count_matches_the_rendered_template(base_backend, tiny_tokenizer):
    from assay.models.chat import render_chat

    got = _run(base_backend, _requests(prompts=["hello"]))["k0"]
    text = render_chat(tiny_tokenizer, [{"role": "user", "content": "hello"}])
    assert got.prompt_tokens == len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])


def test_stop_token_ends_generation_with_finish_reason_stop(tiny_model):
    import torch

    from assay.models.chat import render_chat

    backend = make_backend(parse_spec(f"hf:{tiny_model}"), batch_size=2)
    model, tok = backend.load()
    ids = tok(render_chat(tok, [{"role": "user", "content": "hello"}]), return_tensors="pt",
              add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        first = int(model(ids).logits[0, -1].argmax())
    # Declare the model's first greedy token a stop token (as Llama 3 declares two): generation
    # must end right there, the stop token counted but not shown.
    model.generation_config.eos_token_id = [tok.eos_token_id, first]
    got = _run(backend, _requests(Decoding(max_tokens=5), ["hello", "x"]))
    assert (got["k0"].text, got["k0"].finish_reason, got["k0"].completion_tokens) == \
        ("", "stop", 1)
    assert not got["k0"].truncated


def test_model_generation_defaults_do_not_leak_into_decoding(tiny_model, base_backend):
    backend = make_backend(parse_spec(f"hf:{tiny_model}"), batch_size=4)
    model, _ = backend.load()
    # A hub model's generation_config.json may carry these; the Decoding alone must decide.
    model.generation_config.repetition_penalty = 50.0
    model.generation_config.no_repeat_ngram_size = 1
    model.generation_config.top_k = 2
    plain = {k: c.text for k, c in _run(base_backend, _requests()).items()}
    assert {k: c.text for k, c in _run(backend, _requests()).items()} == plain


def test_cut_at_stop():
    assert cut_at_stop([5, 6, 2, 9], [2], 10) == ([5, 6, 2], "stop")
    assert cut_at_stop([5, 6, 7], [2], 3) == ([5, 6, 7], "length")
    assert cut_at_stop([5, 2, 2], [1, 2], 3) == ([5, 2], "stop")


def test_seeded_sampling_is_reproducible(base_backend):
    def sample(seed):
        reqs = _requests(Decoding(temperature=1.0, max_tokens=8, seed=seed))
        return {k: c.text for k, c in _run(base_backend, reqs).items()}

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)


def test_plan_batches_groups_by_decoding_longest_first():
    greedy, sampled = Decoding(), Decoding(temperature=0.7, seed=1)
    reqs = [Request(key=k, messages=[], decoding=d) for k, d in
            [("a", greedy), ("b", greedy), ("c", greedy), ("s1", sampled), ("s2", sampled)]]
    lengths = {"a": 5, "b": 9, "c": 7, "s1": 1, "s2": 2}
    batches = [[r.key for r in b] for b in plan_batches(reqs, lengths, 2)]
    assert batches == [["b", "c"], ["a"], ["s2"], ["s1"]]


def test_logprobs_in_openai_format_match_an_independent_forward_pass(base_backend,
                                                                     tiny_tokenizer):
    import torch

    dec = Decoding(max_tokens=2, logprobs=True, top_logprobs=3)
    got = _run(base_backend, _requests(dec, ["hello"]))["k0"]
    assert len(got.logprobs) == 2 and len(got.logprobs[0]["top_logprobs"]) == 3
    first = got.logprobs[0]
    # Greedy: the chosen token is the most likely one.
    assert first["top_logprobs"][0] == {"token": first["token"], "logprob": first["logprob"]}
    model, tok = base_backend.load()
    from assay.models.chat import render_chat

    ids = tok(render_chat(tok, [{"role": "user", "content": "hello"}]), return_tensors="pt",
              add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        expected = torch.log_softmax(model(ids).logits[0, -1], dim=-1).max().item()
    assert math.isclose(first["logprob"], expected, abs_tol=1e-4)
    assert sum(math.exp(t["logprob"]) for t in first["top_logprobs"]) <= 1.0 + 1e-6


def test_adapter_changes_outputs_and_identity(tiny_model, adapter, base_backend):
    tuned = make_backend(parse_spec(f"hf:{tiny_model}+{adapter}"), batch_size=4)
    base_out = _run(base_backend, _requests())
    tuned_out = _run(tuned, _requests())
    assert {k: c.text for k, c in base_out.items()} != {k: c.text for k, c in tuned_out.items()}
    base_id, tuned_id = base_backend.identity(), tuned.identity()
    assert base_id["weights"] == tuned_id["weights"]
    assert base_id["adapter"] is None and len(tuned_id["adapter"]) == 64
    assert base_id["chat_template"] == tuned_id["chat_template"]
    assert set(base_id) == {"backend", "model", "weights", "adapter", "chat_template", "dtype"}
    assert base_id["dtype"] == "float32"  # CPU


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(AssayError, match="does not exist"):
        make_backend(parse_spec(f"hf:{tmp_path}/nope"))
    with pytest.raises(AssayError, match="local Hugging Face cache.*hf download"):
        make_backend(parse_spec("hf:nobody/no-such-model-xyz"))


def test_bad_options(tiny_model):
    with pytest.raises(AssayError, match="batch-size"):
        make_backend(parse_spec(f"hf:{tiny_model}"), batch_size=0)
    with pytest.raises(AssayError, match="dtype"):
        make_backend(parse_spec(f"hf:{tiny_model}"), dtype="int3")


def test_template_that_cannot_turn_thinking_off_fails_and_changes_identity(tiny_model, tmp_path,
                                                                           base_backend):
    import shutil

    copy = shutil.copytree(tiny_model, tmp_path / "always-thinks")
    template = (copy / "chat_template.jinja").read_text()
    (copy / "chat_template.jinja").write_text(template.replace("<think>\n\n</think>\n\n",
                                                               "<think>\n"))
    backend = make_backend(parse_spec(f"hf:{copy}"))
    assert backend.identity()["chat_template"] != base_backend.identity()["chat_template"]
    with pytest.raises(AssayError, match="thinking mode is off"):
        _run(backend, _requests())


def test_hub_id_resolves_from_the_local_cache_only(tiny_model, tmp_path, monkeypatch,
                                                   base_backend):
    """A hub id in the HF cache layout (snapshot symlinks to sha256-named blobs) loads offline."""
    import hashlib
    import os

    from huggingface_hub import constants

    repo = tmp_path / "hub" / "models--acme--tiny"
    snap = repo / "snapshots" / ("c" * 40)
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("c" * 40)
    for f in tiny_model.iterdir():
        blob = repo / "blobs" / hashlib.sha256(f.read_bytes()).hexdigest()
        blob.write_bytes(f.read_bytes())
        os.symlink(blob, snap / f.name)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    backend = make_backend(parse_spec("hf:acme/tiny"))
    assert backend.files.model_dir == snap
    assert backend.identity()["weights"] == base_backend.identity()["weights"]
    got = _run(backend, _requests(prompts=["hello"]))
    assert got["k0"].text == _run(base_backend, _requests(prompts=["hello"]))["k0"].text


GPU_LESS_LINUX = sys.platform.startswith("linux") and not (
    os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/kfd"))


@pytest.mark.skipif(not GPU_LESS_LINUX, reason="the no-torch path needs a GPU-less Linux")
def test_identity_does_not_import_torch_on_a_gpu_less_machine(tiny_model, tmp_path):
    """A fully cached rerun needs only identity(): it must not pay for importing torch."""
    code = ("import sys; from assay.models import make_backend, parse_spec; "
            f"i = make_backend(parse_spec('hf:{tiny_model}')).identity(); "
            "print(i['dtype'], 'torch' in sys.modules)")
    env = dict(os.environ, ASSAY_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    assert out == ["float32", "False"]


def test_loading_draws_no_library_bar_and_leaves_the_setting_as_it_was(tiny_model, capsys):
    """transformers' "Loading weights" bar is held back while assay loads; a caller that has
    the bars on keeps them on afterwards."""
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    backend = make_backend(parse_spec(f"hf:{tiny_model}"), batch_size=2)
    backend.load()
    err = capsys.readouterr().err
    assert "Loading weights" not in err and "it/s" not in err
    assert hf_logging.is_progress_bar_enabled()
