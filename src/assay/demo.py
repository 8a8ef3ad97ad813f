"""`assay demo`: the whole loop on a CPU in a few minutes, nothing downloaded.

By default it runs on the embedded real model (``assay.demo_embedded``: SmolLM2-135M-Instruct,
distillation, SFT, evaluation, goals). ``smoke=True`` (``assay demo --smoke``) runs the quick
version below on a random model in under half a minute:

1. Build a tiny random Llama and a tokenizer offline (a smoke model: its judgments are noise).
2. Train a LoRA adapter with the real SFT recipe (prompt masked, prompts rendered by the
   paper-review task) on the bundled ``examples/paper-review/train.jsonl``.
3. Evaluate base and adapter on the bundled held-out ``test.jsonl`` through the real runner
   (``hf:`` backend), 4. compare them with paired statistics (McNemar for accuracy) and write
   the report.

What it should show: the adapter learns the output format (its parse-failure rate falls from
100% to about 0%) but not the judgment (accuracy near the majority baseline, McNemar p far from
significant), which is exactly what the harness is for; whatever the numbers, the report shows
them with their paired tests. A few settings differ from the published recipe because the model
is random and tiny and the demo must finish in minutes: a higher learning rate (2e-2), 5 epochs
at batch 4, and a short training target (the decision line alone, the part the task parses) so
generation stays within a 16-token budget.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AssayError

SMOKE_NOTE = ("smoke model: a tiny randomly initialised Llama (hidden 64, 2 layers) built "
              "offline; its judgments are noise, only the mechanics are real")

# Settings of the demo's SFT run; everything else is the recipe's default (lgtm-575).
DEMO_SFT = {"num_train_epochs": 5, "per_device_train_batch_size": 4,
            "gradient_accumulation_steps": 1, "learning_rate": 2e-2, "logging_steps": 3,
            "max_length": 1024}
DEMO_MAX_TOKENS = 16
TASK = "paper-review"
TASK_OPTIONS = {"body_tokens": 0}


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote things, how long each phase took, and the headline numbers."""

    out_dir: Path
    model_dir: Path
    adapter_dir: Path
    run_dir: Path
    report_path: Path
    report_markdown: str
    seconds: dict[str, float]
    headline: dict[str, Any]
    smoke_model: bool = True
    note: str = SMOKE_NOTE
    train: dict[str, Any] = field(default_factory=dict)
    distill: dict[str, Any] = field(default_factory=dict)  # real demo: what the loop kept
    goals: dict[str, Any] = field(default_factory=dict)  # real demo: verdicts and their MDD


def examples_dir() -> Path:
    """The bundled examples, shipped inside the package (examples/ in a checkout links there)."""
    cand = Path(__file__).resolve().parent / "examples"
    if (cand / TASK / "train.jsonl").is_file():
        return cand
    raise AssayError(f"the bundled examples are missing from {cand}. Fix: reinstall assay "
                     "(pip install --force-reinstall assay)")


def short_target(item: dict) -> str:
    """The demo's training target: the decision line alone (the part the task parses)."""
    from .tasks.paper_review import DECISION_LINES

    return DECISION_LINES[item["decision"]]


