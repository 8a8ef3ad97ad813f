"""Every metric that declares item_stats/from_sums equals its own compute() on real records, so
the fast bootstrap of a comparison resamples exactly the metric the run reports."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from assay.predictions import ScoreConfig, score_predictions
from assay.rundir import load_run, task_of
from assay.tasks.judge_verdicts import convert_file


def check_sums(task, records):
    by_item = defaultdict(list)
    for r in records:
        by_item[r["id"]].append(r)
    checked = 0
    for metric in task.metrics(records):
        if metric.item_stats is None:
            continue
        sums = np.sum([np.asarray(metric.item_stats(v), dtype=float) for v in by_item.values()],
                      axis=0)
        fast, slow = float(metric.from_sums(sums)), metric.compute(records)
        assert (math.isnan(fast) and math.isnan(slow)) or fast == pytest.approx(slow), metric.name
        checked += 1
    return checked


@pytest.mark.realdata
def test_bias_judge_sums_equal_compute_on_the_published_verdicts(shared_data, tmp_path):
    src = shared_data / "judge-from-scratch"
    convert_file(src / "sft_verdicts.jsonl", tmp_path / "p.jsonl")
    res = score_predictions(ScoreConfig(task="bias-judge", data=str(src / "eval_set.jsonl"),
                                        predictions=[f"sft={tmp_path / 'p.jsonl'}"],
                                        out=str(tmp_path / "run")))
    run = load_run(res.out_dir)
    assert check_sums(task_of(run), run.records) >= 20


def test_paper_review_sums_equal_compute(tmp_path):
    import json
    import random
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "examples" / "paper-review" / "test.jsonl"
    rng = random.Random(0)
    lines = []
    for item in map(json.loads, data.read_text().splitlines()):
        choice = rng.choice(["ACCEPTANCE", "REJECTION", None])
        text = f"## Summary\nok\nI recommend this paper for {choice}." if choice else "no idea"
        lines.append(json.dumps({"id": item["id"], "output": text}))
    preds = tmp_path / "p.jsonl"
    preds.write_text("\n".join(lines) + "\n")
    res = score_predictions(ScoreConfig(task="paper-review", data=str(data),
                                        predictions=[f"m={preds}"], out=str(tmp_path / "run")))
    run = load_run(res.out_dir)
    assert check_sums(task_of(run), run.records) >= 10


def test_haiku_review_sums_equal_compute_on_synthetic_records():
    import random

    from assay.tasks import get_task
    from assay.tasks.haiku_review import CATEGORIES

    rng = random.Random(4)
    records = []
    for i in range(60):
        parsed = rng.random() < 0.8
        records.append({
            "id": str(i), "model": "m", "pass": "original", "sample": None,
            "parse_error": None if parsed else "found 2 lines",
            "scores": {"form_ok": parsed and rng.random() < 0.3,
                       "relevance": rng.random() if parsed else 0.0,
                       "relevance_floor": rng.random() * 0.2,
                       "category": rng.choice(CATEGORIES + ("false positive",)),
                       "category_predicted": rng.choice(CATEGORIES) if parsed else None,
                       "category_correct": False}})
    assert check_sums(get_task("haiku-review"), records) == 4


def test_macro_f1_from_confusion_matches_macro_f1():
    import random

    from assay.stats import macro_f1, macro_f1_from_confusion

    labels = ["a", "b", "c"]
    rng = random.Random(2)
    for _ in range(20):
        gold = [rng.choice(labels) for _ in range(30)]
        pred = [rng.choice(labels + [None]) for _ in range(30)]
        cells = np.zeros(12)
        for g, p in zip(gold, pred):
            cells[labels.index(g) * 4 + (labels.index(p) if p in labels else 3)] += 1
        assert float(macro_f1_from_confusion(cells, 3)) == pytest.approx(
            macro_f1(gold, pred, labels=labels))
