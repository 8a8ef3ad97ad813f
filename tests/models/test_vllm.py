"""The vllm backend against a stand-in ``vllm`` module (vLLM itself needs a GPU)."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass, field

import pytest

from assay.errors import MissingDependency
from assay.models import Decoding, Request, make_backend, parse_spec
from assay.models.chat import render_chat
from assay.models.vllm import lora_rank, openai_logprobs


@dataclass
class FakeLogprob:
    logprob: float
    rank: int
    decoded_token: str


@dataclass
class FakeSamplingParams:
    kwargs: dict = field(default_factory=dict)


class FakeLLM:
    """Records what the backend sends; answers each prompt with its own token count."""

    instances: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls = []
        FakeLLM.instances.append(self)

    def get_tokenizer(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.kwargs["tokenizer"])

    def generate(self, prompts, params, lora_request=None, use_tqdm=True):
        self.calls.append((prompts, params, lora_request))
        outs = []
        for p, sp in zip(prompts, params):
            ids = [7, 8]
            steps = [{7: FakeLogprob(-0.1, 1, "a"), 9: FakeLogprob(-2.5, 2, "c")},
                     {8: FakeLogprob(-0.3, 1, "b"), 9: FakeLogprob(-1.5, 2, "c")}]
            done = types.SimpleNamespace(text=f"n={len(p['prompt_token_ids'])}", token_ids=ids,
                                         finish_reason="length", logprobs=steps)
            outs.append(types.SimpleNamespace(prompt_token_ids=p["prompt_token_ids"],
                                              outputs=[done]))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path / "cache"))
    vllm = types.ModuleType("vllm")
    vllm.LLM = FakeLLM
    vllm.SamplingParams = lambda **kw: FakeSamplingParams(kw)
    lora = types.ModuleType("vllm.lora")
    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = lambda name, i, path: ("lora", name, i, path)
    for name, mod in [("vllm", vllm), ("vllm.lora", lora), ("vllm.lora.request", request)]:
        monkeypatch.setitem(sys.modules, name, mod)
    FakeLLM.instances.clear()
    return vllm


def test_missing_vllm_names_the_extra(monkeypatch, tiny_model):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(MissingDependency, match=r"pip install 'assay\[vllm\]'"):
        make_backend(parse_spec(f"vllm:{tiny_model}"))


def test_requests_map_to_sampling_params_and_rendered_prompts(fake_vllm, tiny_model,
                                                              tiny_tokenizer):
    backend = make_backend(parse_spec(f"vllm:{tiny_model}"), batch_size=3, chunk_size=2)
    decodings = [Decoding(), Decoding(temperature=0.8, top_p=0.9, max_tokens=64, seed=11),
                 Decoding(logprobs=True, top_logprobs=1, enable_thinking=True)]
    reqs = [Request(key=f"k{i}", messages=[{"role": "user", "content": f"q{i}"}], decoding=d)
            for i, d in enumerate(decodings)]
    got = {}
    backend.generate(reqs, lambda r, c: got.__setitem__(r.key, c))

    llm = FakeLLM.instances[0]
    assert llm.kwargs["model"] == str(tiny_model.resolve()) and "enable_lora" not in llm.kwargs
    assert [len(c[0]) for c in llm.calls] == [2, 1]  # chunks of 2
    params = [p.kwargs for call in llm.calls for p in call[1]]
    assert params == [
        {"temperature": 0.0, "top_p": 1.0, "max_tokens": 512},
        {"temperature": 0.8, "top_p": 0.9, "max_tokens": 64, "seed": 11},
        {"temperature": 0.0, "top_p": 1.0, "max_tokens": 512, "logprobs": 1}]
    sent = [p["prompt_token_ids"] for call in llm.calls for p in call[0]]
    for req, ids in zip(reqs, sent):
        text = render_chat(tiny_tokenizer, req.messages,
                           enable_thinking=req.decoding.enable_thinking)
        assert ids == tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert got["k0"].text == f"n={len(sent[0])}" and got["k0"].prompt_tokens == len(sent[0])
    assert got["k0"].finish_reason == "length" and got["k0"].completion_tokens == 2
    assert got["k0"].logprobs is None
    assert got["k2"].logprobs[1] == {"token": "b", "logprob": -0.3,
                                     "top_logprobs": [{"token": "b", "logprob": -0.3}]}
    assert backend.identity()["backend"] == "vllm"


def test_adapter_becomes_a_lora_request(fake_vllm, tiny_model, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 12}))
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    backend = make_backend(parse_spec(f"vllm:{tiny_model}+{adapter}"))
    backend.generate([Request(key="k", messages=[{"role": "user", "content": "hi"}],
                              decoding=Decoding())], lambda r, c: None)
    llm = FakeLLM.instances[0]
    assert llm.kwargs["enable_lora"] is True and llm.kwargs["max_lora_rank"] == 16
    assert llm.calls[0][2] == ("lora", "adapter", 1, str(adapter.resolve()))
    assert backend.identity()["adapter"] is not None


def test_lora_rank_and_logprob_conversion(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 64}))
    assert lora_rank(tmp_path) == 64
    steps = [{3: FakeLogprob(-1.0, 2, "x"), 4: FakeLogprob(-0.5, 1, "y")}]
    assert openai_logprobs([3], steps, 2) == [{"token": "x", "logprob": -1.0, "top_logprobs": [
        {"token": "y", "logprob": -0.5}, {"token": "x", "logprob": -1.0}]}]
