"""`assay eval` and `assay score`: run a task over models (or over predictions made elsewhere)."""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

from ..errors import AssayError

EVAL_HELP = """Evaluate one or more models on a task and write a run directory.

Example (two models behind a vLLM server, resumable: run the same command again):

\b
  assay eval paper-review --data papers.jsonl \\
      --model base=openai:Qwen/Qwen2.5-0.5B-Instruct@http://localhost:8000/v1 \\
      --model ft=openai:reviewer-lora@http://localhost:8000/v1 --out runs/pr1

\b
Local weights with an adapter: --model ft=hf:./base+./adapter
"""

SCORE_HELP = """Score completions made elsewhere (JSONL: {"id", "output", "pass"?, "sample"?}).

Example:

\b
  assay score bias-judge --data eval_set.jsonl --predictions sft=verdicts.jsonl --out runs/sft
"""


def parse_options(pairs: list[str] | None, flag: str = "--task-option") -> dict[str, Any]:
    """KEY=VALUE pairs; the value is read as JSON when it parses (numbers, true, lists)."""
    out: dict[str, Any] = {}
    for p in pairs or []:
        k, eq, v = p.partition("=")
        if not eq or not k:
            raise AssayError(f"bad {flag} '{p}'. Fix: write KEY=VALUE, e.g. {flag} key=value")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def eval_command(
    task: str = typer.Argument(..., help="Task name (paper-review, bias-judge, haiku-review) "
                               "or one registered by --task-module."),
    data: str = typer.Option(..., "--data", help="Items: JSONL, JSON, Parquet or HF dataset dir."),
    model: list[str] = typer.Option(..., "--model", help="LABEL=SPEC, repeatable. SPEC: "
                                    "openai:MODEL@URL[,URL2] | hf:PATH[+ADAPTER] | "
                                    "vllm:PATH[+ADAPTER]"),
    out: str = typer.Option(..., "--out", help="Run directory to write."),
    store: Optional[str] = typer.Option(None, "--store", help="SQLite store "
                                        "(default ./.assay/store.sqlite)."),
    concurrency: int = typer.Option(32, help="Requests in flight per model (openai)."),
    max_tokens: Optional[int] = typer.Option(None, help="Token limit (default: the task's)."),
    samples: Optional[int] = typer.Option(None, help="Sampled completions per item "
                                          "(default: the task's)."),
    sample_temperature: Optional[float] = typer.Option(None, help="Temperature of samples."),
    max_errors: int = typer.Option(0, help="Fail the run when more requests than this fail."),
    skip_invalid: bool = typer.Option(False, help="Skip and count invalid items instead of "
                                      "failing."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Environment variable with the "
                                    "API key (never written anywhere)."),
    logprobs: bool = typer.Option(False, help="Ask for token logprobs (calibration)."),
    top_logprobs: int = typer.Option(0, help="Alternatives per token with --logprobs."),
    thinking: bool = typer.Option(False, "--thinking", help="Let the chat template think "
                                  "(off by default)."),
    task_option: Optional[list[str]] = typer.Option(None, "--task-option",
                                                    help="KEY=VALUE for the task, repeatable."),
    task_module: Optional[str] = typer.Option(None, help="Import your own task module."),
    backend_option: Optional[list[str]] = typer.Option(
        None, "--backend-option", help="KEY=VALUE for the backend, repeatable, e.g. "
        "dtype=bfloat16 or device=cuda:1 (hf), max_model_len=8192 (vllm)."),
    limit: Optional[int] = typer.Option(None, help="Only the first N items."),
    batch_size: int = typer.Option(8, help="Batch size of local (hf) generation."),
    timeout_s: float = typer.Option(300.0, help="Per-request timeout (openai)."),
    max_retries: int = typer.Option(5, help="Retries per request (openai)."),
    extra_body: Optional[str] = typer.Option(None, help="JSON merged into each request, e.g. "
                                             "'{\"chat_template_kwargs\": "
                                             "{\"enable_thinking\": false}}' for vLLM."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..run import EvalConfig, evaluate

    try:
        body = json.loads(extra_body) if extra_body else None
    except json.JSONDecodeError as exc:
        raise AssayError(f"--extra-body is not valid JSON ({exc.msg}): {extra_body}") from exc
    cfg = EvalConfig(task=task, data=data, models=model, out=out, store=store,
                     concurrency=concurrency, max_tokens=max_tokens, samples=samples,
                     sample_temperature=sample_temperature, max_errors=max_errors,
                     skip_invalid=skip_invalid, api_key_env=api_key_env, logprobs=logprobs,
                     top_logprobs=top_logprobs, enable_thinking=thinking,
                     task_options=parse_options(task_option), task_module=task_module,
                     limit=limit, batch_size=batch_size, timeout_s=timeout_s,
                     max_retries=max_retries, extra_body=body,
                     backend_options=parse_options(backend_option, "--backend-option"),
                     progress=not as_json)
    show(evaluate(cfg), as_json)


def score_command(
    task: str = typer.Argument(..., help="Task name."),
    data: str = typer.Option(..., "--data", help="Items the predictions answer."),
    predictions: list[str] = typer.Option(..., "--predictions", help="[LABEL=]FILE, "
                                          "repeatable."),
    out: str = typer.Option(..., "--out", help="Run directory to write."),
    skip_invalid: bool = typer.Option(False, help="Skip and count invalid lines."),
    task_option: Optional[list[str]] = typer.Option(None, "--task-option"),
    task_module: Optional[str] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..predictions import ScoreConfig, score_predictions

    cfg = ScoreConfig(task=task, data=data, predictions=predictions, out=out,
                      skip_invalid=skip_invalid, task_options=parse_options(task_option),
                      task_module=task_module)
    show(score_predictions(cfg), as_json)


def summary(result) -> dict[str, Any]:
    m = result.manifest
    return {"out": str(result.out_dir), "task": m["task"], "metrics": result.metrics["models"],
            "baselines": result.metrics["baselines"],
            "parse_failure_rate": result.metrics["parse_failure_rate"],
            "truncated_share": result.metrics["truncated_share"],
            "requests_sent": result.requests_sent, "cache_hits": result.cache_hits,
            "errors": result.errors, "generation_wall_s": m.get("generation_wall_s"),
            "requests_per_s": m.get("requests_per_s")}


def show(result, as_json: bool) -> None:
    from ._common import out_console, print_json

    s = summary(result)
    if as_json:
        print_json(s)
        return
    from rich.table import Table

    from ..text.inert import cell, terminal

    labels = list(s["metrics"])
    names = list(dict.fromkeys(k for lab in labels for k in s["metrics"][lab]))
    table = Table(title=cell(f"{s['task']}: {result.manifest['data']['n_items']} items"))
    table.add_column("metric")
    for lab in labels:
        table.add_column(cell(lab), justify="right")
    for name in names:
        table.add_row(cell(name), *[cell(_fmt(s["metrics"][lab].get(name))) for lab in labels])
    for name, key in (("parse_failure_rate", "parse_failure_rate"),
                      ("truncated_share", "truncated_share")):
        if name not in names:  # shares every run reports, unless the task already did
            table.add_row(name, *[_fmt(s[key][lab]) for lab in labels])
    con = out_console()
    con.print(table)
    rps = s["requests_per_s"]
    con.print(terminal(f"requests sent {s['requests_sent']}, cache hits {s['cache_hits']}, "
                       f"errors {s['errors']}" + (f", {rps:.1f} requests/s" if rps else "")
                       + f"\nwrote {s['out']}/ (manifest.json, items.jsonl, metrics.json)"),
              markup=False, highlight=False)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.3f}"
    return str(v)


def register(app: typer.Typer) -> None:
    app.command("eval", help=EVAL_HELP)(eval_command)
    app.command("score", help=SCORE_HELP)(score_command)
