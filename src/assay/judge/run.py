"""`assay judge`: every pair judged in both orders by every judge, through the store.

Order ``candidate_first`` shows the candidate as Response 1, ``reference_first`` as Response 2.
Each judgment is a completion in the SQLite store keyed by the judge's identity and decoding and
the hash of the judge's messages (which hold the prompt and both responses in their order): a
rerun sends only what is missing, and an interrupted run resumes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AssayError
from ..store import DEFAULT_STORE, Store, canonical_hash, model_key, request_key
from ..tasks import Unparsed
from .pairs import Pair, build_pairs, check_labels
from .prompt import judge_messages, parse_verdict

CANDIDATE_FIRST, REFERENCE_FIRST = "candidate_first", "reference_first"
ORDERS = (CANDIDATE_FIRST, REFERENCE_FIRST)
WIN, TIE, LOSS = "win", "tie", "loss"


@dataclass(frozen=True)
class JudgeConfig:
    """The settings of one `assay judge` run (every CLI flag is one field)."""

    run: str
    candidates: tuple[str, ...]
    reference: str
    judges: tuple[str, ...]  # NAME=SPEC
    out: str
    store: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 16
    max_tokens: int = 512
    n_resamples: int = 2000
    confidence_level: float = 0.95
    seed: int = 0
    goals: str | None = None  # goals.yaml with goals on win_rate


@dataclass(frozen=True, slots=True)
class Judgment:
    """One judge's answer on one pair in one order, and the candidate's outcome in it.

    better: 1 / 2 (the slot preferred) or 0 (tie), None when unparsed; outcome: win / tie / loss
    for the candidate, None when unparsed; scores mapped to the candidate and the reference."""

    id: str
    candidate: str
    reference: str
    judge: str
    order: str
    better: int | None
    outcome: str | None
    why: str
    candidate_score: int | None
    reference_score: int | None
    candidate_chars: int
    reference_chars: int
    output: str
    parse_error: str | None
    error: str | None
    cached: bool


@dataclass(frozen=True)
class JudgeRun:
    """What `assay judge` wrote: the judgments, the summary (judge.json) and the files."""

    out_dir: Path
    judgments: tuple[Judgment, ...]
    summary: dict[str, Any]
    requests_sent: int
    cache_hits: int
    files: dict[str, str] = field(default_factory=dict)


def _parse_judges(judges: Sequence[str]):
    from ..models import parse_labeled

    if not judges:
        raise AssayError("no --judge given. Fix: add --judge NAME=SPEC, e.g. --judge "
                         "gpt4o=openai:gpt-4o@https://api.openai.com/v1")
    specs = []
    for text in judges:
        try:
            specs.append(parse_labeled(text))
        except AssayError as exc:
            raise AssayError(str(exc).replace("--model", "--judge")) from None
    names = [s.label for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise AssayError(f"judge name(s) {dup} given twice. Fix: give each --judge a distinct "
                         "NAME")
    return specs


def _slots(pair: Pair, order: str) -> tuple[str, str]:
    return ((pair.candidate, pair.reference) if order == CANDIDATE_FIRST
            else (pair.reference, pair.candidate))


def outcome_of(better: int, order: str) -> str:
    """The candidate's outcome when the judge preferred slot ``better`` (0 = tie)."""
    if better == 0:
        return TIE
    first_is_candidate = order == CANDIDATE_FIRST
    return WIN if (better == 1) == first_is_candidate else LOSS


def _judgment(judge: str, cand: str, ref: str, pair: Pair, order: str, c) -> Judgment:
    common = dict(id=pair.item_id, candidate=cand, reference=ref, judge=judge, order=order,
                  candidate_chars=len(pair.candidate), reference_chars=len(pair.reference),
                  output=c.text or "", error=c.error, cached=bool(c.cached))
    if c.error:
        return Judgment(**common, better=None, outcome=None, why="", candidate_score=None,
                        reference_score=None, parse_error=None)
    v = parse_verdict(c.text)
    if isinstance(v, Unparsed):
        return Judgment(**common, better=None, outcome=None, why="", candidate_score=None,
                        reference_score=None, parse_error=v.reason)
    cand_score, ref_score = ((v.score_first, v.score_second) if order == CANDIDATE_FIRST
                             else (v.score_second, v.score_first))
    return Judgment(**common, better=v.better, outcome=outcome_of(v.better, order), why=v.why,
                    candidate_score=cand_score, reference_score=ref_score, parse_error=None)


