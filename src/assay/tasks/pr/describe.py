"""Task pr-describe: a PR's diff in (its title hidden), a YAML description out (type, bullets,
title, files). Scored on structure (the schema holds, the files it names are in the diff) and
against the PR's own title, which the model never sees: MiniLM cosine similarity of the
generated title, and of the description, to the human title, each over its shuffle floor (the
mean similarity to the *other* PRs' titles, as haiku-review's relevance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...embed import embed_present
from ...metrics import Metric, gap_of, greedy_score, mean, rate
from .._protocol import Output, Unparsed, run_groups
from .base import DEFAULT_DIFF_TOKENS, PRTask, share

INSTRUCTIONS = (
    "You describe pull requests. Read the diff and write the PR's type, a concise title, a "
    "description of up to four short bullet points saying what changed and why, and the "
    "changed files that matter, each with a one-line summary.")


class PRDescribe(PRTask):
    name = "pr-describe"
    description = "a pull request's diff in; a YAML description (type, title, bullets) out"
    top_keys = ("type", "title", "description", "pr_files")
    instructions = INSTRUCTIONS
    show_title = False

    def __init__(self, split: str = "all", test_share: float = 0.2, seed: int = 0,
                 diff_tokens: int = DEFAULT_DIFF_TOKENS, similarity: bool = True,
                 store: str = ".assay", batch_size: int = 32):
        super().__init__(split, test_share, seed, diff_tokens)
        self.similarity, self.store, self.batch_size = similarity, store, batch_size
        self._embedder = None

    @property
    def answer_model(self) -> type:
        from .schemas import PRDescription

        return PRDescription

    def score_answer(self, item: dict, answer: dict) -> dict[str, Any]:
        shown = self.shown(item)
        named = [shown.file(f["filename"]) is not None for f in answer["pr_files"]]
        bullets = [ln for ln in answer["description"].splitlines()
                   if ln.strip().startswith(("-", "*"))]
        return {"n_bullets": len(bullets), "title_words": len(answer["title"].split()),
                "files_named": len(named), "files_named_exist": share(named)}

    def embedder(self):
        if self._embedder is None:
            from ...embed import EmbedConfig, Embedder

            self._embedder = Embedder(EmbedConfig(store_dir=self.store,
                                                  batch_size=self.batch_size))
        return self._embedder

    def score_batch(self, items: Sequence[dict], parsed: Sequence[Any],
                    outputs: Sequence[Output]) -> list[dict[str, Any]]:
        scores = [self.score(i, p, o) for i, p, o in zip(items, parsed, outputs)]
        if not self.similarity:
            return scores
        emb = self.embedder()
        titles = emb.embed([i["title"] for i in items])
        valid = [not isinstance(p, Unparsed) and p is not None for p in parsed]
        for key, text in (("title", lambda p: p["title"]),
                          ("description", lambda p: p["description"])):
            vecs = embed_present(emb, [text(p) if ok else None for p, ok in zip(parsed, valid)],
                                 titles.shape[1], empty_is_absent=True)
            for idx in run_groups(outputs).values():
                _similarity(scores, idx, vecs, titles, key)
        return scores

    def metrics(self, records: Sequence) -> list[Metric]:
        return list(METRICS) if self.similarity else [SCHEMA_VALID, FILES_EXIST]




def _similarity(scores: list[dict], idx: list[int], texts: np.ndarray, titles: np.ndarray,
                key: str) -> None:
    """Per item: similarity to its own PR's title, and the mean similarity to the others'."""
    sim = texts[idx].astype(np.float64) @ titles[idx].astype(np.float64).T
    n = len(idx)
    off = (sim.sum(axis=1) - np.diag(sim)) / (n - 1) if n > 1 else [None] * n
    for row, i in enumerate(idx):
        scores[i][f"{key}_similarity"] = float(sim[row, row])
        scores[i][f"{key}_floor"] = None if off[row] is None else float(off[row])


SCHEMA_VALID = rate("schema_valid", greedy_score("schema_valid"), role="primary",
                    description="share of answers that parse and validate against the schema")
TITLE_SIMILARITY = mean(
    "title_similarity", greedy_score("title_similarity"), role="primary",
    baseline=mean("shuffle floor", greedy_score("title_floor"), direction="none",
                  role="descriptive"),
    description="MiniLM cosine similarity of the generated title to the PR's own title; 0 for "
    "a parse failure")
TITLE_GAP = gap_of(TITLE_SIMILARITY, "title_similarity_gap", role="secondary",
                   description="title similarity minus its shuffle floor")
DESCRIPTION_SIMILARITY = mean(
    "description_similarity", greedy_score("description_similarity"),
    baseline=mean("shuffle floor", greedy_score("description_floor"), direction="none",
                  role="descriptive"),
    description="similarity of the generated description to the PR's own title")
FILES_EXIST = mean("files_named_exist", greedy_score("files_named_exist"),
                   description="share of the files named in pr_files that are in the diff")
METRICS = (SCHEMA_VALID, TITLE_SIMILARITY, TITLE_GAP, DESCRIPTION_SIMILARITY, FILES_EXIST)
