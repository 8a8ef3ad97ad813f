"""Training data in TRL's formats, from a file or straight from a task, rendered like the eval.

Two sources:

* a file (JSONL, JSON, Parquet or an HF dataset directory) in TRL's formats: ``prompt`` +
  ``completion`` (SFT), ``prompt`` + ``chosen`` + ``rejected`` (DPO), ``prompt`` (+
  ``privileged_context``) (SDPO). A prompt is a list of chat messages or a string (one user turn;
  with ``raw_prompts`` the exact text the model sees). A completion is a string or a one-message
  assistant list.
* a task (``task: paper-review`` with ``data: items.jsonl``): each item's prompt is the task's own
  ``render(item)``. The completion is the item's ``completion`` field when present, else the
  task's reference answer (see ``reference_completion``); DPO reads ``chosen``/``rejected``
  fields, SDPO an optional ``privileged_context`` field.

Either way every prompt is rendered to text here with the model's chat template through
``assay.models.chat.render_chat`` with thinking off, exactly as the ``hf`` eval backend renders
it, and handed to TRL as a string: what the model is trained on is what it is later asked.
A prompt that still carries a thinking marker is refused. Examples longer than ``max_length``
are counted and dropped or truncated as the recipe says.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from .config import DPORecipe, Recipe
from .swap import mirror_slots, trade_texts

REQUIRED: dict[str, tuple[str, ...]] = {"sft": ("prompt", "completion"),
                                         "dpo": ("prompt", "chosen", "rejected"),
                                         "sdpo": ("prompt",)}
COMPLETION_COLUMNS = ("completion", "chosen", "rejected")


@dataclass(frozen=True)
class Example:
    """One training example before rendering: prompt (messages or text) and answer columns."""

    line: int
    prompt: Any
    answers: dict[str, str]
    extra: dict[str, Any]
    item: dict | None = None


@dataclass(frozen=True)
class DataStats:
    """What happened to the data on its way to the trainer."""

    n_read: int
    n_used: int
    n_swapped: int
    n_prompt_too_long: int
    n_too_long: int
    n_dropped: int
    n_truncated: int
    longest_tokens: int


@dataclass(frozen=True)
class TrainData:
    """TRL-ready rows (prompt text plus answer columns) and where they came from."""

    rows: list[dict[str, Any]]
    source: str
    sha256: str
    prompt_source: str
    stats: DataStats


# ---- reading --------------------------------------------------------------------------------

def read_file_examples(path: str, method: str) -> list[Example]:
    """Examples from a file in TRL's format; a missing column is an error naming it."""
    from ..dataset import read_records

    out = []
    for line, rec in read_records(path):
        if isinstance(rec, InputError):
            raise rec
        missing = [c for c in REQUIRED[method] if rec.get(c) in (None, "")]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)} needed by `assay train "
                             f"{method}`", file=path, line=line, field=missing[0],
                             fix=f"give every record {', '.join(REQUIRED[method])}")
        answers = {c: _answer_text(rec[c], path, line, c) for c in COMPLETION_COLUMNS
                   if c in REQUIRED[method]}
        extra = {k: v for k, v in rec.items() if k not in ("prompt", *COMPLETION_COLUMNS)}
        out.append(Example(line, rec["prompt"], answers, extra))
    return out


def _answer_text(value: Any, file: str, line: int, column: str) -> str:
    if isinstance(value, str):
        return value
    if (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
            and value[0].get("role") == "assistant" and isinstance(value[0].get("content"), str)):
        return value[0]["content"]
    raise InputError("expected a string or [{'role': 'assistant', 'content': ...}]", file=file,
                     line=line, field=column, value=value)


def read_task_examples(recipe: Recipe, task) -> tuple[list[Example], str]:
    """Examples rendered by the task; returns them and the data's sha256."""
    from ..tasks import ORIGINAL

    ds = task.load(recipe.data)
    out = []
    for line, item in enumerate(ds.items, 1):
        answers = _task_answers(recipe, task, item, line)
        extra = {k: item[k] for k in ("privileged_context",) if item.get(k)}
        out.append(Example(line, list(task.render(item, ORIGINAL)), answers, extra, item))
    return out, ds.sha256


def _task_answers(recipe: Recipe, task, item: dict, line: int) -> dict[str, str]:
    if recipe.method == "sdpo":
        return {}
    if recipe.method == "dpo":
        missing = [c for c in ("chosen", "rejected") if not isinstance(item.get(c), str)]
        if missing:
            raise InputError(f"missing field(s) {', '.join(missing)} needed by `assay train dpo`",
                             file=recipe.data, line=line, field=missing[0],
                             fix="give every item 'chosen' and 'rejected' answer texts")
        return {"chosen": item["chosen"], "rejected": item["rejected"]}
    text = item.get("completion")
    if not isinstance(text, str) or not text:
        text = reference_completion(task, item)
    if text is None:
        raise InputError(f"no target answer: task '{task.name}' has no reference answer",
                         file=recipe.data, line=line, field="completion",
                         fix="add a 'completion' field with the answer the model should learn")
    return {"completion": text}


