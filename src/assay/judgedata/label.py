"""Labelling pairs through the distill loop and store, behind the gate, with cross-checks.

``label_pairs`` is what ``assay distill bias-judge --reference SPEC`` runs: the teacher and the
reference label a dry run (``gate``); below the gate's abort line it stops, writing the
agreement table to OUT/gate.md and gate.json. Otherwise the teacher labels every pair; each
cross-check labeller labels up to ``cross_check_n`` hard pairs, and a pair it disagrees on is
reported (by bucket) and kept out of the training sets. Only the teacher's labels are ever used
for training. Every completion goes through the store (rerun to resume; nothing is asked twice).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AssayError
from .buckets import BUCKETS, HARD, bucket_of
from .gate import ABORT, PROCEED, GateResult, GateRule, disagreements, dry_run_ids, gate
from .labeller import Label, Labeller, read_label
from .pairs import counts_of

LABELS, GATE = "labels.jsonl", "gate"


@dataclass(frozen=True)
class LabelConfig:
    """One gated labelling run (built from `assay distill`'s settings)."""

    data: str
    teacher: str
    out: str
    reference: str | None = None
    cross_check: tuple[str, ...] = ()
    gate: GateRule = field(default_factory=GateRule)
    cross_check_n: int = 500
    store: str | None = None
    max_revisions: int = 3
    temperature: float = 0.0
    max_tokens: int | None = None
    concurrency: int = 32
    seed: int = 0
    limit: int | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 300.0
    max_retries: int = 5
    backend_options: dict = field(default_factory=dict)
    sft: bool = False
    dpo: bool = False
    sft_min_confidence: int = 3
    dpo_min_confidence: int = 4
    price_in: float | None = None
    price_out: float | None = None
    budget: float | None = None


class GateFailed(AssayError):
    """The dry run fell below the gate; the labelling stopped before the full run."""

    def __init__(self, result: GateResult, where: Path):
        self.result = result
        what, fix = (("failed", "use a stronger teacher (--teacher)") if result.decision == ABORT
                     else ("not passed (marginal)", "revise the labelling (or the teacher)"))
        super().__init__(f"labelling gate {what}: {result.reason}; agreement by bucket: "
                         f"{result.table()} (table in {where}). Fix: {fix}, then rerun (stored "
                         "answers are reused)")


@dataclass(frozen=True)
class Labelled:
    """A pair, the teacher's label (None: no valid label), its text, and why it is excluded."""

    item: dict
    label: Label | None
    text: str | None
    cross: dict
    excluded: str | None

    def row(self) -> dict:
        lab = self.label
        return {**self.item, "teacher_label": None if lab is None else {
            "verdict": lab.verdict, "confidence": lab.confidence, "reasoning": lab.reasoning,
            "text": self.text}, "cross_check": self.cross, "excluded": self.excluded}


@dataclass(frozen=True)
class LabelResult:
    out_dir: Path
    rows: list[Labelled]
    card: dict
    files: dict


async def _texts(task, teacher, items: Sequence[dict], max_revisions: int
                 ) -> dict[str, str | None]:
    """id -> the labeller's last passing answer (None when it never passed)."""
    from ..distill.loop import LoopConfig, run_loop

    runs = await run_loop(task, teacher, list(items), LoopConfig(max_revisions, 1))
    out = {}
    for run in runs:
        ok = [a for a in run.attempts if a.check.ok]
        out[run.item_id] = ok[-1].text if ok else None
    return out


def _verdicts(texts: dict[str, str | None]) -> dict[str, str | None]:
    out = {}
    for i, t in texts.items():
        lab = read_label(t) if t else None
        out[i] = lab.verdict if isinstance(lab, Label) else None
    return out


def cross_check_ids(items: Sequence[dict], n: int, seed: int) -> list[str]:
    """Up to ``n`` hard pairs, drawn with ``seed``, in item order."""
    hard = [str(i["id"]) for i in items if bucket_of(i) in HARD]
    pick = set(np.random.default_rng(seed + 1).permutation(hard)[:n].tolist()) if hard else set()
    return [i for i in (str(x["id"]) for x in items) if i in pick]


class _Labellers:
    """The labellers of one run, each behind the same store and ledger."""

    def __init__(self, cfg: LabelConfig, store, ledger, task):
        from ..distill.teacher import build_teacher

        self.cfg, self.task = cfg, task

        def build(spec):
            return build_teacher(spec, store, ledger, temperature=cfg.temperature,
                                 max_tokens=cfg.max_tokens or task.max_tokens,
                                 concurrency=cfg.concurrency, seed=cfg.seed,
                                 api_key_env=cfg.api_key_env, timeout_s=cfg.timeout_s,
                                 max_retries=cfg.max_retries,
                                 backend_options=cfg.backend_options)[1]
        self.build = build
        self.teacher = build(cfg.teacher)

    async def texts(self, teacher, items) -> dict[str, str | None]:
        return await _texts(self.task, teacher, items, self.cfg.max_revisions)


async def _run_gate(cfg: LabelConfig, lab: _Labellers, items: list[dict], out: Path) -> dict | None:
    from .card import write_card

    if cfg.reference is None:
        return None
    ids = set(dry_run_ids(items, cfg.gate, cfg.seed))
    dry = [i for i in items if str(i["id"]) in ids]
    t = _verdicts(await lab.texts(lab.teacher, dry))
    r = _verdicts(await lab.texts(lab.build(cfg.reference), dry))
    result = gate(dry, t, r, cfg.gate)
    card = {"kind": "labelling-gate", "teacher": cfg.teacher, "reference": cfg.reference,
            "rule": {"n": cfg.gate.n, "hard_share": cfg.gate.hard_share,
                     "min_overall": cfg.gate.min_overall, "min_hard": cfg.gate.min_hard,
                     "abort_hard": cfg.gate.abort_hard}, **result.to_dict()}
    card["confusion"] = {str(k): {str(kk): vv for kk, vv in v.items()}
                         for k, v in result.confusion.items()}
    paths = write_card(out, card, GATE)
    if result.decision != PROCEED:
        raise GateFailed(result, paths["card_md"])
    return card


def label_pairs(cfg: LabelConfig) -> LabelResult:
    """Gate, label, cross-check, then write labels.jsonl, the card and (when asked) SFT/DPO."""
    from ..distill.ledger import Ledger
    from ..store import DEFAULT_STORE, Store
    from .card import write_card
    from .io import write_jsonl

    task = Labeller()
    ds = task.load(cfg.data)
    items = ds.items[:cfg.limit] if cfg.limit else ds.items
    out = Path(cfg.out)
    ledger = Ledger(cfg.price_in, cfg.price_out, cfg.budget)
    with Store(Path(cfg.store) if cfg.store else DEFAULT_STORE) as store:
        # one event loop for every request: a backend's client and semaphores belong to it
        gate_card, checked, others, rows, synths = asyncio.run(
            _ask(cfg, _Labellers(cfg, store, ledger, task), items, out))
        files = {"labels": out / LABELS}
        write_jsonl(files["labels"], [r.row() for r in rows])
        card = label_card(cfg, rows, gate_card, disagreements(
            checked, {r.item["id"]: r.label.verdict if r.label else None for r in rows},
            others), ledger)
        files.update(write_card(out, card))
        files.update(_training_sets(cfg, rows, synths, out))
    return LabelResult(out, rows, card, files)


async def _ask(cfg: LabelConfig, lab: _Labellers, items: list[dict], out: Path):
    """Every request of the run: gate, teacher labels, cross-checks, DPO syntheses."""
    gate_card = await _run_gate(cfg, lab, items, out)
    texts = await lab.texts(lab.teacher, items)
    ids = set(cross_check_ids(items, cfg.cross_check_n, cfg.seed))
    checked = [i for i in items if str(i["id"]) in ids]
    others = {spec: _verdicts(await lab.texts(lab.build(spec), checked))
              for spec in cfg.cross_check}
    rows = _labelled(items, texts, others)
    synths = {}
    if cfg.dpo:
        from .dpo import plan, synthesize

        synths = await synthesize(plan(rows, cfg.dpo_min_confidence), lab.teacher)
    return gate_card, checked, others, rows, synths


def _training_sets(cfg: LabelConfig, rows: list[Labelled], synths: dict, out: Path) -> dict:
    files = {}
    if cfg.sft:
        from .sft import write_sft

        files.update(write_sft(rows, out, cfg.sft_min_confidence))
    if cfg.dpo:
        from .dpo import write_dpo

        files.update(write_dpo(rows, out, synths, cfg.dpo_min_confidence))
    return files


def _labelled(items, texts, others) -> list[Labelled]:
    rows = []
    for item in items:
        i = str(item["id"])
        text = texts.get(i)
        label = read_label(text) if text else None
        label = label if isinstance(label, Label) else None
        cross = {spec: v[i] for spec, v in others.items() if i in v}
        why = None
        if label is None:
            why = "the teacher gave no valid label"
        else:
            differ = [s for s, v in cross.items() if v != label.verdict]
            if differ:
                why = f"cross-check disagrees ({', '.join(differ)})"
        rows.append(Labelled(item, label, text, cross, why))
    return rows


def label_card(cfg: LabelConfig, rows: list[Labelled], gate_card, cross, ledger) -> dict:
    labelled = [r for r in rows if r.label is not None]
    return {
        "kind": "labelling", "data": cfg.data, "teacher": cfg.teacher,
        "reference": cfg.reference, "cross_check_labellers": list(cfg.cross_check),
        "pairs": len(rows), "labelled": len(labelled),
        "excluded": sum(r.excluded is not None for r in rows),
        "teacher_verdicts": dict(Counter(r.label.verdict for r in labelled)),
        "confidence": {str(k): v for k, v in sorted(Counter(
            r.label.confidence for r in labelled).items())},
        "pairs_by": counts_of([r.item for r in rows]),
        "kept_by": counts_of([r.item for r in rows if r.excluded is None]),
        "excluded_by_bucket": {b: sum(bucket_of(r.item) == b and r.excluded is not None
                                      for r in rows) for b in BUCKETS},
        "gate": None if gate_card is None else {
            k: gate_card[k] for k in ("n", "agree", "hard_n", "hard_agree", "decision",
                                      "reason")},
        "gate_by_bucket": None if gate_card is None else gate_card["by_bucket"],
        "cross_check": {s: {k: v for k, v in c.items() if k != "ids"} for s, c in cross.items()},
        "warnings": [] if gate_card is not None else [
            "no --reference: the labels passed no gate"],
        "ledger": {**ledger.to_dict()["totals"], "cost_usd": ledger.to_dict()["cost_usd"],
                   "stopped_by_budget": ledger.to_dict()["stopped_by_budget"]},
    }


def from_distill(cfg) -> LabelConfig:
    """The labelling settings of an `assay distill bias-judge` run (checked first)."""
    from ..distill.config import check_config

    check_config(cfg)
    try:
        rule = GateRule(cfg.gate_n, 0.6, cfg.gate_min, cfg.gate_hard_min, cfg.gate_abort_hard)
    except ValueError as exc:
        raise AssayError(f"{exc}. Fix: change --gate-n / --gate-min / --gate-hard-min / "
                         "--gate-abort-hard") from exc
    return LabelConfig(
        data=cfg.data, teacher=cfg.teacher, out=cfg.out, reference=cfg.reference,
        cross_check=tuple(cfg.cross_check), gate=rule, cross_check_n=cfg.cross_check_n,
        store=cfg.store, max_revisions=cfg.max_revisions, temperature=cfg.temperature,
        max_tokens=cfg.max_tokens, concurrency=cfg.concurrency, seed=cfg.seed,
        limit=cfg.limit, api_key_env=cfg.api_key_env, timeout_s=cfg.timeout_s,
        max_retries=cfg.max_retries, backend_options=cfg.backend_options, sft=cfg.sft,
        dpo=cfg.dpo, sft_min_confidence=cfg.sft_min_confidence,
        dpo_min_confidence=cfg.dpo_min_confidence, price_in=cfg.price_in,
        price_out=cfg.price_out, budget=cfg.budget)