def write_train_file(src: Path, dst: Path) -> Path:
    """The bundled train items with the short target as their ``completion``."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if line.strip():
                item = json.loads(line)
                out.write(json.dumps({**item, "completion": short_target(item)}) + "\n")
    return dst


def _train(model: Path, data: Path, out: Path, progress: bool, on_step):
    from .train import load_recipe, train

    recipe = load_recipe("sft", None, {"model": str(model), "data": str(data), "task": TASK,
                                       "task_options": dict(TASK_OPTIONS), "out": str(out),
                                       **DEMO_SFT})
    return train(recipe, progress=progress, on_step=on_step)


def _evaluate(model: Path, adapter: Path, test: Path, out: Path, observer):
    from .run import EvalConfig, evaluate

    cfg = EvalConfig(task=TASK, data=str(test), out=str(out / "run"),
                     models=[f"base=hf:{model}", f"ft=hf:{model}+{adapter}"],
                     store=str(out / "store.sqlite"), max_tokens=DEMO_MAX_TOKENS,
                     task_options=dict(TASK_OPTIONS), batch_size=16)
    return evaluate(cfg, observer)


SMOKE_METRICS = ("accuracy", "parse_failure_rate", "structure_compliance", "f1")


def headline(comparison, names=SMOKE_METRICS) -> dict[str, Any]:
    """The named metrics' values, paired difference, interval, test and verdict."""
    out: dict[str, Any] = {}
    for name in names:
        try:
            m = comparison.metric(name)
        except KeyError:
            continue
        out[name] = {"base": m.base, "adapter": m.candidate, "difference": m.difference,
                     "ci": [m.ci_low, m.ci_high], "pvalue": m.pvalue, "test": m.test,
                     "family": m.family, "verdict": m.verdict}
        if m.mcnemar is not None:
            mc = m.mcnemar
            out[name]["mcnemar"] = {"n": mc.n, "lost": mc.b, "gained": mc.c,
                                    "n_discordant": mc.n_discordant, "pvalue": mc.pvalue}
        if m.baseline_name:
            out[name]["baseline"] = {"name": m.baseline_name, "value": m.base_baseline}
    out["n_items"] = comparison.n_paired
    return out


def quiet_libraries() -> None:
    """Hide transformers' and datasets' own progress bars and warnings (loading weights,
    tokenizing 24 examples): the demo shows its own steps and the training loss."""
    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def run_demo(out: str | Path = "runs/demo", *, smoke: bool = False, progress: bool = True,
             observer=None, on_step=None, on_attempt=None) -> DemoResult:
    """The demo on the embedded real model, or with ``smoke`` the quick random-model one.

    progress: the trainer's own bar; on_step: hears each training step instead (an
    `assay.train.StepLog`); observer: an `assay.run.RunObserver` for the evaluation;
    on_attempt: hears each distillation attempt (real demo only).
    """
    if smoke:
        return run_smoke_demo(out, progress=progress, observer=observer, on_step=on_step)
    from .demo_embedded import run_embedded_demo

    return run_embedded_demo(out, progress=progress, observer=observer, on_step=on_step,
                             on_attempt=on_attempt)


def run_smoke_demo(out: str | Path = "runs/demo", *, progress: bool = True, observer=None,
                   on_step=None) -> DemoResult:
    """Build a random model, train, evaluate, compare; where everything is and the numbers."""
    from .compare import compare_runs
    from .models.tiny import build_tiny_model
    from .report import write_report

    quiet_libraries()
    out_dir, ex = Path(out), examples_dir() / TASK
    times: dict[str, float] = {}
    t0 = t = time.perf_counter()
    model = build_tiny_model(out_dir / "model", seed=0)
    times["build_model"], t = time.perf_counter() - t, time.perf_counter()
    data = write_train_file(ex / "train.jsonl", out_dir / "data" / "train.jsonl")
    trained = _train(model, data, out_dir / "adapter", progress, on_step)
    times["train"], t = time.perf_counter() - t, time.perf_counter()
    run = _evaluate(model, trained.out_dir, ex / "test.jsonl", out_dir, observer)
    times["evaluate"], t = time.perf_counter() - t, time.perf_counter()
    comparison = compare_runs(run.out_dir, base="base", candidate="ft", n_resamples=2000)
    files = write_report(comparison, out_dir / "report", plots=False)
    times["compare"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0
    return DemoResult(out_dir=out_dir, model_dir=model, adapter_dir=trained.out_dir,
                      run_dir=run.out_dir, report_path=files.markdown,
                      report_markdown=files.markdown.read_text(encoding="utf-8"),
                      seconds={k: round(v, 2) for k, v in times.items()},
                      headline=headline(comparison),
                      train={"steps": trained.global_step, "final_loss": trained.final_loss,
                             "examples": trained.data.n_used, "record": str(trained.record_path)})
