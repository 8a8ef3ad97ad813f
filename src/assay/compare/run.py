"""``compare_runs``: join two runs, compare every metric, mark the confirmatory family, judge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from ..errors import AssayError
from ..rundir import Run
from .config import CompareConfig
from .family import family_names, with_family, with_verdicts
from .join import (as_run, check_data, check_gold, check_prompts, choose_sides,
                   coverage_warnings, identity_warnings, index, join, make_side, pick, show_key,
                   side_warnings)
from .noise import check_fresh, noise_warnings, with_noise
from .paired import Settings, compare_all, make_paired
from .result import Comparison


def _repeat_records(noise: Run, base_label: str) -> list[dict]:
    label = base_label if base_label in noise.models else pick(noise, None, "repeat of the "
                                                               "base", "a noise run of one model")
    return [r for r in noise.records_of(label) if not r.get("error")]


def _details(task, records: list[dict]) -> dict:
    try:
        return task.details(records) or {}
    except Exception as exc:  # details feed plots only; a broken breakdown must not hide the result
        return {"error": f"task.details failed: {exc}"}


def _task_warnings(brun: Run, crun: Run) -> list[str]:
    if brun.manifest.get("task_options", {}) != crun.manifest.get("task_options", {}):
        return [f"task options differ: {brun.manifest.get('task_options')} vs "
                f"{crun.manifest.get('task_options')}"]
    return []


def _run_warnings(brun: Run, crun: Run) -> list[str]:
    """What a run said about itself (e.g. scored on a covered subset), carried into every
    comparison made from it."""
    out = []
    for run in (brun, crun):
        out += [w for w in run.manifest.get("warnings") or [] if w not in out]
    return out


def _cluster_warnings(metrics) -> list[str]:
    return [f"{m.name}: only {m.n_groups} clusters; with so few the randomization p cannot go "
            f"below {2 / 2 ** m.n_groups:.3g} and the interval is unreliable"
            for m in metrics if m.n_groups is not None and m.n_groups < 10]


def _family_warnings(family: tuple[str, ...], source: str) -> list[str]:
    if family:
        return []
    if source == "goals":
        return ["the goals name no tested metric, so nothing is confirmatory: every verdict "
                "is exploratory"]
    return ["the task declares no primary metric, so nothing is confirmatory: every verdict "
            "is exploratory"]


def compare_runs(run_a: Run | str | Path, run_b: Run | str | Path | None = None,
                 config: CompareConfig | None = None, *, goals=None,
                 noise: Run | str | Path | None = None,
                 on_metric: Callable[[str, int, int], None] | None = None,
                 **settings) -> Comparison:
    """Compare a candidate model with its base on the items both were asked.

    ``run_a`` alone must hold two models (``config.base``/``candidate`` pick them when it holds
    more); with ``run_b``, the base comes from ``run_a`` unless ``base`` names a model of
    ``run_b``. ``goals`` (a goals.yaml path or a read ``GoalsFile``) fixes the confirmatory
    family and is judged on the result; ``noise`` is a repeat run of the base (each metric's
    noise floor). Keyword ``settings`` override fields of ``config``.
    """
    from ..metrics import metrics_of
    from ..rundir import task_of

    cfg = replace(config or CompareConfig(), **settings)
    gf = _read_goals(goals)
    ra, rb = as_run(run_a), (as_run(run_b) if run_b is not None else None)
    brun, blabel, crun, clabel = choose_sides(ra, rb, cfg.base, cfg.candidate)
    if brun.task != crun.task:
        raise AssayError(f"the runs are of different tasks ('{brun.task}' in {brun.path}, "
                         f"'{crun.task}' in {crun.path}). Fix: compare runs of one task")
    bidx = index(brun.records_of(blabel), brun, blabel)
    cidx = index(crun.records_of(clabel), crun, clabel)
    joined = join(bidx, cidx)
    mismatch = check_prompts(joined, bidx, cidx, cfg.allow_prompt_mismatch)
    if not joined.base:
        raise AssayError(f"'{blabel}' and '{clabel}' share no scored items. Fix: evaluate both "
                         "on the same data file")
    bside, cside = make_side(brun, blabel, bidx.values()), make_side(crun, clabel, cidx.values())
    if bside.label == cside.label:
        cside = replace(cside, label=f"{clabel} ({Path(crun.path).name})")
    task = task_of(brun)
    data_warning = check_data(bside, cside, cfg.allow_data_mismatch)
    gold_warning = check_gold(joined, getattr(task, "gold_keys", ()), cfg.allow_data_mismatch)
    defs = {m.name: m for m in metrics_of(task, joined.base)}
    cand_names = {m.name for m in metrics_of(task, joined.candidate)}
    shared = [m for name, m in defs.items() if name in cand_names]
    paired = make_paired(joined)
    goals_of = gf.goals if gf is not None else ()
    settings = Settings(cfg.n_resamples, cfg.seed, cfg.confidence_level, cfg.bootstrap_resamples,
                        value_cis=frozenset(g.metric for g in goals_of
                                            if g.kind in ("at_least", "at_most")),
                        gold_keys=tuple(getattr(task, "gold_keys", ()) or ()))
    metrics = compare_all(shared, paired, settings, on_metric)
    family, source = family_names(metrics, [g.metric for g in gf.goals] if gf else None)
    metrics = with_family(metrics, family)
    metrics = with_verdicts(metrics, cfg.alpha, cfg.min_slice_n, _margins(gf))
    warnings = [w for w in (mismatch, data_warning, gold_warning) if w]
    warnings += _task_warnings(brun, crun) + identity_warnings(brun, blabel, crun, clabel)
    warnings += _run_warnings(brun, crun)
    noise_run = None
    if noise is not None:
        nrun = as_run(noise)
        if nrun.task != brun.task:
            raise AssayError(f"the noise run {nrun.path} is of task '{nrun.task}', not "
                             f"'{brun.task}'. Fix: pass a repeat run of the base model")
        repeat = _repeat_records(nrun, blabel)
        warnings += check_fresh(repeat, str(nrun.path))
        metrics = with_noise(metrics, defs, joined.base, repeat)
        noise_run = str(nrun.path)
    warnings += side_warnings(bside, cside) + coverage_warnings(joined, bside, cside)
    warnings += noise_warnings(metrics) + _cluster_warnings(metrics)
    warnings += _family_warnings(family, source)
    cmp = Comparison(
        task=brun.task, base=bside, candidate=cside, n_items=len(paired.ids),
        n_paired=len(joined.base), metrics=tuple(metrics), only_base=joined.only_base,
        only_candidate=joined.only_candidate,
        prompt_mismatches=tuple(show_key(k) for k in joined.mismatches),
        warnings=tuple(warnings), noise_run=noise_run,
        details={"base": _details(task, joined.base),
                 "candidate": _details(task, joined.candidate)},
        family=family, family_source=source, alpha=cfg.alpha, min_slice_n=cfg.min_slice_n,
        n_resamples=cfg.n_resamples, bootstrap_resamples=cfg.bootstrap_resamples, seed=cfg.seed,
        confidence_level=cfg.confidence_level,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if gf is not None:
        from ..goals import check_goals

        times = [r.get("created_at") for r in joined.candidate]
        cmp = replace(cmp, goals=check_goals(gf, cmp, times))
    return cmp


def _read_goals(goals):
    if goals is None:
        return None
    from ..goals import GoalsFile, read_goals

    return goals if isinstance(goals, GoalsFile) else read_goals(goals)


def _margins(gf) -> dict[str, float]:
    if gf is None:
        return {}
    out: dict[str, float] = {}
    for g in gf.goals:  # the strictest margin locked for a metric
        if g.kind == "equivalent":
            out[g.metric] = min(g.margin, out.get(g.metric, g.margin))
    return out
