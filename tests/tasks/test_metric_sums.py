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