def reference_completion(task, item: dict) -> str | None:
    """The answer to learn for an item without a ``completion`` field, or None.

    paper-review: the item's ``review`` when it already ends in a decision line; else the review
    (if any) followed by a "## Final Recommendation" section whose line is built from the item's
    ``decision`` label. Other tasks: None (give a ``completion`` field).
    """
    if task.name != "paper-review":
        return None
    from ..tasks.paper_review import DECISION_LINES, decision_lines

    review = (item.get("review") or "").strip()
    if review and decision_lines(review):
        return review
    line = DECISION_LINES[item["decision"]]
    tail = line if "Final Recommendation" in review else f"## Final Recommendation\n{line}"
    return f"{review}\n\n{tail}" if review else tail


# ---- swap-doubling ---------------------------------------------------------------------------

def swap_example(ex: Example, task=None, file: str | None = None) -> Example:
    """The pair shown the other way round: prompt from the task's swapped pass or with the
    ``response_a``/``response_b`` texts traded; every answer's A/B slots mirrored."""
    from ..tasks import SWAPPED

    if task is not None and ex.item is not None and SWAPPED in task.passes(ex.item):
        prompt = list(task.render(ex.item, SWAPPED))
    elif isinstance(ex.extra.get("response_a"), str) and isinstance(ex.extra.get("response_b"),
                                                                     str):
        prompt = _trade_in_prompt(ex, ex.extra["response_a"], ex.extra["response_b"])
    else:
        raise InputError("swap_doubling needs a pairwise example", file=file, line=ex.line,
                         field="response_a", fix="use a task with a swapped pass (e.g. "
                         "bias-judge), or give 'response_a' and 'response_b' columns holding "
                         "the two texts as they appear in the prompt; or set swap_doubling: false")
    answers = {k: mirror_slots(v) for k, v in ex.answers.items()}
    return replace(ex, prompt=prompt, answers=answers)


def _trade_in_prompt(ex: Example, a: str, b: str) -> Any:
    try:
        if isinstance(ex.prompt, str):
            return trade_texts(ex.prompt, a, b)
        whole = "\n".join(m["content"] for m in ex.prompt)
        trade_texts(whole, a, b)  # both texts must occur somewhere in the conversation
        return [{**m, "content": _trade_partial(m["content"], a, b)} for m in ex.prompt]
    except ValueError as exc:
        raise InputError(str(exc), line=ex.line, field="response_a",
                         fix="make response_a/response_b the exact texts shown in the prompt") \
            from exc


def _trade_partial(text: str, a: str, b: str) -> str:
    if a in text and b in text:
        return trade_texts(text, a, b)
    marker = "\x00ASSAY_SWAP\x00"
    return text.replace(a, marker).replace(b, a).replace(marker, b)


# ---- rendering -------------------------------------------------------------------------------

def render_prompt(tokenizer, prompt: Any, *, raw: bool, line: int, file: str | None = None) -> str:
    """The prompt text the model sees: the chat template with thinking off (as `assay eval`)."""
    from ..models.chat import render_chat

    if isinstance(prompt, str):
        if raw:
            text = prompt
        else:
            text = render_chat(tokenizer, [{"role": "user", "content": prompt}])
    elif isinstance(prompt, list) and all(isinstance(m, dict) for m in prompt):
        text = render_chat(tokenizer, prompt)
    else:
        raise InputError("expected a string or a list of chat messages", file=file, line=line,
                         field="prompt", value=prompt)
    refuse_thinking(text, line, file)
    return text


def refuse_thinking(text: str, line: int, file: str | None = None) -> None:
    """Training must never teach the model to answer after an open thinking marker."""
    from ..models.chat import leaked_markers

    found = leaked_markers(text, [])
    if found:
        raise InputError(f"the prompt contains the thinking marker(s) {', '.join(found)}; "
                         "training with thinking on would teach a different task than the eval "
                         "asks", file=file, line=line, field="prompt",
                         fix="remove thinking blocks from the prompts, or use a chat template "
                         "that honours enable_thinking=False")


def bos_prefix(tokenizer) -> str:
    """The BOS text the tokenizer adds by itself, or "" (TRL tokenizes string prompts with
    special tokens on, so a template that writes BOS too would get it twice)."""
    bos = getattr(tokenizer, "bos_token", None)
    if not bos or tokenizer.bos_token_id is None:
        return ""
    ids = tokenizer("x")["input_ids"]
    return bos if ids and ids[0] == tokenizer.bos_token_id else ""


# ---- length accounting -----------------------------------------------------------------------

