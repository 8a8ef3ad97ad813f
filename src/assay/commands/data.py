"""`assay data`: prepare task items from public datasets (crc-py for haiku-review)."""

from __future__ import annotations

from collections import Counter

import typer

SPLIT_CRC_HELP = """Turn crc-py into haiku-review items and split them, stratified by category.

Writes OUT/train.jsonl (for the category classifier) and OUT/test.jsonl (the held-out items to
evaluate on). The same --seed always gives the same split.

Example:

\b
  assay data split-crc --source ../shared/data/crc-py --out data/crc --holdout 100 --seed 0
  assay eval haiku-review --data data/crc/test.jsonl \\
      --model base=openai:qwen@http://localhost:8000/v1 \\
      --task-option train=data/crc/train.jsonl --out runs/haiku
"""


def split_crc_command(
    source: str = typer.Option(..., "--source", help="crc-py folder or its "
                               "manual_labeled_data.json."),
    out: str = typer.Option(..., "--out", help="Folder to write train.jsonl and test.jsonl."),
    holdout: int = typer.Option(100, "--holdout", help="Held-out items (lgtm-575 used 100)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..data import load_crc, stratified_split, write_split
    from ..errors import AssayError

    data = load_crc(source)
    try:
        split = stratified_split(data.items, holdout=holdout, seed=seed)
    except ValueError as exc:
        raise AssayError(f"{exc}. Fix: pass a smaller --holdout") from exc
    paths = write_split(split, out)
    summary = {"train": str(paths["train"]), "test": str(paths["test"]),
               "n_train": len(split.train), "n_test": len(split.test), "seed": seed,
               "test_categories": dict(Counter(i["category"] for i in split.test)),
               "dropped_false_positive": data.dropped_false_positive,
               "dropped_duplicates": data.dropped_duplicates}
    _show(summary, as_json)


def _show(summary: dict, as_json: bool) -> None:
    from ._common import out_console, print_json

    if as_json:
        print_json(summary)
        return
    cats = ", ".join(f"{k} {v}" for k, v in sorted(summary["test_categories"].items()))
    out_console().print(
        f"wrote {summary['train']} ({summary['n_train']} items) and {summary['test']} "
        f"({summary['n_test']} items: {cats}); dropped {summary['dropped_false_positive']} "
        f"false positives and {summary['dropped_duplicates']} duplicates; seed {summary['seed']}")


def register(app: typer.Typer) -> None:
    data_app = typer.Typer(help="Prepare task items from public datasets.",
                           no_args_is_help=True, rich_markup_mode=None)
    data_app.command("split-crc", help=SPLIT_CRC_HELP)(split_crc_command)
    app.add_typer(data_app, name="data")
