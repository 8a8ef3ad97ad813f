"""The embedding cache: nothing is embedded twice, vectors come back in order, normalised.

A stand-in model counts what it is asked to encode, so the cache logic is tested without loading
MiniLM; the real model is exercised in tests/tasks/test_haiku_review.py."""

from __future__ import annotations

import numpy as np
import pytest

import assay.embed as embed
from assay.embed import EmbedConfig, Embedder, cosine_matrix, text_key


class CountingModel:
    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, batch_size, normalize_embeddings, convert_to_numpy,
               show_progress_bar):
        assert normalize_embeddings and len(texts) <= batch_size
        self.seen += list(texts)
        vecs = np.array([[len(t), t.count("a") + 1.0, 1.0] for t in texts])
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


@pytest.fixture
def fake(monkeypatch):
    model = CountingModel()
    monkeypatch.setattr(embed, "load_model", lambda name: model)
    return model


def test_cache_never_recomputes(tmp_path, fake):
    e = Embedder(EmbedConfig(store_dir=tmp_path, batch_size=2, progress=False))
    first = e.embed(["a", "bb", "a", "ccc"])
    assert fake.seen == ["a", "bb", "ccc"] and e.computed == 3 and e.cached == 0
    second = Embedder(EmbedConfig(store_dir=tmp_path, progress=False)).embed(["ccc", "a", "dd"])
    assert fake.seen == ["a", "bb", "ccc", "dd"]
    np.testing.assert_allclose(second[:2], first[[3, 0]])
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    assert e.cache.count(embed.DEFAULT_MODEL) == 4


def test_cache_is_keyed_by_model(tmp_path):
    cache = embed.EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("m1", [(text_key("x"), np.ones(3))])
    assert cache.get_many("m2", [text_key("x")]) == {}
    assert list(cache.get_many("m1", [text_key("x")])) == [text_key("x")]


def test_empty_and_bad_input(tmp_path, fake):
    e = Embedder(EmbedConfig(store_dir=tmp_path, progress=False))
    assert e.embed([]).shape == (0, 384)
    with pytest.raises(ValueError, match="texts must be a sequence of str"):
        e.embed("one string")
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        EmbedConfig(batch_size=0)


def test_cosine_matrix():
    a = np.array([[3.0, 4.0], [0.0, 0.0]])
    b = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(cosine_matrix(a, b), [[0.6, 0.8], [0.0, 0.0]])
    with pytest.raises(ValueError, match="same width"):
        cosine_matrix(a, np.ones((2, 3)))


def test_embed_present_puts_zero_rows_where_there_is_no_text():
    class Emb:
        seen: list = []

        def embed(self, texts):
            self.seen.append(list(texts))
            return np.ones((len(texts), 3), dtype=np.float32)

    e = Emb()
    out = embed.embed_present(e, ["x", None, ""], 3)
    assert out.tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1]] and e.seen[-1] == ["x", ""]
    out = embed.embed_present(e, ["x", None, ""], 3, empty_is_absent=True)
    assert out.tolist() == [[1, 1, 1], [0, 0, 0], [0, 0, 0]] and e.seen[-1] == ["x"]
    assert embed.embed_present(e, [None], 3).tolist() == [[0, 0, 0]] and len(e.seen) == 2
