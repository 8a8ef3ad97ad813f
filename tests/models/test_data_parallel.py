"""A vLLM data-parallel set-up as assay sees it: N replicas given as one spec's URLs, or one
router in front of them. Both are the same model to the store (the identity comes from what
/v1/models reports), the replicas share the load, and --rpm limits the model as a whole, not
each replica."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.run import EvalConfig, evaluate
from assay.testing import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _fixtures_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "fixtures"))


def _cfg(tmp_path, urls, **kw):
    data = tmp_path / "i.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": f"{i}?", "answer": "yes"})
                            + "\n" for i in range(kw.pop("n", 24))))
    return EvalConfig(task="exact", task_module="exact_task", data=str(data),
                      models=[f"a=openai:qwen@{','.join(urls)}"], out=str(tmp_path / "run"),
                      store=str(tmp_path / "s.sqlite"), force=True, **kw)


def test_replicas_and_a_router_are_one_model_to_the_store(tmp_path):
    yes = lambda body: "yes"  # noqa: E731
    with FakeOpenAIServer(yes, models=["qwen"], latency_s=0.01) as r1, \
            FakeOpenAIServer(yes, models=["qwen"], latency_s=0.01) as r2:
        first = evaluate(_cfg(tmp_path, [r1.base_url, r2.base_url], concurrency=4))
    assert first.requests_sent == 24
    assert r1.stats.requests >= 6 and r2.stats.requests >= 6  # both replicas served
    with FakeOpenAIServer(yes, models=["qwen"]) as router:
        again = evaluate(_cfg(tmp_path, [router.base_url]))
    assert again.requests_sent == 0 and again.cache_hits == 24 and router.stats.requests == 0
    assert first.manifest["models"]["a"]["identity"] == again.manifest["models"]["a"]["identity"]


def test_rpm_limits_the_model_across_its_replicas(tmp_path):
    with FakeOpenAIServer(lambda b: "yes") as r1, FakeOpenAIServer(lambda b: "yes") as r2:
        evaluate(_cfg(tmp_path, [r1.base_url, r2.base_url], n=8, rpm=240, concurrency=8))
        arrivals = sorted(r1.stats.arrivals + r2.stats.arrivals)
    assert len(arrivals) == 8
    assert arrivals[-1] - arrivals[0] >= 7 * 0.25 - 0.05  # 240/min in all, not per replica
