"""Every registered task's declared metrics (and their baselines, gaps and slices) against the
quantity computed directly from the same per-item scores (numpy / scikit-learn): the value a
run writes to metrics.json and the comparison table shows is the one its description names.

Paper-review and bias-judge records come from the task's own ``score`` on synthetic answers;
haiku-review and the PR tasks (whose scoring embeds or reads a diff) from score dicts with the
keys their ``score`` writes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

from assay.records import by_item
from assay.tasks import TASKS, get_task
from assay.tasks._protocol import ORIGINAL, SWAPPED, Output, Unparsed


def rec(item, scores, pass_=ORIGINAL, sample=None, parse_error=None):
    return {"id": str(item), "model": "m", "pass": pass_, "sample": sample, "output": "x",
            "parse_error": parse_error, "truncated": False, "latency_s": 0.1, "error": None,
            "scores": scores}


def values_of(task, recs):
    from assay.run import compute_metrics

    out = compute_metrics(task, {"m": recs})
    return out["models"]["m"], {k: v["value"] for k, v in out["baselines"]["m"].items()}, \
        out["details"]["m"]


def test_every_registered_task_is_audited_here():
    """Every task assay ships (a task module loaded by an earlier test registers its own too,
    as a class: those are not assay's)."""
    shipped = {n for n, e in TASKS.items() if isinstance(e, str) and e.startswith("assay.tasks.")}
    assert shipped == {"paper-review", "bias-judge", "haiku-review", "pr-describe",
                       "pr-review", "pr-improve"}


# ---- paper-review -------------------------------------------------------------------------

def _review(decision):
    from assay.tasks.paper_review import DECISION_LINES, SECTIONS

    body = "\n".join(f"## {s}\ntext" for s in SECTIONS)
    return body if decision is None else body + "\n" + DECISION_LINES[decision]


@pytest.fixture
def paper():
    task = get_task("paper-review")
    rng = np.random.default_rng(11)
    n = 150
    gold = np.where(rng.random(n) < 0.7, "accept", "reject")
    pred = np.where(rng.random(n) < 0.65, gold, np.where(gold == "accept", "reject", "accept"))
    pred = pred.astype(object)
    pred[rng.random(n) < 0.12] = None
    venue = rng.choice(["acl", "iclr"], n)
    paper_id = rng.integers(0, 60, n)
    p = rng.random(n)
    has_p = rng.random(n) < 0.8
    recs = []
    for i in range(n):
        item = {"id": str(i), "title": "t", "abstract": "a", "decision": gold[i],
                "venue": venue[i], "paper_id": int(paper_id[i])}
        text = _review(pred[i])
        lp = None
        if has_p[i]:  # a chosen token ACCEPTANCE with logprob log(p) and REJECTION log(1 - p)
            lp = [{"token": "I recommend this paper for ", "logprob": 0.0},
                  {"token": "ACCEPTANCE", "logprob": float(np.log(p[i])),
                   "top_logprobs": [{"token": "REJECTION", "logprob": float(np.log1p(-p[i]))}]}]
        parsed = task.parse(text)
        s = task.score(item, parsed, Output(text, logprobs=lp))
        recs.append(rec(i, s, parse_error=parsed.reason if isinstance(parsed, Unparsed)
                        else None))
    return task, recs, dict(gold=gold, pred=pred, venue=venue, p=p, has_p=has_p)


def test_paper_review_metrics_equal_the_direct_computation(paper):
    task, recs, d = paper
    gold = d["gold"]
    wrong = np.where(gold == "accept", "reject", "accept")
    pred = np.array([w if v is None else v for v, w in zip(d["pred"], wrong)])  # failure: wrong
    values, baselines, details = values_of(task, recs)
    prev = np.mean(gold == "accept")
    assert d["has_p"].any() and (d["pred"] == None).any()  # noqa: E711
    want = {
        "kappa": cohen_kappa_score(gold, pred),
        "structure_compliance": np.mean([v is not None for v in d["pred"]]),
        "accuracy": np.mean(d["pred"] == gold),
        "f1": f1_score(gold, pred, pos_label="accept"),
        "precision": precision_score(gold, pred, pos_label="accept"),
        "recall": recall_score(gold, pred, pos_label="accept"),
        "predicted_accept_rate": np.mean(d["pred"] == "accept"),
        "true_accept_rate": prev,
        "accept_rate_gap": abs(np.mean(d["pred"] == "accept") - prev),
    }
    for name, w in want.items():
        assert values[name] == pytest.approx(w, abs=1e-12), name
    # the ECE of P(ACCEPTANCE) over the items with logprobs, bins [k/10, (k+1)/10)
    p, y = d["p"][d["has_p"]], (gold == "accept")[d["has_p"]]
    k = np.minimum((p * 10).astype(int), 9)
    ece = sum(abs(y[k == b].sum() - p[k == b].sum()) for b in range(10)) / len(p)
    assert values["ece"] == pytest.approx(ece, abs=1e-9)
    assert details["calibration"]["ece"] == pytest.approx(ece, abs=1e-9)
    assert details["calibration"]["n"] == d["has_p"].sum()
    # baselines: the majority label's accuracy; always-accept's F1, precision, recall
    assert baselines["accuracy"] == pytest.approx(max(prev, 1 - prev), abs=1e-12)
    assert baselines["f1"] == pytest.approx(2 * prev / (1 + prev), abs=1e-12)
    assert baselines["precision"] == pytest.approx(prev, abs=1e-12)
    assert baselines["recall"] == pytest.approx(1.0)
    assert baselines["predicted_accept_rate"] == pytest.approx(prev, abs=1e-12)
    # the confusion in details
    c = details["confusion"]
    assert (c["tp"], c["fn"], c["fp"], c["tn"]) == (
        np.sum((gold == "accept") & (pred == "accept")),
        np.sum((gold == "accept") & (pred == "reject")),
        np.sum((gold == "reject") & (pred == "accept")),
        np.sum((gold == "reject") & (pred == "reject")))
    assert details["baselines"]["majority_accuracy"] == pytest.approx(max(prev, 1 - prev))
    # per venue: kappa, accuracy and F1 and their sliced baselines
    for v in ("acl", "iclr"):
        inv = d["venue"] == v
        pv = np.mean(gold[inv] == "accept")
        assert values[f"kappa/{v}"] == pytest.approx(cohen_kappa_score(gold[inv], pred[inv]),
                                                     abs=1e-12)
        assert values[f"accuracy/{v}"] == pytest.approx(np.mean(d["pred"][inv] == gold[inv]),
                                                        abs=1e-12)
        assert baselines[f"accuracy/{v}"] == pytest.approx(max(pv, 1 - pv), abs=1e-12)
        assert values[f"f1/{v}"] == pytest.approx(f1_score(gold[inv], pred[inv],
                                                           pos_label="accept"), abs=1e-12)
        assert baselines[f"f1/{v}"] == pytest.approx(2 * pv / (1 + pv), abs=1e-12)


# ---- bias-judge ---------------------------------------------------------------------------

MIRROR = {"A": "B", "B": "A", "TIE": "TIE"}


def _answer(v):
    return "<reasoning>r</reasoning>" + ("" if v is None else f"<verdict>{v}</verdict>")


@pytest.fixture
def bias():
    task = get_task("bias-judge")
    rng = np.random.default_rng(5)
    n = 160
    labels = np.array(["A", "B", "TIE"])
    human = rng.choice(labels, n)
    orig = np.where(rng.random(n) < 0.6, human, rng.choice(labels, n)).astype(object)
    orig[rng.random(n) < 0.1] = None
    # the swapped pass's verdict in original labels: mostly mirrored back to orig
    swap = np.where(rng.random(n) < 0.75, orig, rng.choice(labels, n)).astype(object)
    swap[rng.random(n) < 0.08] = None
    k = np.where(rng.random(n) < 0.2, 1, 5)  # some pairs have one sample
    samples = [[(orig[i] if rng.random() < 0.7 else rng.choice(labels)) if rng.random() > 0.05
                else None for _ in range(k[i])] for i in range(n)]
    len_a, len_b = rng.integers(5, 80, n), rng.integers(5, 80, n)
    slice_ = rng.choice(["ambig", "disambig"], n)
    cat = rng.choice(["age", "race"], n)
    question = rng.integers(0, 70, n)
    recs = []
    for i in range(n):
        item = {"id": str(i), "question_text": "q", "response_a": {"text": "w " * len_a[i]},
                "response_b": {"text": "w " * len_b[i]}, "human_verdict": human[i],
                "eval_slice": slice_[i], "pair_category": cat[i],
                "question_id": int(question[i])}
        runs = [(ORIGINAL, None, orig[i]),
                # the model answers in the swapped labels: its raw verdict is the mirror
                (SWAPPED, None, None if swap[i] is None else MIRROR[swap[i]])]
        runs += [(ORIGINAL, j, v) for j, v in enumerate(samples[i])]
        for pass_, sample, v in runs:
            text = _answer(v)
            parsed = task.parse(text)
            s = task.score(item, parsed, Output(text, pass_=pass_, sample=sample))
            recs.append(rec(i, s, pass_, sample,
                            parsed.reason if isinstance(parsed, Unparsed) else None))
    return task, recs, dict(human=human, orig=orig, swap=swap, samples=samples, len_a=len_a,
                            len_b=len_b, slice=slice_, cat=cat)


def _gap(v, a, b):
    return a - b if v == "A" else b - a if v == "B" else None


def test_bias_judge_metrics_equal_the_direct_computation(bias):
    task, recs, d = bias
    h, o, sw = d["human"], d["orig"], d["swap"]
    values, baselines, details = values_of(task, recs)
    parsed = np.array([v is not None for v in o])
    both = parsed & np.array([v is not None for v in sw])
    consistent = []
    for i, ss in enumerate(d["samples"]):
        vs = list(ss) + ([o[i]] if len(ss) == 1 else [])
        if all(v is not None for v in vs):
            consistent.append(len(set(vs)) == 1)
    model_gap = [g for i in range(len(h))
                 if (g := _gap(o[i], d["len_a"][i], d["len_b"][i])) is not None]
    human_gap = [g for i in range(len(h))
                 if (g := _gap(h[i], d["len_a"][i], d["len_b"][i])) is not None]
    _, counts = np.unique(h, return_counts=True)
    want = {"kappa": cohen_kappa_score(h[parsed], o[parsed].astype(str)),
            "agreement": np.mean(o == h),
            "position_bias": np.mean(o[both] != sw[both]),
            "self_consistency": np.mean(consistent),
            "verbosity_bias": np.mean(model_gap)}
    for name, w in want.items():
        assert values[name] == pytest.approx(w, abs=1e-12), name
    assert baselines["agreement"] == pytest.approx(counts.max() / len(h), abs=1e-12)
    assert baselines["verbosity_bias"] == pytest.approx(np.mean(human_gap), abs=1e-12)
    # per-slice kappa and position bias, per slice x category kappa
    for s in ("ambig", "disambig"):
        ins = d["slice"] == s
        m = parsed & ins
        assert values[f"kappa/{s}"] == pytest.approx(cohen_kappa_score(h[m], o[m].astype(str)),
                                                     abs=1e-12)
        assert values[f"position_bias/{s}"] == pytest.approx(np.mean(o[both & ins]
                                                                     != sw[both & ins]),
                                                             abs=1e-12)
        for c in ("age", "race"):
            mc = m & (d["cat"] == c)
            assert values[f"kappa/{s}/{c}"] == pytest.approx(
                cohen_kappa_score(h[mc], o[mc].astype(str)), abs=1e-12)
            assert details["kappa_ci"][f"{s}/{c}"]["kappa"] == pytest.approx(
                values[f"kappa/{s}/{c}"], abs=1e-12)
    assert values["parse_failure_rate"] == pytest.approx(
        np.mean([r["parse_error"] is not None for r in recs]), abs=1e-12)


# ---- haiku-review -------------------------------------------------------------------------

def test_haiku_review_metrics_equal_the_direct_computation():
    from assay.tasks.haiku_review import CATEGORIES

    task = get_task("haiku-review")
    rng = np.random.default_rng(3)
    n = 140
    form = rng.random(n) < 0.55
    parsed = rng.random(n) < 0.85
    rel = np.where(parsed, rng.uniform(0.1, 0.8, n), 0.0)
    floor = np.where(parsed, rng.uniform(0.0, 0.3, n), 0.0)
    cats = np.array(list(CATEGORIES) + ["other"])
    gold = rng.choice(cats, n, p=[0.4, 0.25, 0.15, 0.1, 0.1])
    pred = np.where(rng.random(n) < 0.5, gold, rng.choice(cats[:4], n)).astype(object)
    pred[~parsed] = None
    recs = []
    for i in range(n):
        s = {"category": None if gold[i] == "other" else gold[i], "form_ok": bool(form[i]
                                                                               and parsed[i]),
             "syllables": [5, 7, 5] if parsed[i] else None, "low_confidence": [],
             "backticked": 0, "relevance": float(rel[i]), "relevance_floor": float(floor[i]),
             "category_predicted": pred[i], "category_correct": bool(pred[i] == gold[i]),
             "comment_category_predicted": gold[i]}
        recs.append(rec(i, s, parse_error=None if parsed[i] else "no haiku"))
    values, baselines, details = values_of(task, recs)
    lab = gold != "other"
    g, p = gold[lab], np.array(["none" if v is None else v for v in pred[lab]])
    _, counts = np.unique(g, return_counts=True)
    m = counts.max() / len(g)
    majority_f1 = f1_score(g, [g[np.argmax([np.sum(g == c) for c in g])]] * len(g),
                           labels=list(CATEGORIES), average="macro", zero_division=0)
    want = {"form_rate": np.mean(form & parsed), "relevance": rel.mean(),
            "relevance_gap": rel.mean() - floor.mean(),
            "relevance_parsed": rel[parsed].mean(),
            "category_macro_f1": f1_score(g, p, labels=list(CATEGORIES), average="macro",
                                          zero_division=0)}
    for name, w in want.items():
        assert values[name] == pytest.approx(w, abs=1e-12), name
    assert baselines["relevance"] == pytest.approx(floor.mean(), abs=1e-12)
    assert baselines["category_macro_f1"] == pytest.approx(majority_f1, abs=1e-12)
    assert majority_f1 == pytest.approx(2 * m / (1 + m) / 4)
    assert details["relevance"]["gap"] == pytest.approx(rel.mean() - floor.mean(), abs=1e-12)


# ---- the PR tasks -------------------------------------------------------------------------

def _pr_records(keys, n=90, seed=0):
    """Scores with schema_valid and, for valid answers, each key drawn or None (an answer with
    no issues or suggestions has no share)."""
    rng = np.random.default_rng(seed)
    valid = rng.random(n) < 0.8
    cols = {k: np.where(rng.random(n) < 0.15, np.nan, gen(rng, n)) for k, gen in keys.items()}
    recs = []
    for i in range(n):
        s = {"repo": "r", "pr_number": i, "schema_valid": bool(valid[i]), "diff_cut": False}
        if valid[i]:
            s.update({k: None if np.isnan(c[i]) else float(c[i]) for k, c in cols.items()})
        recs.append(rec(i, s, parse_error=None if valid[i] else "bad yaml"))
    for k in cols:
        cols[k] = np.where(valid, cols[k], np.nan)
    return recs, valid, cols


def _share(rng, n):
    return rng.integers(0, 4, n) / 3


def _count(rng, n):
    return rng.integers(0, 6, n).astype(float)


@pytest.mark.parametrize("name,keys,floors", [
    ("pr-review", {"issues_in_diff": _share, "issue_files_exist": _share, "n_issues": _count,
                   "effort": _count}, {}),
    ("pr-improve", {"existing_code_found": _share, "improved_differs": _share,
                    "suggestion_files_exist": _share, "n_suggestions": _count}, {}),
    ("pr-describe", {"files_named_exist": _share,
                     "title_similarity": lambda r, n: r.uniform(0, 1, n),
                     "title_floor": lambda r, n: r.uniform(0, 0.5, n),
                     "description_similarity": lambda r, n: r.uniform(0, 1, n),
                     "description_floor": lambda r, n: r.uniform(0, 0.5, n)},
     {"title_similarity": "title_floor", "description_similarity": "description_floor"}),
])
def test_pr_task_metrics_equal_the_direct_computation(name, keys, floors):
    task = get_task(name)
    recs, valid, cols = _pr_records(keys)
    values, baselines, _ = values_of(task, recs)
    assert values["schema_valid"] == pytest.approx(valid.mean(), abs=1e-12)
    metric_names = {m.name for m in task.metrics(recs)}
    for k in keys:
        if k in metric_names:
            assert values[k] == pytest.approx(np.nanmean(cols[k]), abs=1e-12), k
    for k, f in floors.items():
        assert baselines[k] == pytest.approx(np.nanmean(cols[f]), abs=1e-12), k
    if name == "pr-describe":
        assert values["title_similarity_gap"] == pytest.approx(
            np.nanmean(cols["title_similarity"]) - np.nanmean(cols["title_floor"]), abs=1e-12)


def test_pr_improve_reflection_score_is_the_mean_over_reflected_answers():
    from assay.tasks.pr.improve import REFLECTION

    recs, valid, cols = _pr_records({"reflection_score": lambda r, n: r.uniform(0, 10, n)},
                                    seed=4)
    assert REFLECTION.value(recs) == pytest.approx(np.nanmean(cols["reflection_score"]),
                                                   abs=1e-12)


def test_values_are_the_same_through_the_run_summary(paper):
    """assay show recomputes from items.jsonl through value_interval: the same numbers."""
    from assay.report.summary import _rows

    task, recs, _ = paper
    values, baselines, _ = values_of(task, recs)
    for row in _rows(task, {"m": recs}):
        assert row.values["m"] == pytest.approx(values[row.name], abs=1e-12, nan_ok=True)
        if row.baseline_name:
            assert row.baselines["m"] == pytest.approx(baselines[row.name], abs=1e-12)
