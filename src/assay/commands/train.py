"""`assay train sft|dpo|sdpo|merge`: LoRA training from one recipe, and merging adapters."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Optional

import typer

EXAMPLES = {
    "sft": """Supervised fine-tuning of a LoRA adapter, the prompt masked (only the completion
is supervised). Prompts are rendered exactly as `assay eval` renders them.

Example:

\b
  assay train sft --config examples/train/sft.yaml
  assay train sft --model ./base --task paper-review --data train.jsonl \\
      --out runs/sft --set lora_r=32 --set num_train_epochs=5
""",
    "dpo": """Direct preference optimisation of a LoRA adapter (reference = the frozen base
under the adapter; no second copy). Data: prompt, chosen, rejected.

Example:

\b
  assay train dpo --config examples/train/dpo.yaml --set swap_doubling=true
""",
    "sdpo": """Self-distillation policy optimisation (TRL's experimental SDPOTrainer): rollouts
scored by the task's check, the model reprompted with privileged_context as its own teacher.

Example:

\b
  assay train sdpo --config examples/train/sdpo.yaml --set num_generations=8
""",
}

MERGE_HELP = """Merge a LoRA adapter into its base and write 16-bit weights (safetensors).

Example:

\b
  assay train merge --base ./base --adapter runs/sft --out runs/sft-merged
"""


def _help(method: str) -> str:
    from ..train.config import RECIPES, fields_help

    return (EXAMPLES[method] + "\nEvery setting below may sit in the YAML file or be given as "
            "--set KEY=VALUE (the command line wins):\n\n\b\n" + fields_help(RECIPES[method]))


def run_training(method: str, config: Optional[str], sets: Optional[list[str]],
                 shortcuts: dict[str, Any], as_json: bool) -> None:
    from ..train import load_recipe, parse_sets, train
    from ..train.launch import is_main_process, mixed_precision_of, relaunch, under_accelerate

    overrides = {**parse_sets(sets), **{k: v for k, v in shortcuts.items() if v is not None}}
    recipe = load_recipe(method, config, overrides)
    distributed = recipe.accelerate_config or recipe.num_processes > 1
    if recipe.accelerate_config and not under_accelerate():
        from ..train.accelerate_config import check_accelerate_config

        check_accelerate_config(recipe.accelerate_config, recipe)  # before any process starts
    if distributed and not under_accelerate():
        raise typer.Exit(relaunch(recipe.accelerate_config, sys.argv[1:], recipe.num_processes,
                                  mixed_precision_of(recipe)))
    # Trainers print their logs to stdout; with --json stdout carries one JSON object only.
    quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with quiet:
        result = train(recipe, progress=False, on_step=None if as_json else print_step)
    if is_main_process():  # one result, not one per process
        show_result(result, recipe, as_json)


def step_line(s) -> str:
    """`step 3/24  loss 2.3100  lr 1.80e-04  1,234 tokens/s` (a StepLog, one line)."""
    parts = [f"step {s.step}/{s.max_steps}"]
    if s.loss is not None:
        parts.append(f"loss {s.loss:.4f}")
    if s.learning_rate is not None:
        parts.append(f"lr {s.learning_rate:.2e}")
    if s.tokens_per_s is not None:
        parts.append(f"{s.tokens_per_s:,.0f} tokens/s")
    return "  ".join(parts)


def print_step(s) -> None:
    print(step_line(s), file=sys.stderr, flush=True)


def eval_hint(recipe, out_dir) -> str:
    """The `assay eval` command for the adapter, with every task setting it was trained with
    (the eval prompt must be the training prompt)."""
    import json
    import shlex

    q = shlex.quote
    parts = ["assay eval", q(recipe.task or "TASK"), "--data HELD_OUT.jsonl",
             f"--model {q('base=hf:' + str(recipe.model))}",
             f"--model {q(f'ft=hf:{recipe.model}+{out_dir}')}"]
    for key, value in (recipe.task_options or {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"--task-option {q(f'{key}={text}')}")
    if recipe.task_module:
        parts.append(f"--task-module {q(recipe.task_module)}")
    return " ".join(parts)


def show_result(result, recipe, as_json: bool) -> None:
    from ._common import err_console, print_json

    if as_json:
        print_json(result)
        return
    s = result.data
    console = err_console()
    console.print(f"[bold]{result.method}[/bold]: {result.global_step} steps in "
                  f"{result.seconds:.1f}s, final loss {result.final_loss}")
    console.print(f"data: {s.n_used} examples used of {s.n_read} read"
                  f" (+{s.n_swapped} swapped copies)" * bool(s.n_swapped) +
                  f"; {s.n_too_long} longer than max_length ({s.n_dropped} dropped, "
                  f"{s.n_truncated} truncated)")
    console.print(f"adapter, tokenizer and chat template: {result.out_dir}")
    console.print(f"run record: {result.record_path}")
    if result.merged_dir:
        console.print(f"merged 16-bit weights: {result.merged_dir}")
    # one unwrapped line: it is meant to be copied
    console.print(f"evaluate it: {eval_hint(recipe, result.out_dir)}", markup=False,
                  highlight=False, soft_wrap=True)


def _command(method: str):
    def command(
        config: Optional[str] = typer.Option(None, "--config", help="Recipe YAML file."),
        model: Optional[str] = typer.Option(None, "--model", help="Base model directory."),
        data: Optional[str] = typer.Option(None, "--data", help="Training data file or dir."),
        task: Optional[str] = typer.Option(None, "--task", help="Render prompts with this "
                                           "task (as `assay eval` does)."),
        out: Optional[str] = typer.Option(None, "--out", help="Output directory."),
        num_processes: Optional[int] = typer.Option(None, "--num-processes", metavar="N",
                                                    help="Train with N processes (DDP) "
                                                    "under accelerate; see num_processes."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="KEY=VALUE for any "
                                                 "setting listed above, repeatable."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        run_training(method, config, sets, {"model": model, "data": data, "task": task,
                                            "out": out, "num_processes": num_processes},
                     as_json)

    command.__name__ = f"train_{method}"
    return command


def merge_command(
    base: str = typer.Option(..., "--base", help="Base model directory."),
    adapter: str = typer.Option(..., "--adapter", help="Adapter directory (`assay train`'s "
                                "--out)."),
    out: str = typer.Option(..., "--out", help="Directory for the merged model."),
    dtype: str = typer.Option("bfloat16", "--dtype", help="bfloat16, float16 or float32."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..errors import AssayError
    from ..train.merge import MERGE_DTYPES, merge_adapter
    from ._common import err_console, print_json

    if dtype not in MERGE_DTYPES:
        raise AssayError(f"--dtype must be one of {', '.join(MERGE_DTYPES)} (got '{dtype}')")
    result = merge_adapter(base, adapter, out, dtype=dtype)
    if as_json:
        print_json(result)
    else:
        err_console().print(f"merged {result.parameters:,} parameters in {result.dtype} -> "
                            f"{result.out_dir} (evaluate it as hf:{result.out_dir})")


def register(app) -> None:
    train_app = typer.Typer(help="Train LoRA adapters (SFT, DPO, SDPO) and merge them.",
                            no_args_is_help=True, rich_markup_mode=None)
    for method in ("sft", "dpo", "sdpo"):
        train_app.command(method, help=_help(method))(_command(method))
    train_app.command("merge", help=MERGE_HELP)(merge_command)
    app.add_typer(train_app, name="train")
