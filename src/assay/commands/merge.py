"""`assay merge`: join the run directories of one eval split with --shard K/N."""

from __future__ import annotations

import typer

MERGE_HELP = """Join the run directories of an eval split across machines with --shard K/N.

Refuses runs of another task, data file or model (identity and decoding per label) and any
item found in two runs; the metrics are recomputed from the joined records.

Example (two machines, then one merge):

\b
  assay eval exact --data items.jsonl --model base=openai:m@http://a:8000/v1 \\
      --shard 0/2 --out runs/s0        # on machine A
  assay eval exact --data items.jsonl --model base=openai:m@http://b:8000/v1 \\
      --shard 1/2 --out runs/s1        # on machine B
  assay merge runs/s0 runs/s1 --out runs/all
"""


def merge_command(
    runs: list[str] = typer.Argument(..., metavar="DIR...", help="The shards' run "
                                     "directories."),
    out: str = typer.Option(..., "--out", metavar="DIR", help="Run directory to write."),
    force: bool = typer.Option(False, "--force", help="Replace a run already at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..merge import merge_runs
    from ._common import print_json

    res = merge_runs(runs, out, force=force)
    summary = {"out": str(res.out_dir), "runs": res.n_runs, "records": res.n_records,
               "n_items": res.manifest["data"]["n_items"], "metrics": res.metrics["models"],
               "coverage": res.manifest["coverage"]}
    if as_json:
        print_json(summary)
        return
    typer.echo(f"merged {res.n_runs} runs ({res.n_records} records, "
               f"{summary['n_items']} items) into {res.out_dir}/")


def register(app: typer.Typer) -> None:
    app.command("merge", help=MERGE_HELP, no_args_is_help=True)(merge_command)