def _judge_all(spec, cfg: JudgeConfig, plan: list[tuple[str, Pair, str]], store: Store):
    """One judge's completions for every (candidate, pair, order): cached ones from the store,
    the rest generated and committed one by one."""
    from ..models import Decoding, Request, make_backend

    backend = make_backend(spec, concurrency=cfg.concurrency, api_key_env=cfg.api_key_env)
    if hasattr(backend, "fetch_served"):
        backend.fetch_served()
    decoding = Decoding(max_tokens=cfg.max_tokens)
    mkey = model_key(backend.identity(), decoding.key())
    requests = []
    for cand, pair, order in plan:
        msgs = tuple(judge_messages(pair.instructions, pair.task_input, *_slots(pair, order)))
        phash = canonical_hash(list(msgs))
        requests.append(Request(key=request_key(mkey, phash, None), messages=msgs,
                                decoding=decoding, item_id=pair.item_id, pass_=order,
                                prompt_hash=phash))
    done = store.get_many(r.key for r in requests)
    missing = list({r.key: r for r in requests if r.key not in done}.values())
    hits = sum(r.key in done for r in requests)  # identical prompts are sent once, not hits

    def on_done(req, completion):
        store.put(req.key, mkey, req.prompt_hash, None, completion)
        done[req.key] = completion

    if missing:
        _preflight(spec, backend)
        backend.generate(missing, on_done)
    return [done[r.key] for r in requests], len(missing), hits


def _preflight(spec, backend) -> None:
    """A dead URL or a refused key fails in seconds, naming the judge, not after every retry."""
    import asyncio

    check = getattr(backend, "apreflight", None)
    if check is None:
        return
    try:
        asyncio.run(check())
    except AssayError as exc:
        raise AssayError(f"judge '{spec.label}' ({spec}): {exc}") from None


def judge_run(cfg: JudgeConfig) -> JudgeRun:
    """Judge every candidate against the reference with every judge, in both orders; write
    judgments.jsonl, judge.json and judge.md under ``cfg.out``."""
    from ..rundir import check_out_dir, load_run
    from .report import write_outputs
    from .summary import summarize

    run = load_run(cfg.run)
    check_labels(run, list(cfg.candidates), cfg.reference)
    specs = _parse_judges(cfg.judges)
    out = check_out_dir(cfg.out)
    pairs = {c: build_pairs(run, c, cfg.reference) for c in cfg.candidates}
    plan = [(c, p, o) for c in cfg.candidates for p in pairs[c] for o in ORDERS]
    judgments, sent, hits = [], 0, 0
    with Store(Path(cfg.store) if cfg.store else DEFAULT_STORE) as store:
        for spec in specs:
            completions, s, h = _judge_all(spec, cfg, plan, store)
            sent, hits = sent + s, hits + h
            judgments += [_judgment(spec.label, c, cfg.reference, p, o, comp)
                          for (c, p, o), comp in zip(plan, completions)]
    summary = summarize(judgments, cfg, {s.label: str(s) for s in specs}, run)
    summary |= {"requests_sent": sent, "cache_hits": hits}
    if cfg.goals:
        summary["goals"] = _goals(cfg, summary, run)
    files = write_outputs(out, judgments, summary)
    summary["files"] = files
    failed = [j for j in judgments if j.error]
    if failed:
        raise AssayError(f"{len(failed)} judgment request(s) failed after retries (the first, "
                         f"judge '{failed[0].judge}': {failed[0].error}); {out} was written "
                         "without them and every finished judgment is stored. Fix: check the "
                         "judge's server, then rerun the same command (only the failed "
                         "requests are sent again)")
    return JudgeRun(out, tuple(judgments), summary, sent, hits, files)


def _goals(cfg: JudgeConfig, summary: dict, run) -> dict:
    """The goals judged on the summary; pre-registered when every answer of the candidate (the
    last --candidate) was made after the goals' lock."""
    from ..jsonable import to_jsonable
    from .goals import check_judge_goals

    times = [r.get("created_at") for r in run.records_of(cfg.candidates[-1])
             if not r.get("error")]
    check = check_judge_goals(cfg.goals, summary, times)
    return {**to_jsonable(check), "hits": check.hits}


def judgment_rows(judgments: Sequence[Judgment]) -> str:
    """judgments.jsonl: one JSON object per judgment."""
    return "".join(json.dumps(asdict(j), ensure_ascii=False) + "\n" for j in judgments)
