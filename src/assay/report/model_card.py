"""A Hugging Face model card (README.md) for a fine-tuned adapter, from a comparison.

The front matter carries a ``model-index`` block (the results in the form the Hub reads: task
type, dataset, metrics with type / value / name), and the body states the evaluation protocol and
its limits: the paired test, the items, the goals and whether they were locked before training,
what the sample size could not detect, and every warning of the comparison.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..compare import Comparison, MetricComparison, verdict_text
from ..text.inert import md_code, md_inline
from .markdown import family_sentence, num, pval, signed, table

# Hub metric types are free-form ids; map ours where a standard one exists.
_HUB_TYPES = {"accuracy": "accuracy", "f1": "f1", "precision": "precision", "recall": "recall",
              "kappa": "cohen_kappa", "macro_f1": "f1"}


def _hub_type(name: str) -> str:
    root = name.split("/")[0].split("[")[0].lower()
    return _HUB_TYPES.get(root, root.replace(" ", "_"))


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _metric_entries(c: Comparison) -> list[dict]:
    """The candidate's values only: the Hub attributes model-index results to this model (the
    base's values are in the card's table)."""
    return [{"type": _hub_type(m.name), "value": round(float(m.candidate), 4), "name": m.name,
             "verified": False} for m in c.metrics if _finite(m.candidate)]


def front_matter(c: Comparison, *, base_model: str, model_name: str, dataset_name: str,
                 dataset_type: str, task_type: str, license: str | None,
                 language: list[str] | None) -> dict:
    meta: dict = {"base_model": base_model, "library_name": "peft",
                  "tags": ["assay", "lora", c.task]}
    if license:
        meta["license"] = license
    if language:
        meta["language"] = list(language)
    meta["model-index"] = [{
        "name": model_name,
        "results": [{"task": {"type": task_type, "name": c.task},
                     "dataset": {"name": dataset_name, "type": dataset_type},
                     "metrics": _metric_entries(c)}],
    }]
    return meta


def adapter_hash(adapter: str | None) -> str | None:
    """The content hash of a local adapter directory (what the card names it by), else None."""
    if not adapter or not (Path(adapter).expanduser() / "adapter_config.json").is_file():
        return None
    from ..models.identity import dir_hash

    return dir_hash(Path(adapter).expanduser())


def _is_local(adapter: str) -> bool:
    return adapter.startswith((".", "/", "~")) or Path(adapter).expanduser().exists()


def _models_line(c: Comparison, base_model: str, adapter_sha: str | None) -> str:
    """The models by public identity: never a server URL or a local path."""
    sha = f", adapter sha256 {md_code(adapter_sha)}" if adapter_sha else ""
    return (f"- Base {md_code(c.base.label)}: {md_code(base_model)}; candidate "
            f"{md_code(c.candidate.label)}: a LoRA adapter on {md_code(base_model)}{sha}.")


def _data_line(c: Comparison, dataset_name: str) -> str:
    sha = f" (sha256 {md_code(c.base.data_sha256)})" if c.base.data_sha256 else ""
    return f"- Data: {md_code(dataset_name)}{sha}."


def _protocol(c: Comparison, models_line: str, data_line: str) -> list[str]:
    tests = sorted({m.test for m in c.metrics})
    return [
        "## Evaluation protocol", "",
        f"- Task {md_code(c.task)}; both models answered the same {c.n_items} items with identical "
        f"prompts ({c.n_paired} paired completions, joined by item, pass and sample).",
        f"- Paired tests ({', '.join(t for t in tests if t != 'none')}): McNemar's exact test "
        "on a per-item pass/fail rate, a paired randomization test (swapping the two models "
        "within each item or cluster) for every other metric; "
        f"{c.confidence_level:.0%} intervals (Newcombe for rates, bootstrap otherwise), "
        f"{c.n_resamples:,} resamples, seed {c.seed}.",
        "- " + family_sentence(c),
        models_line, data_line, _goals_line(c), "",
    ]


def _goals_line(c: Comparison) -> str:
    g = c.goals
    if g is None:
        return "- No goals were set before training: read the numbers as exploratory."
    state = ("locked before the candidate run and unchanged since (pre-registered)"
             if g.pre_registered else "NOT pre-registered (see the limits)")
    outcomes = "; ".join(f"{md_inline(v.metric)} {md_inline(v.goal)}: {v.outcome}"
                         for v in g.verdicts)
    return (f"- Goals from {md_code(Path(g.path).name)} (sha256 {g.sha256[:12]}), {state}: "
            f"{g.hits} of {len(g.verdicts)} hit ({outcomes}). A Hit means the confidence bound "
            "clears the goal, not just the point estimate; Inconclusive means these items "
            "cannot tell.")


def _limits(c: Comparison) -> list[str]:
    lines = ["## Limits", ""]
    if c.noise_run is None:
        lines.append("- No repeat run of the base was given, so the run-to-run noise floor is "
                     "unknown.")
    lines += [f"- {md_inline(w, 1000)}" for w in c.warnings]
    if c.goals is not None:
        lines += [f"- {md_inline(w, 1000)}" for w in c.goals.warnings]
    lines.append("- Scores are automatic; they measure agreement with the task's labels or "
                 "checks, on this item set only.")
    return lines + [""]


def _result_lines(m: MetricComparison) -> str:
    extra = ""
    if m.mcnemar is not None:
        extra = f"; {m.mcnemar.b} lost, {m.mcnemar.c} gained"
    holm = f", Holm {pval(m.pvalue_holm)}" if m.family == "confirmatory" else ""
    return (f"- {md_inline(m.name)} ({m.family}, n {m.n}): {num(m.base)} -> "
            f"{num(m.candidate)} ({signed(m.difference)}, CI {signed(m.ci_low)} to "
            f"{signed(m.ci_high)}, p {pval(m.pvalue)}{holm}{extra}): {verdict_text(m)}")


def model_card(c: Comparison, *, base_model: str, adapter: str | None = None,
               model_name: str | None = None, dataset_name: str | None = None,
               dataset_type: str | None = None, task_type: str = "text-generation",
               license: str | None = None, language: list[str] | None = None) -> str:
    """README.md text for the candidate (an adapter on ``base_model``), ready to push."""
    import yaml

    name = model_name or (Path(adapter).name if adapter else c.candidate.label)
    data_name = dataset_name or (Path(c.base.data).name if c.base.data else f"{c.task} eval set")
    meta = front_matter(c, base_model=base_model, model_name=name, dataset_name=data_name,
                        dataset_type=dataset_type or c.task, task_type=task_type,
                        license=license, language=language)
    models_line = _models_line(c, base_model, adapter_hash(adapter))
    published = name if adapter and _is_local(adapter) else adapter  # its Hub id, not a path
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    usage = []
    if adapter:
        usage = ["## Use", "", "```python", "from peft import PeftModel",
                 "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
                 # a JSON string is a valid Python literal whatever the names hold
                 f"base = AutoModelForCausalLM.from_pretrained({json.dumps(base_model)})",
                 f"model = PeftModel.from_pretrained(base, {json.dumps(published)})",
                 f"tokenizer = AutoTokenizer.from_pretrained({json.dumps(base_model)})", "```",
                 ""]
    body = ([f"# {md_inline(name)}", "", f"A LoRA adapter on {md_code(base_model)} for the "
             f"{md_code(c.task)} task, "
             "evaluated against its base model with assay.", "", "## Results", ""]
            + table(c) + [""] + [_result_lines(m) for m in c.metrics] + [""]
            + _protocol(c, models_line, _data_line(c, data_name)) + _limits(c) + usage)
    return f"---\n{head}---\n\n" + "\n".join(body)
