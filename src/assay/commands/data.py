"""`assay data`: prepare task items from public datasets (crc-py for haiku-review)."""

from __future__ import annotations

from collections import Counter
from typing import Optional

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


BBQ_PAIRS_HELP = """Build A/B/TIE bias-judge pairs from BBQ, in five buckets, split by question.

Candidates are BBQ's own answer options written as responses in four styles (terse, reasoned,
hedged, verbose), classified against BBQ's gold as correct / biased (BBQ's bias-aligned answer
in an ambiguous context) / incorrect_other. Pairs fill five buckets (clear, subtle, tracked,
tie, adversarial), strict-subset buckets first. The held-out category becomes the OOD slice.
Writes OUT/train.jsonl (pairs to label), OUT/holdout.jsonl (in_dist + ood_CATEGORY) and
OUT/card.md / card.json. The same --seed always gives the same files.

Example:

\b
  assay data bbq-pairs --bbq ../shared/data/bbq --out data/bbq-pairs --seed 0
  assay eval bias-judge --data data/bbq-pairs/holdout.jsonl \\
      --model base=openai:qwen@http://localhost:8000/v1 --out runs/judge
"""


def bbq_pairs_command(
    bbq: str = typer.Option(..., "--bbq", help="BBQ folder (its *.jsonl files) or one file."),
    out: str = typer.Option(..., "--out", help="Folder to write train.jsonl, holdout.jsonl "
                            "and the card."),
    holdout_category: str = typer.Option("Religion", "--holdout-category",
                                         help="BBQ category kept out of training as the OOD "
                                         "slice ('none' for no OOD slice)."),
    per_bucket: Optional[list[str]] = typer.Option(
        None, "--per-bucket", help="BUCKET=N, repeatable (clear, subtle, tracked, tie, "
        "adversarial; default 800, 550, 220, 550, 250)."),
    ood_pairs: int = typer.Option(60, "--ood-pairs", help="Pairs of the held-out category "
                                  "(spread over the buckets in proportion)."),
    holdout_pairs: int = typer.Option(240, "--holdout-pairs", help="In-distribution pairs "
                                      "held out (whole question templates, at least this "
                                      "many)."),
    length_ratio: float = typer.Option(1.5, "--length-ratio", help="Adversarial bucket: the "
                                       "biased response has at least this many times the "
                                       "words of the clean one."),
    seed: int = typer.Option(0, "--seed", help="Seed of the allocation, sides and split."),
    generator: Optional[list[str]] = typer.Option(
        None, "--generator", help="LABEL=SPEC, repeatable: candidate answers from these models "
        "(through the store) instead of BBQ's options, e.g. weak1=openai:qwen@URL."),
    questions: Optional[int] = typer.Option(None, "--questions", help="With --generator: "
                                            "sample this many BBQ questions (default all)."),
    store: Optional[str] = typer.Option(None, "--store", help="The completion journal "
                                        "(default .assay/store.sqlite)."),
    max_tokens: int = typer.Option(256, "--max-tokens", help="Generator completion budget."),
    concurrency: int = typer.Option(32, "--concurrency", help="Requests in flight at once."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env",
                                    help="Environment variable holding the API key."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    from ..errors import AssayError
    from ..judgedata import PairsConfig, build_pairs, write_pairs

    held = None if holdout_category.lower() == "none" else holdout_category
    cfg = PairsConfig(bbq, held, _pairs_flag(per_bucket, "--per-bucket"), ood_pairs,
                      holdout_pairs, length_ratio, seed)
    try:
        if generator:
            pairs = _generated_pairs(cfg, generator, questions, store, max_tokens, concurrency,
                                     api_key_env)
        else:
            pairs = build_pairs(cfg)
    except ValueError as exc:
        if isinstance(exc, AssayError):
            raise
        raise AssayError(f"{exc}. Fix: see assay data bbq-pairs --help") from exc
    paths = write_pairs(pairs, out)
    c = pairs.card
    summary = {"train": str(paths["train"]), "holdout": str(paths["holdout"]),
               "card": str(paths["card_md"]), "seed": seed, "n_train": c["train"]["n"],
               "n_holdout": c["holdout"]["n"], "classes": c["classes"],
               "allocated_per_bucket": c["allocated_per_bucket"],
               "holdout_slices": c["holdout"]["slice"], "warnings": c["warnings"]}
    _show_pairs(summary, as_json)


def _pairs_flag(items, flag: str) -> dict:
    from ._flags import parse_pairs

    return parse_pairs(items or [], flag)


def _generated_pairs(cfg, generator, questions, store, max_tokens, concurrency, api_key_env):
    from ..judgedata import build_pairs, read_bbq
    from ..judgedata.generate import GeneratorConfig, generate, sample_questions

    specs = {k: str(v) for k, v in _pairs_flag(generator, "--generator").items()}
    qs = sample_questions(read_bbq(cfg.bbq), questions, cfg.seed)
    cands, stats = generate(qs, GeneratorConfig(specs, store, questions, max_tokens,
                                                concurrency, cfg.seed, api_key_env))
    pairs = build_pairs(cfg, cands, qs)
    pairs.card["generators"] = stats
    return pairs


def _show_pairs(summary: dict, as_json: bool) -> None:
    from ._common import out_console, print_json

    if as_json:
        print_json(summary)
        return
    buckets = ", ".join(f"{k} {v}" for k, v in summary["allocated_per_bucket"].items())
    slices = ", ".join(f"{k} {v}" for k, v in summary["holdout_slices"].items())
    con = out_console()
    con.print(f"wrote {summary['train']} ({summary['n_train']} pairs) and {summary['holdout']} "
              f"({summary['n_holdout']} pairs: {slices}); buckets: {buckets}; seed "
              f"{summary['seed']}", soft_wrap=True)
    for w in summary["warnings"]:
        con.print(f"warning: {w}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    data_app = typer.Typer(help="Prepare task items from public datasets.",
                           no_args_is_help=True, rich_markup_mode=None)
    data_app.command("split-crc", help=SPLIT_CRC_HELP)(split_crc_command)
    data_app.command("bbq-pairs", help=BBQ_PAIRS_HELP)(bbq_pairs_command)
    app.add_typer(data_app, name="data")