def _lengths(tokenizer, prompt: str, answers: dict[str, str]) -> tuple[int, int]:
    """(prompt tokens, longest prompt+answer tokens incl. the end token)."""
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    longest = max((len(tokenizer(prompt + a, add_special_tokens=False)["input_ids"]) + 1
                   for a in answers.values()), default=n_prompt)
    return n_prompt, longest


def apply_length_limit(recipe: Recipe, tokenizer, rows: list[dict[str, Any]]
                       ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Drop examples beyond ``max_length``, or keep them for TRL to cut at ``max_length``.

    SDPO only counts: its trainer keeps the last ``max_prompt_length`` prompt tokens."""
    limit = getattr(recipe, "max_prompt_length", None) if recipe.method == "sdpo" \
        else recipe.max_length
    counts = {"n_prompt_too_long": 0, "n_too_long": 0, "n_dropped": 0, "n_truncated": 0,
              "longest_tokens": 0}
    kept = []
    for row in rows:
        answers = {k: row[k] for k in COMPLETION_COLUMNS if k in row}
        n_prompt, longest = _lengths(tokenizer, row["prompt"], answers)
        counts["longest_tokens"] = max(counts["longest_tokens"], longest)
        too_long = limit is not None and longest > limit
        prompt_fills = limit is not None and n_prompt >= limit
        counts["n_prompt_too_long"] += int(prompt_fills)
        counts["n_too_long"] += int(too_long)
        drop = recipe.too_long == "drop" or prompt_fills  # nothing left to supervise
        if too_long and drop and recipe.method != "sdpo":
            counts["n_dropped"] += 1
            continue
        counts["n_truncated"] += int(too_long)
        kept.append(row)
    return kept, counts


# ---- the whole way in ------------------------------------------------------------------------

def load_train_data(recipe: Recipe, tokenizer, task=None) -> TrainData:
    """Read, render, guard, double and length-check the training data of ``recipe``."""
    from ..dataset import file_sha256

    if task is not None:
        examples, sha = read_task_examples(recipe, task)
        source = f"task:{task.name}"
    else:
        examples, sha, source = read_file_examples(recipe.data, recipe.method), \
            file_sha256(recipe.data), "file"
    n_read = len(examples)
    if isinstance(recipe, DPORecipe) and recipe.swap_doubling:
        examples = examples + [swap_example(ex, task, recipe.data) for ex in examples]
    rows = [_row(recipe, tokenizer, ex) for ex in examples]
    rows, counts = apply_length_limit(recipe, tokenizer, rows)
    if not rows:
        raise InputError(f"no training examples left: all {n_read} are longer than max_length "
                         f"({recipe.max_length})", file=recipe.data,
                         fix="raise max_length, shorten the prompts, or set too_long: truncate")
    stats = DataStats(n_read=n_read, n_used=len(rows), n_swapped=len(examples) - n_read,
                      **counts)
    return TrainData(rows=rows, source=recipe.data, sha256=sha, prompt_source=source,
                     stats=stats)


def _row(recipe: Recipe, tokenizer, ex: Example) -> dict[str, Any]:
    prompt = render_prompt(tokenizer, ex.prompt, raw=recipe.raw_prompts, line=ex.line,
                           file=recipe.data)
    for name, text in ex.answers.items():
        _refuse_answer_template(tokenizer, text, ex.line, name, recipe.data)
    row: dict[str, Any] = {"prompt": prompt, **ex.answers}
    if recipe.method == "sdpo":
        row["privileged_context"] = _feedback(ex)
        row["item_json"] = json.dumps(ex.item if ex.item is not None else ex.extra,
                                      ensure_ascii=False, default=str)
    return row


def _feedback(ex: Example) -> str | None:
    value = ex.extra.get("privileged_context")
    return value if isinstance(value, str) and value.strip() else None


def _refuse_answer_template(tokenizer, text: str, line: int, column: str, file: str) -> None:
    eos = getattr(tokenizer, "eos_token", None)
    if eos and eos in text[:-len(eos)]:
        raise InputError(f"the answer contains the end token {eos!r} before its end", file=file,
                         line=line, field=column, fix="give the answer text only; the end token is added")


def trl_rows(data: TrainData, tokenizer) -> list[dict[str, Any]]:
    """Rows as handed to TRL: a BOS the tokenizer adds itself is cut from the prompt text, so
    the token ids equal those the eval backend feeds the model (it tokenizes without special
    tokens)."""
    bos = bos_prefix(tokenizer)
    if not bos:
        return data.rows
    return [{**r, "prompt": r["prompt"][len(bos):] if r["prompt"].startswith(bos)
             else r["prompt"]} for r in data.rows]


def has_feedback(rows: Sequence[dict[str, Any]]) -> bool:
    return any(r.get("privileged_context") for r in rows)
