"""`assay judge`: pairwise LLM judges over a run's answers, both orders, through the store."""

from __future__ import annotations

from typing import Optional

import typer

JUDGE_HELP = """Judge candidates' answers against a reference's, pairwise, in both orders.

Example (the Qodo table: base and fine-tuned, each against gpt-4o's answers, two judges):

\b
  assay judge runs/pr-review --candidate base --candidate ft --reference gpt4o \\
      --judge gpt4o=openai:gpt-4o@https://api.openai.com/v1 \\
      --judge local=openai:Qwen/Qwen2.5-7B-Instruct@http://localhost:8000/v1 \\
      --out runs/pr-review/judged

\b
Writes judgments.jsonl (every judgment with its reasoning), judge.json and judge.md.
Rerun the same command to resume: judgments come from the store.
"""


def judge_command(
    run: str = typer.Argument(..., metavar="RUN", help="Run directory of `assay eval`."),
    candidate: list[str] = typer.Option(..., "--candidate", metavar="LABEL",
                                        help="Model label to judge, repeatable (the first is "
                                        "the baseline of the paired comparison)."),
    reference: str = typer.Option(..., "--reference", metavar="LABEL",
                                  help="Model label every candidate is compared with."),
    judge: list[str] = typer.Option(..., "--judge", metavar="NAME=SPEC",
                                    help="A judge model, repeatable, e.g. "
                                    "gpt4o=openai:gpt-4o@https://api.openai.com/v1."),
    out: str = typer.Option(..., "--out", metavar="DIR", help="Directory to write."),
    store: Optional[str] = typer.Option(None, "--store", metavar="FILE",
                                        help="SQLite store (default ./.assay/store.sqlite)."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", metavar="NAME",
                                    help="Environment variable with the judges' API key."),
    concurrency: int = typer.Option(16, "--concurrency", metavar="N",
                                    help="Requests in flight per judge."),
    max_tokens: int = typer.Option(512, "--max-tokens", metavar="N",
                                   help="Token limit of a judgment."),
    n_resamples: int = typer.Option(2000, "--n-resamples", metavar="N",
                                    help="Bootstrap resamples of the intervals."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed of the bootstrap."),
    goals: Optional[str] = typer.Option(None, "--goals", metavar="FILE",
                                        help="goals.yaml with goals on win_rate (e.g. "
                                        "win_rate: \">= 0.40\"), judged for the last "
                                        "--candidate."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..errors import AssayError
    from ..judge import JudgeConfig, judge_run
    from ._common import print_json

    for name, value, low in (("--concurrency", concurrency, 1), ("--max-tokens", max_tokens, 1),
                             ("--n-resamples", n_resamples, 100)):
        if value < low:
            raise AssayError(f"{name} must be at least {low} (got {value}). Fix: give {name} "
                             f"{low} or more")
    cfg = JudgeConfig(run=run, candidates=tuple(candidate), reference=reference,
                      judges=tuple(judge), out=out, store=store, api_key_env=api_key_env,
                      concurrency=concurrency, max_tokens=max_tokens, n_resamples=n_resamples,
                      seed=seed, goals=goals)
    result = judge_run(cfg)
    if as_json:
        print_json(result.summary)
        return
    from ..judge import markdown

    typer.echo(markdown(result.summary))
    typer.echo(f"requests sent {result.requests_sent}, cache hits {result.cache_hits}; wrote "
               f"{result.out_dir}/ (judgments.jsonl, judge.json, judge.md)")


def register(app: typer.Typer) -> None:
    app.command("judge", help=JUDGE_HELP, no_args_is_help=True)(judge_command)
