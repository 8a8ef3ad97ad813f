"""Done-when of issue 18: a scripted loopback judge with a known preference and a known position
bias keeps its own log of decisions; the numbers `assay judge --json` prints (W/T/L, position
consistency, first-slot preference and its binomial test, parse failures, Cohen's kappa between
two judges, the candidates' paired comparison) equal those computed here from that log alone."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

import numpy as np
import pytest
from scipy.stats import binomtest

from assay.testing import FakeOpenAIServer, assay_script, script_env

N_ITEMS = 40
DIFF = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,3 @@\n a = 1\n+b = 2\n c = 3\n"
# P(the judge truly prefers the candidate), P(tie); the rest: the reference
PREFERENCE = {"base": (0.15, 0.15), "ft": (0.55, 0.15)}
POSITION_BIAS = {"judgeA": 0.25, "judgeB": 0.10}  # P(answer "Response 1" whatever it holds)
GARBAGE = 0.03  # P(an unparseable answer)


def _u(*parts) -> float:
    """A deterministic uniform draw from the parts (the judge's own randomness)."""
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(h[:12], 16) / 16 ** 12


def model_answer(body: dict) -> str:
    """base / ft / ref answers that say who wrote them, of varying length."""
    model = body["model"]
    title = re.search(r"PR title: (.+)", body["messages"][-1]["content"]).group(1)
    pad = "x" * int(50 + 400 * _u(model, title))
    return f"answer by model={model} for title={title} {pad}"


class ScriptedJudge:
    """The judge: a fixed true preference per (judge, candidate, item), the same in both orders,
    and a position bias that answers "1" regardless; every decision is logged."""

    def __init__(self):
        self.log: dict[tuple, dict] = {}

    def __call__(self, body: dict):
        if body["model"] not in POSITION_BIAS:
            return model_answer(body)
        judge, user = body["model"], body["messages"][-1]["content"]
        title = re.search(r"PR title: (.+)", user).group(1)
        first = user.split("## Response 1\n", 1)[1].split("\n\n## Response 2\n")[0]
        second = user.split("## Response 2\n", 1)[1]
        who = [re.search(r"model=(\w+)", s).group(1) for s in (first, second)]
        cand = next(w for w in who if w != "ref")
        order = "candidate_first" if who[0] == cand else "reference_first"
        if _u("garbage", judge, title, cand, order) < GARBAGE:
            self.log[(judge, cand, title, order)] = {"slot": None}
            return "I cannot decide: which_response_was_better is unclear"
        win, tie = PREFERENCE[cand]
        u = _u("pref", title, cand)  # shared by the judges: they agree beyond chance
        true = "cand" if u < win else "tie" if u < win + tie else "ref"
        if _u("bias", judge, title, cand, order) < POSITION_BIAS[judge]:
            slot = 1
        elif true == "tie":
            slot = 0
        else:
            slot = 1 if (who[0] == cand) == (true == "cand") else 2
        s1, s2 = 1 + int(9 * _u("s1", judge, title, order)), 1 + int(9 * _u("s2", judge, title))
        self.log[(judge, cand, title, order)] = {"slot": slot, "cand_first": who[0] == cand,
                                                 "s1": s1, "s2": s2}
        return (f"```yaml\nwhich_response_was_better: {slot}\nwhy: scripted\n"
                f"score_response1: {s1}\nscore_response2: {s2}\n```")


def _expected(log: dict, judge: str, cand: str) -> dict:
    """W/T/L, consistency, first-slot preference, parse failures from the log alone."""
    titles = sorted({t for (j, c, t, _) in log if j == judge and c == cand})
    w = t_ = l_ = unparsed = inconsistent = first = consistent = failures = 0
    outcomes = {}
    for title in titles:
        rows = [log[(judge, cand, title, o)] for o in ("candidate_first", "reference_first")]
        failures += sum(r["slot"] is None for r in rows)
        if any(r["slot"] is None for r in rows):
            unparsed += 1
            outcomes[title] = None
            continue
        res = []
        for r in rows:
            if r["slot"] == 0:
                res.append("tie")
            else:
                res.append("win" if (r["slot"] == 1) == r["cand_first"] else "loss")
        if res[0] == res[1]:
            consistent += 1
            out = res[0]
        else:
            inconsistent += 1
            first += sum(r["slot"] == 1 for r in rows) > sum(r["slot"] == 2 for r in rows)
            out = "tie"
        outcomes[title] = out
        w, t_, l_ = w + (out == "win"), t_ + (out == "tie"), l_ + (out == "loss")
    return {"wins": w, "ties": t_, "losses": l_, "pairs_unparsed": unparsed,
            "n_inconsistent": inconsistent, "parse_failures": failures,
            "position_consistency": consistent / (consistent + inconsistent),
            "first_slot_preference": first / inconsistent,
            "first_slot_pvalue": binomtest(first, inconsistent, 0.5).pvalue,
            "win_rate": (w + 0.5 * t_) / (w + t_ + l_), "outcomes": outcomes}


def _items(path):
    path.write_text("".join(json.dumps(
        {"id": f"o/r-{i}", "repo": "o/r", "pr_number": i, "title": f"change number {i}",
         "files": [{"path": "m.py", "diff": DIFF}]}) + "\n" for i in range(N_ITEMS)))


def _cli(*argv):
    return subprocess.run([assay_script(), *argv], env=script_env(), capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("judge")
    _items(tmp / "prs.jsonl")
    judge = ScriptedJudge()
    with FakeOpenAIServer(judge) as srv:
        url = srv.base_url
        models = [a for m in ("base", "ft", "ref") for a in ("--model", f"{m}=openai:{m}@{url}")]
        ev = _cli("eval", "pr-review", "--data", str(tmp / "prs.jsonl"), *models, "--out",
                  str(tmp / "run"), "--store", str(tmp / "store.sqlite"), "--json")
        assert ev.returncode == 0, ev.stderr
        argv = ["judge", str(tmp / "run"), "--candidate", "base", "--candidate", "ft",
                "--reference", "ref", "--judge", f"A=openai:judgeA@{url}", "--judge",
                f"B=openai:judgeB@{url}", "--out", str(tmp / "judged"), "--store",
                str(tmp / "store.sqlite"), "--n-resamples", "500", "--json"]
        first = _cli(*argv)
        assert first.returncode == 0, first.stderr
        again = _cli(*argv)
        assert again.returncode == 0, again.stderr
    return json.loads(first.stdout), json.loads(again.stdout), judge.log, tmp


@pytest.mark.parametrize("judge_name, model", [("A", "judgeA"), ("B", "judgeB")])
@pytest.mark.parametrize("cand", ["base", "ft"])
def test_counts_consistency_and_first_slot_preference_equal_the_judges_own_log(
        judged, judge_name, model, cand):
    out, _, log, _ = judged
    got = out["results"][cand]["judges"][judge_name]
    want = _expected(log, model, cand)
    for key in ("wins", "ties", "losses", "pairs_unparsed", "n_inconsistent", "parse_failures"):
        assert got[key] == want[key], key
    for key in ("position_consistency", "first_slot_preference", "first_slot_pvalue",
                "win_rate"):
        assert got[key] == pytest.approx(want[key], abs=1e-12), key
    assert got["ci_low"] <= got["win_rate"] <= got["ci_high"]
    # the scripted bias always says "Response 1": inconsistent pairs lean to the first slot
    assert got["first_slot_preference"] == 1.0


def test_cohen_kappa_between_the_judges_equals_sklearn_on_the_log(judged):
    from sklearn.metrics import cohen_kappa_score

    out, _, log, _ = judged
    for cand in ("base", "ft"):
        a, b = _expected(log, "judgeA", cand)["outcomes"], _expected(log, "judgeB", cand)["outcomes"]
        both = [t for t in a if a[t] and b.get(t)]
        want = cohen_kappa_score([a[t] for t in both], [b[t] for t in both],
                                 labels=["loss", "tie", "win"])
        got = out["agreement"][cand]["cohen_kappa"]["A vs B"]
        assert got["n"] == len(both) and got["kappa"] == pytest.approx(want, abs=1e-12)
        assert want > 0.3  # one true preference, two noisy judges


def test_pooled_win_rate_and_the_paired_comparison_follow_from_the_log(judged):
    out, _, log, _ = judged
    per_item = {}
    for cand in ("base", "ft"):
        vals = {}
        for model in ("judgeA", "judgeB"):
            for t, o in _expected(log, model, cand)["outcomes"].items():
                if o:
                    vals.setdefault(t, []).append({"win": 1, "tie": 0.5, "loss": 0}[o])
        per_item[cand] = {t: np.mean(v) for t, v in vals.items()}
        assert out["results"][cand]["pooled"]["win_rate"] == pytest.approx(
            np.mean(list(per_item[cand].values())), abs=1e-12)
    both = [t for t in per_item["base"] if t in per_item["ft"]]
    diff = np.mean([per_item["ft"][t] - per_item["base"][t] for t in both])
    comp = out["comparisons"][0]
    assert comp["candidate"] == "ft" and comp["baseline"] == "base" and comp["n"] == len(both)
    assert comp["difference"] == pytest.approx(diff, abs=1e-12)
    assert comp["ci_low"] < diff < comp["ci_high"] and comp["pvalue"] < 0.05  # ft truly better
    bt = out["bradley_terry"]
    assert bt["models"] == ["ref", "base", "ft"] and bt["strengths"][2] > bt["strengths"][1]


def test_a_rerun_sends_nothing_and_prints_the_same_numbers(judged):
    out, again, _, tmp = judged
    n = 2 * 2 * 2 * N_ITEMS  # judges x candidates x orders x items
    assert out["requests_sent"] == n and out["cache_hits"] == 0
    assert again["requests_sent"] == 0 and again["cache_hits"] == n
    assert again["results"] == out["results"] and again["agreement"] == out["agreement"]
    rows = [json.loads(x) for x in (tmp / "judged" / "judgments.jsonl").read_text().splitlines()]
    assert len(rows) == n and {r["why"] for r in rows if r["outcome"]} == {"scripted"}
    assert all(r["parse_error"] for r in rows if r["outcome"] is None)
    md = (tmp / "judged" / "judge.md").read_text()
    assert "| ft | pooled |" in md and "ft vs base" in md


def test_bad_input_is_one_line_naming_the_fix(judged):
    _, _, _, tmp = judged
    bad = _cli("judge", str(tmp / "run"), "--candidate", "nope", "--reference", "ref",
               "--judge", "A=openai:judgeA@http://127.0.0.1:9/v1", "--out", str(tmp / "x"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    line = bad.stderr.strip()
    assert "\n" not in line and "'nope'" in line and "Fix:" in line and "base, ft, ref" in line
    bad = _cli("judge", str(tmp / "run"), "--candidate", "ft", "--reference", "ref",
               "--judge", "no-spec", "--out", str(tmp / "x"))
    assert bad.returncode == 2 and "--judge" in bad.stderr and "Traceback" not in bad.stderr
    bad = _cli("judge", str(tmp / "run"), "--candidate", "ft", "--candidate", "ft",
               "--reference", "ref", "--judge", "A=openai:judgeA@http://127.0.0.1:9/v1",
               "--out", str(tmp / "x"))
    assert bad.returncode == 2 and "given twice" in bad.stderr and "Fix:" in bad.stderr
    bad = _cli("judge", str(tmp / "nowhere"), "--candidate", "ft", "--reference", "ref",
               "--judge", "A=openai:judgeA@http://127.0.0.1:9/v1", "--out", str(tmp / "x"))
    assert bad.returncode == 2 and "not a run directory" in bad.stderr


def test_goals_on_the_win_rate_are_judged_on_its_interval(judged, tmp_path):
    from assay.judge import JudgeConfig, judge_run

    _, again, _, tmp = judged
    goals = tmp_path / "goals.yaml"
    goals.write_text('win_rate: [">= 0.40", improve, ">= 0.95"]\n')
    cfg = JudgeConfig(run=str(tmp / "run"), candidates=("base", "ft"), reference="ref",
                      judges=("A=openai:judgeA@http://127.0.0.1:9/v1",), out=str(tmp_path / "o"),
                      store=str(tmp / "store.sqlite"), n_resamples=500, goals=str(goals))
    from assay.errors import AssayError

    with pytest.raises(AssayError, match="judge 'A'"):  # a dead judge fails fast, named
        judge_run(cfg)
    spec = again["judges"]["A"]  # the judgments are stored under the live server's identity
    res = judge_run(JudgeConfig(**{**cfg.__dict__, "judges": (f"A={spec}",)}))
    assert res.requests_sent == 0
    pooled = res.summary["results"]["ft"]["pooled"]
    v = {x["goal"]: x for x in res.summary["goals"]["verdicts"]}
    lo = pooled.ci_low
    assert v[">= 0.4"]["outcome"] == ("Hit" if lo >= 0.4 else "Inconclusive"
                                      if pooled.ci_high >= 0.4 else "Miss")
    assert v[">= 0.95"]["outcome"] == "Miss"
    assert v["improve (alpha 0.05)"]["outcome"] == "Hit"
    assert res.summary["goals"]["locked"] is False and "NOT LOCKED" in \
        res.summary["goals"]["warnings"][0]
    goals.write_text("kappa: improve\n")

    with pytest.raises(AssayError, match="win_rate"):
        judge_run(cfg.__class__(**{**cfg.__dict__, "judges": (f"A={spec}",)}))


def test_goals_on_win_rate_lock_with_a_pr_task(tmp_path):
    goals = tmp_path / "goals.yaml"
    goals.write_text('win_rate: [">= 0.40"]\nschema_valid: ">= 0.9"\n')
    done = _cli("goals", "lock", str(goals), "--task", "pr-review", "--json")
    assert done.returncode == 0, done.stderr
    lock = json.loads(done.stdout)
    assert [p["metric"] for p in lock["power"]] == ["win_rate", "schema_valid"]
    assert "assay judge" in lock["power"][0]["note"]


def test_lc_win_rate_equals_a_statsmodels_fit_on_the_judgments_file(judged):
    import warnings

    sm = pytest.importorskip("statsmodels.api")
    out, _, _, tmp = judged
    rows = [json.loads(x) for x in (tmp / "judged" / "judgments.jsonl").read_text().splitlines()]
    for cand in ("base", "ft"):
        for judge in ("A", "B"):
            by = {}
            for r in rows:
                if r["candidate"] == cand and r["judge"] == judge:
                    by.setdefault(r["id"], []).append(r)
            y, d = [], []
            for js in by.values():
                if all(j["outcome"] for j in js):
                    o = {j["outcome"] for j in js}
                    y.append({"win": 1.0, "tie": 0.5, "loss": 0.0}[o.pop()] if len(o) == 1 else 0.5)
                    d.append(js[0]["candidate_chars"] - js[0]["reference_chars"])
            x = np.tanh(np.array(d) / np.std(d, ddof=1))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = sm.GLM(np.array(y), sm.add_constant(x), family=sm.families.Binomial()).fit()
            got = out["results"][cand]["judges"][judge]
            assert got["lc_win_rate"] == pytest.approx(1 / (1 + np.exp(-fit.params[0])), abs=1e-8)
            assert got["lc_length_coef"] == pytest.approx(fit.params[1], abs=1e-6)
