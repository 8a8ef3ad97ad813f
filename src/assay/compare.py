"""The paired comparison of two models on the same items: the question assay exists to answer.

``compare_runs`` joins the records of a base and a candidate model by (item id, pass, sample),
refuses to pair completions of different prompts, and for every metric of the task gives both
values, the difference with a confidence interval, the paired test that fits the metric
(McNemar on per-item pass/fail, a sign-flip permutation test on per-item floats, a paired
bootstrap of items for anything else, a cluster bootstrap when items share a group), Holm-adjusted
p-values, the baseline or floor and each model's gap over it, the smallest change the items could
have detected, and the items that flipped (lost / gained) with their outputs, so a person can
read what changed instead of trusting a number.

Conventions (documented once, here):
- A per-item pass/fail outcome comes from the greedy ``original`` record's ``scores[outcome]``.
  A missing key counts as *not passed* (a parse failure is a failure of the model), while an
  explicit ``None`` means "not applicable to this item" and drops the item from that test.
- Records whose request failed (``error`` set) are infrastructure failures, not model
  behaviour: their key is dropped from both sides and counted in a warning.
- When a metric declares a ``group`` the items are not independent, so McNemar and the
  sign-flip test would overstate the evidence; the p-value and CI then come from a cluster
  bootstrap (the McNemar table is still shown for reading the flipped items).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Any

from .errors import AssayError
from .rundir import Run, load_run
from .tasks import ORIGINAL, Metric

Key = tuple[str, str, Any]

# Truncation shares that differ by at least this much (absolute) and by a factor of two are
# flagged: a token limit sized for one model hides the other's hardest cases.
TRUNCATION_GAP = 0.05


@dataclass(frozen=True)
class Discordant:
    """One item whose pass/fail outcome differs between the models, with both outputs."""

    id: str
    base_output: str | None
    candidate_output: str | None
    base_parse_error: str | None = None
    candidate_parse_error: str | None = None


@dataclass(frozen=True)
class McNemarDetail:
    """The paired 2x2 table of one pass/fail metric: b = lost, c = gained."""

    n: int
    b: int
    c: int
    n_discordant: int
    pvalue: float
    lost: tuple[Discordant, ...] = ()
    gained: tuple[Discordant, ...] = ()


@dataclass(frozen=True)
class NoiseDetail:
    """How far a repeat run of the base model moved on this metric (the noise floor)."""

    repeat_value: float
    difference: float
    n: int
    flip_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    within_noise: bool = False


@dataclass(frozen=True)
class Distribution:
    """Per-item values of a float metric, kept for the score-distribution plot."""

    base: tuple[float, ...]
    candidate: tuple[float, ...]


@dataclass(frozen=True)
class MetricComparison:
    """One metric compared: values, difference with CI, paired test, baseline and gaps."""

    name: str
    test: str
    higher_is_better: bool
    n: int
    base: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    pvalue: float
    pvalue_holm: float = math.nan
    description: str = ""
    baseline_name: str | None = None
    base_baseline: float | None = None
    candidate_baseline: float | None = None
    base_gap: float | None = None
    candidate_gap: float | None = None
    min_detectable: float | None = None
    detectability: str = ""
    n_groups: int | None = None
    mcnemar: McNemarDetail | None = None
    noise: NoiseDetail | None = None
    distribution: Distribution | None = None
    n_resamples: int | None = None

    @property
    def improved(self) -> bool:
        """The difference points the good way (regardless of significance)."""
        return self.difference > 0 if self.higher_is_better else self.difference < 0


@dataclass(frozen=True)
class Side:
    """One model of the comparison and the facts about its run that bear on the result."""

    label: str
    run: str
    spec: str | None
    n_records: int
    truncated_share: float | None
    parse_failure_rate: float | None
    errors: int
    started_at: str | None
    data: str | None = None
    data_sha256: str | None = None


@dataclass(frozen=True)
class Comparison:
    """The result of ``compare_runs``; ``assay.report`` renders it, ``to_dict`` serialises it."""

    task: str
    base: Side
    candidate: Side
    n_items: int
    n_paired: int
    metrics: tuple[MetricComparison, ...]
    only_base: tuple[str, ...] = ()
    only_candidate: tuple[str, ...] = ()
    prompt_mismatches: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    goals: Any = None  # assay.goals.GoalsCheck
    noise_run: str | None = None
    details: dict = field(default_factory=dict)
    n_resamples: int = 10_000
    bootstrap_resamples: int = 1_000
    seed: int = 0
    confidence_level: float = 0.95
    created_at: str = ""

    def metric(self, name: str) -> MetricComparison:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no metric '{name}'; metrics: {[m.name for m in self.metrics]}")

    def to_dict(self, *, distributions: bool = True) -> dict:
        """Plain JSON-able data (nan as None); ``distributions=False`` leaves out the per-item
        scores kept for plots (the bulk of a large comparison)."""
        data = plain(self)
        if not distributions:
            for m in data["metrics"]:
                m["distribution"] = None
        return data


def plain(obj: Any) -> Any:
    """Dataclasses, tuples and floats as JSON-able values in one pass (nan and inf as None);
    faster than dataclasses.asdict, which deep-copies every leaf."""
    import dataclasses

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):
        return plain(obj.tolist())
    return str(obj)


# ---------------------------------------------------------------------------------------------
# Choosing the two sides


def _as_run(run: Run | str | Path) -> Run:
    return run if isinstance(run, Run) else load_run(run)


def _pick(run: Run, label: str | None, role: str, flag: str) -> str:
    if label is not None:
        if label not in run.models:
            raise AssayError(f"{role} model '{label}' is not in {run.path} (models: "
                             f"{', '.join(run.models)}). Fix: pass {flag} with one of these")
        return label
    if len(run.models) != 1:
        raise AssayError(f"{run.path} holds {len(run.models)} models ({', '.join(run.models)}); "
                         f"which is the {role}? Fix: pass {flag} LABEL")
    return run.models[0]


def choose_sides(run_a: Run, run_b: Run | None, base: str | None,
                 candidate: str | None) -> tuple[Run, str, Run, str]:
    """(base run, base label, candidate run, candidate label) from the arguments."""
    if run_b is None:
        labels = run_a.models
        if len(labels) < 2:
            raise AssayError(f"{run_a.path} holds one model ({', '.join(labels)}); a comparison "
                             "needs two. Fix: pass a second run directory: assay compare "
                             "RUN_A RUN_B")
        if base is None and candidate is None and len(labels) > 2:
            raise AssayError(f"{run_a.path} holds {len(labels)} models ({', '.join(labels)}). "
                             "Fix: pass --base LABEL and --candidate LABEL")
        base = _pick(run_a, base or next(x for x in labels if x != candidate), "base", "--base")
        rest = [x for x in labels if x != base]
        if candidate is None and len(rest) > 1:
            raise AssayError(f"several candidates for base '{base}' ({', '.join(rest)}). "
                             "Fix: pass --candidate LABEL")
        candidate = _pick(run_a, candidate or rest[0], "candidate", "--candidate")
        if candidate == base:
            raise AssayError(f"base and candidate are both '{base}'. Fix: pick two different "
                             "models")
        return run_a, base, run_a, candidate
    if base is not None and base not in run_a.models and base in run_b.models:
        run_a, run_b = run_b, run_a  # --base names the model of the second run
    return run_a, _pick(run_a, base, "base", "--base"), run_b, _pick(run_b, candidate,
                                                                        "candidate", "--candidate")


# ---------------------------------------------------------------------------------------------
# Joining records


def record_key(r: dict) -> Key:
    return (str(r["id"]), r.get("pass") or ORIGINAL, r.get("sample"))


def show_key(key: Key) -> str:
    """'42' for the greedy original pass, else '42 [swapped]' or '42 [original, sample 3]'."""
    item, pass_, sample = key
    if pass_ == ORIGINAL and sample is None:
        return item
    return f"{item} [{pass_}{'' if sample is None else f', sample {sample}'}]"


def _index(records: Sequence[dict], run: Run, label: str) -> dict[Key, dict]:
    out: dict[Key, dict] = {}
    for r in records:
        key = record_key(r)
        if key in out:
            raise AssayError(f"{run.path}: model '{label}' has two records for item "
                             f"{show_key(key)}. Fix: rerun the eval into a fresh directory")
        out[key] = r
    return out


@dataclass(frozen=True)
class Joined:
    """Records of both models on the keys they share (request failures dropped)."""

    base: list[dict]
    candidate: list[dict]
    only_base: tuple[str, ...]
    only_candidate: tuple[str, ...]
    mismatches: tuple[Key, ...]
    failed: int


def join(base: dict[Key, dict], cand: dict[Key, dict]) -> Joined:
    common = [k for k in base if k in cand]
    ok = [k for k in common if not base[k].get("error") and not cand[k].get("error")]
    mismatches = tuple(k for k in ok if base[k].get("prompt_hash") != cand[k].get("prompt_hash"))
    return Joined(base=[base[k] for k in ok], candidate=[cand[k] for k in ok],
                  only_base=tuple(show_key(k) for k in base if k not in cand),
                  only_candidate=tuple(show_key(k) for k in cand if k not in base),
                  mismatches=mismatches, failed=len(common) - len(ok))


def _mismatch_text(joined: Joined, base: dict[Key, dict], cand: dict[Key, dict]) -> str:
    k = joined.mismatches[0]
    return (f"{len(joined.mismatches)} of {len(joined.base)} paired completions were asked with "
            f"different prompts (e.g. item {show_key(k)}: base prompt_hash "
            f"{str(base[k].get('prompt_hash'))[:12]}, candidate "
            f"{str(cand[k].get('prompt_hash'))[:12]})")


def check_prompts(joined: Joined, base: dict, cand: dict, allow: bool) -> str | None:
    """Refuse different prompts (not a paired comparison) unless explicitly allowed."""
    if not joined.mismatches:
        return None
    text = _mismatch_text(joined, base, cand)
    if not allow:
        raise AssayError(f"{text}: different prompts are not a paired comparison. Fix: evaluate "
                         "both models on the same data with the same task options (one `assay "
                         "eval` with two --model flags is simplest), or pass "
                         "--allow-prompt-mismatch (allow_prompt_mismatch=True) to compare anyway "
                         "with a warning on every output")
    return f"PROMPTS DIFFER: {text}; this is not a clean paired comparison"


# ---------------------------------------------------------------------------------------------
# Per-item values


def _by_item(records: Sequence[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in records:
        out.setdefault(str(r["id"]), []).append(r)
    return out


def _greedy(records: Sequence[dict]) -> dict[str, dict]:
    return {str(r["id"]): r for r in records
            if r.get("sample") is None and (r.get("pass") or ORIGINAL) == ORIGINAL}


def _outcome(record: dict, key: str, cast) -> Any:
    """A per-item outcome; a missing key is a failure (0), an explicit None is not applicable."""
    scores = record.get("scores") or {}
    if key not in scores:
        return cast(0)
    value = scores[key]
    return None if value is None else cast(value)


def paired_outcomes(base: dict[str, dict], cand: dict[str, dict], key: str,
                    cast) -> tuple[list[str], list, list]:
    ids, a, b = [], [], []
    for item, rb in base.items():
        rc = cand.get(item)
        if rc is None:
            continue
        va, vb = _outcome(rb, key, cast), _outcome(rc, key, cast)
        if va is not None and vb is not None:
            ids.append(item)
            a.append(va)
            b.append(vb)
    return ids, a, b


def _groups(greedy: dict[str, dict], ids: Sequence[str], key: str) -> list[str]:
    """Cluster labels per item; an item without one is its own cluster."""
    out = []
    for item in ids:
        g = (greedy.get(item, {}).get("scores") or {}).get(key)
        out.append(f"group:{g}" if g is not None else f"item:{item}")
    return out


# ---------------------------------------------------------------------------------------------
# The tests


@dataclass(frozen=True)
class Ctx:
    """What every metric's test needs: both sides' records, indexed, and the settings."""

    base: list[dict]
    candidate: list[dict]
    base_greedy: dict[str, dict]
    cand_greedy: dict[str, dict]
    base_items: dict[str, list[dict]]
    cand_items: dict[str, list[dict]]
    n_resamples: int
    bootstrap_resamples: int
    seed: int
    confidence_level: float


def make_ctx(joined: Joined, n_resamples: int, bootstrap_resamples: int, seed: int,
             confidence_level: float) -> Ctx:
    return Ctx(joined.base, joined.candidate, _greedy(joined.base), _greedy(joined.candidate),
               _by_item(joined.base), _by_item(joined.candidate), n_resamples,
               bootstrap_resamples, seed, confidence_level)


def _discordant(ids, a, b, ctx: Ctx) -> tuple[tuple[Discordant, ...], tuple[Discordant, ...]]:
    def item(i):
        rb, rc = ctx.base_greedy[i], ctx.cand_greedy[i]
        return Discordant(i, rb.get("output"), rc.get("output"), rb.get("parse_error"),
                          rc.get("parse_error"))

    lost = tuple(item(i) for i, x, y in zip(ids, a, b) if x and not y)
    gained = tuple(item(i) for i, x, y in zip(ids, a, b) if y and not x)
    return lost, gained


def _mcnemar_detail(ids, a, b, ctx: Ctx):
    from .stats import mcnemar

    res = mcnemar(a, b, confidence_level=ctx.confidence_level)
    lost, gained = _discordant(ids, a, b, ctx)
    return res, McNemarDetail(res.n, res.b, res.c, res.n_discordant, res.pvalue, lost, gained)


def _bootstrap(metric: Metric, ctx: Ctx):
    """Paired bootstrap of items: one matrix product per chunk of resamples when the metric is
    a function of per-item sums (item_stats / from_sums), else the metric recomputed from the
    records on each resample (``bootstrap_resamples`` of them: one Python call per resample)."""
    from .stats import paired_bootstrap

    ids = [i for i in ctx.base_items if i in ctx.cand_items]
    base_lists = [ctx.base_items[i] for i in ids]
    cand_lists = [ctx.cand_items[i] for i in ids]
    if getattr(metric, "item_stats", None) is not None and getattr(metric, "from_sums", None):
        from .stats import sums_bootstrap

        groups = _groups(ctx.base_greedy, ids, metric.group) if metric.group else None
        return sums_bootstrap([metric.item_stats(x) for x in base_lists],
                              [metric.item_stats(x) for x in cand_lists], metric.from_sums,
                              n_resamples=ctx.n_resamples, confidence_level=ctx.confidence_level,
                              groups=groups, seed=ctx.seed)

    def statistic(lists):
        return metric.compute(list(chain.from_iterable(lists)))

    groups = _groups(ctx.base_greedy, ids, metric.group) if metric.group else None
    return paired_bootstrap(base_lists, cand_lists, statistic,
                            n_resamples=ctx.bootstrap_resamples,
                            confidence_level=ctx.confidence_level, groups=groups, seed=ctx.seed)


@dataclass(frozen=True)
class TestResult:
    test: str
    n: int
    difference: float
    ci_low: float
    ci_high: float
    pvalue: float
    n_groups: int | None = None
    mcnemar: McNemarDetail | None = None
    discordance_rate: float | None = None
    distribution: Distribution | None = None
    n_resamples: int | None = None


def run_test(metric: Metric, ctx: Ctx) -> TestResult:
    """The paired test that fits the metric (see the module docstring for the choice)."""
    detail, rate, dist = None, None, None
    if metric.test == "mcnemar" and metric.outcome:
        ids, a, b = paired_outcomes(ctx.base_greedy, ctx.cand_greedy, metric.outcome, bool)
        if not ids:
            return _undefined("mcnemar")
        res, detail = _mcnemar_detail(ids, a, b, ctx)
        rate = res.n_discordant / res.n
        if not metric.group:
            return TestResult("mcnemar", res.n, res.difference, res.ci_low, res.ci_high,
                              res.pvalue, None, detail, rate)
    if metric.test == "permutation" and metric.outcome:
        ids, a, b = paired_outcomes(ctx.base_greedy, ctx.cand_greedy, metric.outcome, float)
        if not ids:
            return _undefined("permutation")
        dist = Distribution(tuple(a), tuple(b))
        if not metric.group:
            return _permutation(a, b, ctx, dist)
    res = _bootstrap(metric, ctx)
    name = "cluster bootstrap" if metric.group else "bootstrap"
    return TestResult(name, res.n, res.difference, res.ci_low, res.ci_high, res.pvalue,
                      res.n_groups if metric.group else None, detail, rate, dist,
                      res.n_resamples)


def _permutation(a, b, ctx: Ctx, dist: Distribution) -> TestResult:
    from .stats import paired_bootstrap, permutation_test

    perm = permutation_test(a, b, n_resamples=ctx.n_resamples, seed=ctx.seed)
    boot = paired_bootstrap(a, b, n_resamples=ctx.n_resamples,
                            confidence_level=ctx.confidence_level, seed=ctx.seed)
    return TestResult("permutation", perm.n, perm.mean_difference, boot.ci_low, boot.ci_high,
                      perm.pvalue, None, None, None, dist)


def _undefined(test: str) -> TestResult:
    return TestResult(test, 0, math.nan, math.nan, math.nan, math.nan)


# ---------------------------------------------------------------------------------------------
# Baselines, detectability, noise


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def gap(value: float, baseline: float | None, higher_is_better: bool) -> float | None:
    """How far a value is on the good side of its baseline (negative: worse than the floor)."""
    if not _finite(baseline) or not _finite(value):
        return None
    return value - baseline if higher_is_better else baseline - value


def detectability(test: TestResult, level: float = 0.95, alpha: float = 0.05,
                  power: float = 0.8) -> tuple:
    """(minimum detectable difference, a sentence) for the items at hand.

    For a pass/fail metric this is the paired-proportion power calculation at the observed
    discordance rate; for other metrics it is approximated from the bootstrap interval's width
    ((z_alpha/2 + z_power) standard errors)."""
    if test.n == 0:
        return None, "no paired items"
    if test.test == "mcnemar" and test.discordance_rate:
        from .stats import min_detectable_difference

        mdd = min_detectable_difference(test.n, test.discordance_rate, alpha=alpha, power=power)
        how = f"{test.discordance_rate:.0%} discordant"
    elif _finite(test.ci_low) and _finite(test.ci_high) and test.ci_high - test.ci_low > 1e-9:
        from statistics import NormalDist

        z = NormalDist().inv_cdf
        se = (test.ci_high - test.ci_low) / (2 * z(0.5 + level / 2))
        mdd = (z(1 - alpha / 2) + z(power)) * se
        how = "from the bootstrap spread"
    else:
        return None, ""
    return mdd, (f"with {test.n} items ({how}) a change smaller than {mdd:.3g} "
                 f"({100 * mdd:.1f} points) is undetectable at alpha {alpha}, power {power}")


def noise_detail(metric: Metric, base_records: list[dict], repeat_records: list[dict],
                 difference: float) -> NoiseDetail | None:
    """Compare the base with a repeat run of itself on their shared items."""
    base_g, rep_g = _greedy(base_records), _greedy(repeat_records)
    shared = set(base_g) & set(rep_g)
    if not shared:
        return None
    b = [r for r in base_records if str(r["id"]) in shared]
    rp = [r for r in repeat_records if str(r["id"]) in shared]
    diff = metric.compute(rp) - metric.compute(b)
    flip = lo = hi = None
    if metric.test == "mcnemar" and metric.outcome:
        from .stats import noise_floor

        ids, x, y = paired_outcomes(base_g, rep_g, metric.outcome, bool)
        if ids:
            res = noise_floor(x, y)
            flip, lo, hi, diff = res.flip_rate, res.ci_low, res.ci_high, res.difference
    within = _finite(difference) and _finite(diff) and abs(difference) <= abs(diff)
    if lo is not None and _finite(difference):
        within = within or lo <= difference <= hi
    return NoiseDetail(metric.compute(rp), diff, len(shared), flip, lo, hi, bool(within))


# ---------------------------------------------------------------------------------------------
# Assembling the comparison


def _metric_map(task, records: list[dict]) -> dict[str, Metric]:
    return {m.name: m for m in task.metrics(records)}


def compare_metric(metric: Metric, cand_metric: Metric, ctx: Ctx) -> MetricComparison:
    base_v, cand_v = metric.compute(ctx.base), cand_metric.compute(ctx.candidate)
    test = run_test(metric, ctx)
    bb = metric.baseline(ctx.base) if metric.baseline else None
    cb = cand_metric.baseline(ctx.candidate) if cand_metric.baseline else None
    mdd, sentence = detectability(test, ctx.confidence_level)
    hib = metric.higher_is_better
    difference = (cand_v - base_v if _finite(cand_v) and _finite(base_v) else test.difference)
    return MetricComparison(
        name=metric.name, test=test.test, higher_is_better=hib, n=test.n, base=base_v,
        candidate=cand_v, difference=difference, ci_low=test.ci_low, ci_high=test.ci_high,
        pvalue=test.pvalue, description=metric.description, baseline_name=metric.baseline_name,
        base_baseline=bb, candidate_baseline=cb, base_gap=gap(base_v, bb, hib),
        candidate_gap=gap(cand_v, cb, hib), min_detectable=mdd, detectability=sentence,
        n_groups=test.n_groups, mcnemar=test.mcnemar, distribution=test.distribution,
        n_resamples=test.n_resamples)


def with_holm(metrics: list[MetricComparison]) -> list[MetricComparison]:
    """Holm-adjust the p-values across the metrics of the comparison (undefined ones skipped)."""
    from .stats import holm

    idx = [i for i, m in enumerate(metrics) if _finite(m.pvalue)]
    if not idx:
        return metrics
    adjusted = holm([metrics[i].pvalue for i in idx])
    out = list(metrics)
    for i, p in zip(idx, adjusted):
        out[i] = replace(out[i], pvalue_holm=float(p))
    return out


def _shares(records: Sequence[dict]) -> tuple[float | None, float | None, int]:
    ok = [r for r in records if not r.get("error")]
    greedy = [r for r in ok if r.get("sample") is None]
    trunc = sum(bool(r.get("truncated")) for r in ok) / len(ok) if ok else None
    parse = (sum(r.get("parse_error") is not None for r in greedy) / len(greedy)
             if greedy else None)
    return trunc, parse, len(records) - len(ok)


def make_side(run: Run, label: str, records: Sequence[dict]) -> Side:
    trunc, parse, errors = _shares(records)
    info = run.manifest.get("models", {}).get(label) or {}
    spec = info.get("spec") if isinstance(info, dict) else None
    data = run.manifest.get("data") if isinstance(run.manifest.get("data"), dict) else {}
    return Side(label, str(run.path), spec, len(records), trunc, parse, errors,
                run.manifest.get("started_at"), data.get("path"), data.get("sha256"))


def side_warnings(base: Side, cand: Side) -> list[str]:
    out = []
    tb, tc = base.truncated_share, cand.truncated_share
    if tb is not None and tc is not None and abs(tb - tc) >= TRUNCATION_GAP \
            and max(tb, tc) >= 2 * min(tb, tc):
        out.append(f"truncation differs: {base.label} {tb:.1%} vs {cand.label} {tc:.1%} of "
                   "completions hit the token limit; a limit sized for one model hides the "
                   "other's hardest cases. Fix: rerun with a larger --max-tokens")
    for s in (base, cand):
        if s.errors:
            out.append(f"{s.label}: {s.errors} request(s) failed; those items are left out of "
                       "the paired comparison")
    return out


def _coverage_warnings(joined: Joined, base: Side, cand: Side) -> list[str]:
    out = []
    for side, only in ((base, joined.only_base), (cand, joined.only_candidate)):
        if only:
            out.append(f"{len(only)} completion(s) only in {side.label} (e.g. {only[0]}) are "
                       "left out of the paired comparison")
    return out


def resolution_warnings(metrics: Sequence[MetricComparison], alpha: float = 0.05) -> list[str]:
    """A bootstrap p-value cannot go below 2 / (resamples + 1); after Holm across many metrics
    that floor alone can hide a real change, and the fix is more resamples, not a weaker test."""
    out = []
    tested = [m for m in metrics if _finite(m.pvalue)]
    boot = [m for m in tested if "bootstrap" in m.test]
    fewest = min((m.n_resamples for m in boot if m.n_resamples), default=None)
    floor = 2 / (fewest + 1) if fewest else 0.0
    if boot and floor * len(tested) >= alpha:
        need = math.ceil(2 * len(tested) / alpha * 5)
        out.append(f"with {fewest:,} bootstrap resamples no p-value goes below "
                   f"{floor:.3g}, so after Holm across {len(tested)} metrics a bootstrap metric "
                   f"cannot reach p < {alpha}. Fix: --bootstrap-resamples (or --resamples) "
                   f"{need} or more")
    few = [m for m in boot if m.n_groups is not None and m.n_groups < 10]
    for m in few:
        out.append(f"{m.name}: the cluster bootstrap has only {m.n_groups} group(s); its "
                   "interval and p-value are unreliable with so few clusters")
    return out


def _noise_warnings(metrics: Sequence[MetricComparison]) -> list[str]:
    return [f"{m.name}: the change ({m.difference:+.3g}) is within the noise floor (a repeat "
            f"run of the base moved {m.noise.difference:+.3g})" for m in metrics
            if m.noise is not None and m.noise.within_noise and m.difference]


def _repeat_records(noise: Run, base_label: str) -> list[dict]:
    label = base_label if base_label in noise.models else _pick(noise, None, "repeat of the "
                                                                "base", "a noise run of one model")
    return [r for r in noise.records_of(label) if not r.get("error")]


def compare_runs(run_a: Run | str | Path, run_b: Run | str | Path | None = None, *,
                 base: str | None = None, candidate: str | None = None,
                 goals: str | Path | None = None, noise: Run | str | Path | None = None,
                 allow_prompt_mismatch: bool = False, n_resamples: int = 10_000,
                 bootstrap_resamples: int = 1_000, seed: int = 0,
                 confidence_level: float = 0.95,
                 on_metric: Callable[[str, int, int], None] | None = None) -> Comparison:
    """Compare a candidate model with its base on the items both were asked.

    ``run_a`` alone must hold two models (``base``/``candidate`` pick them when it holds more);
    with ``run_b``, the base comes from ``run_a`` unless ``base`` names a model of ``run_b``.
    ``goals`` is a goals.yaml (its lock is read from beside it); ``noise`` a repeat run of the
    base model, which gives each metric's noise floor. ``n_resamples`` drives the vectorized
    resampling (sign flips, bootstrap of a mean); ``bootstrap_resamples`` the bootstrap of
    metrics that are recomputed from the records on every resample (F1, kappa...), which costs
    one call of the task's metric per resample and side. ``on_metric(name, i, n)`` is called
    before each metric is compared (for a progress display).
    """
    from .rundir import task_of

    ra, rb = _as_run(run_a), (_as_run(run_b) if run_b is not None else None)
    brun, blabel, crun, clabel = choose_sides(ra, rb, base, candidate)
    if brun.task != crun.task:
        raise AssayError(f"the runs are of different tasks ('{brun.task}' in {brun.path}, "
                         f"'{crun.task}' in {crun.path}). Fix: compare runs of one task")
    bidx = _index(brun.records_of(blabel), brun, blabel)
    cidx = _index(crun.records_of(clabel), crun, clabel)
    joined = join(bidx, cidx)
    mismatch = check_prompts(joined, bidx, cidx, allow_prompt_mismatch)
    if not joined.base:
        raise AssayError(f"'{blabel}' and '{clabel}' share no scored items. Fix: evaluate both "
                         "on the same data file")
    bside = make_side(brun, blabel, bidx.values())
    cside = make_side(crun, clabel, cidx.values())
    if bside.label == cside.label:
        cside = replace(cside, label=f"{clabel} ({Path(crun.path).name})")
    task = task_of(brun)
    ctx = make_ctx(joined, n_resamples, bootstrap_resamples, seed, confidence_level)
    metrics = _compare_metrics(task, ctx, on_metric)
    warnings = [mismatch] if mismatch else []
    if brun.manifest.get("task_options", {}) != crun.manifest.get("task_options", {}):
        warnings.append(f"task options differ: {brun.manifest.get('task_options')} vs "
                        f"{crun.manifest.get('task_options')}")
    noise_run = None
    if noise is not None:
        nrun = _as_run(noise)
        if nrun.task != brun.task:
            raise AssayError(f"the noise run {nrun.path} is of task '{nrun.task}', not "
                             f"'{brun.task}'. Fix: pass a repeat run of the base model")
        metrics = _with_noise(task, metrics, ctx, _repeat_records(nrun, blabel))
        noise_run = str(nrun.path)
    warnings += side_warnings(bside, cside) + _coverage_warnings(joined, bside, cside)
    warnings += _noise_warnings(metrics) + resolution_warnings(metrics)
    cmp = Comparison(
        task=brun.task, base=bside, candidate=cside,
        n_items=len({str(r["id"]) for r in joined.base}), n_paired=len(joined.base),
        metrics=tuple(metrics), only_base=joined.only_base, only_candidate=joined.only_candidate,
        prompt_mismatches=tuple(show_key(k) for k in joined.mismatches),
        warnings=tuple(warnings), noise_run=noise_run,
        details={"base": _details(task, ctx.base), "candidate": _details(task, ctx.candidate)},
        n_resamples=n_resamples, bootstrap_resamples=bootstrap_resamples, seed=seed,
        confidence_level=confidence_level,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if goals is not None:
        from .goals import check_goals

        cmp = replace(cmp, goals=check_goals(goals, cmp))
    return cmp


def _compare_metrics(task, ctx: Ctx, on_metric=None) -> list[MetricComparison]:
    base_metrics = _metric_map(task, ctx.base)
    cand_metrics = _metric_map(task, ctx.candidate)
    shared = [m for name, m in base_metrics.items() if name in cand_metrics]
    out = []
    for i, m in enumerate(shared):
        if on_metric is not None:
            on_metric(m.name, i, len(shared))
        out.append(compare_metric(m, cand_metrics[m.name], ctx))
    return with_holm(out)


def _with_noise(task, metrics: list[MetricComparison], ctx: Ctx,
                repeat: list[dict]) -> list[MetricComparison]:
    defs = _metric_map(task, ctx.base)
    return [replace(m, noise=noise_detail(defs[m.name], ctx.base, repeat, m.difference))
            for m in metrics]


def _details(task, records: list[dict]) -> dict:
    try:
        return task.details(records) or {}
    except Exception as exc:  # details feed plots only; a broken breakdown must not hide the result
        return {"error": f"task.details failed: {exc}"}


# ---------------------------------------------------------------------------------------------
# Reading a saved comparison back


def _decode(tp: Any, value: Any) -> Any:
    import dataclasses
    import types
    import typing

    if value is None:
        return math.nan if tp is float else None
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if dataclasses.is_dataclass(arg) and isinstance(value, dict):
                return _decode_dataclass(arg, value)
        return value
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    return value


def _decode_dataclass(cls, data: dict):
    import dataclasses
    import typing

    from .goals import GoalsCheck, GoalVerdict

    hints = typing.get_type_hints(cls, localns={"GoalsCheck": GoalsCheck,
                                                "GoalVerdict": GoalVerdict})
    if cls is Comparison:
        hints["goals"] = GoalsCheck | None
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _decode(hints[k], v) for k, v in data.items() if k in names})


def comparison_from_dict(data: dict) -> Comparison:
    """Rebuild a Comparison from ``Comparison.to_dict()`` (the comparison.json of a report)."""
    try:
        return _decode_dataclass(Comparison, data)
    except (TypeError, KeyError) as exc:
        raise AssayError(f"not a comparison written by this version of assay ({exc}). Fix: "
                         "rerun `assay compare ... --out DIR`") from exc


def load_comparison(path: str | Path) -> Comparison:
    """Read comparison.json (or the directory holding it)."""
    import json

    p = Path(path)
    p = p / "comparison.json" if p.is_dir() else p
    if not p.is_file():
        raise AssayError(f"{path} holds no comparison.json. Fix: pass a directory written by "
                         "`assay compare ... --out DIR`, or a run directory")
    return comparison_from_dict(json.loads(p.read_text()))
