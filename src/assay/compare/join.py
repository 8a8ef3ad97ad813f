"""Pairing two runs: choosing the two models, joining their records by (item, pass, sample),
refusing different prompts, and the facts about each side that qualify the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssayError
from ..records import ORIGINAL
from ..rundir import Run, load_run
from .result import Side

Key = tuple[str, str, Any]

# Truncation shares that differ by at least this much (absolute) and by a factor of two are
# flagged: a token limit sized for one model hides the other's hardest cases.
TRUNCATION_GAP = 0.05


def as_run(run: Run | str | Path) -> Run:
    return run if isinstance(run, Run) else load_run(run)


def pick(run: Run, label: str | None, role: str, flag: str) -> str:
    if label is not None:
        if label not in run.models:
            raise AssayError(f"{role} model '{label}' is not in {run.path} (models: "
                             f"{', '.join(run.models)}). Fix: pass {flag} with one of these")
        return label
    if len(run.models) != 1:
        raise AssayError(f"{run.path} holds {len(run.models)} models ({', '.join(run.models)}); "
                         f"which is the {role}? Fix: pass {flag} LABEL")
    return run.models[0]


def choose_sides(run_a: Run, run_b: Run | None, base: str | None,
                 candidate: str | None) -> tuple[Run, str, Run, str]:
    """(base run, base label, candidate run, candidate label) from the arguments."""
    if run_b is None:
        labels = run_a.models
        if len(labels) < 2:
            raise AssayError(f"{run_a.path} holds one model ({', '.join(labels)}); a comparison "
                             "needs two. Fix: pass a second run directory: assay compare "
                             "RUN_A RUN_B")
        if base is None and candidate is None and len(labels) > 2:
            raise AssayError(f"{run_a.path} holds {len(labels)} models ({', '.join(labels)}). "
                             "Fix: pass --base LABEL and --candidate LABEL")
        base = pick(run_a, base or next(x for x in labels if x != candidate), "base", "--base")
        rest = [x for x in labels if x != base]
        if candidate is None and len(rest) > 1:
            raise AssayError(f"several candidates for base '{base}' ({', '.join(rest)}). "
                             "Fix: pass --candidate LABEL")
        candidate = pick(run_a, candidate or rest[0], "candidate", "--candidate")
        if candidate == base:
            raise AssayError(f"base and candidate are both '{base}'. Fix: pick two different "
                             "models")
        return run_a, base, run_a, candidate
    if base is not None and base not in run_a.models and base in run_b.models:
        run_a, run_b = run_b, run_a  # --base names the model of the second run
    return run_a, pick(run_a, base, "base", "--base"), run_b, pick(run_b, candidate,
                                                                        "candidate", "--candidate")


# ---------------------------------------------------------------------------------------------
# Joining records


def record_key(r: dict) -> Key:
    return (str(r["id"]), r.get("pass") or ORIGINAL, r.get("sample"))


def show_key(key: Key) -> str:
    """'42' for the greedy original pass, else '42 [swapped]' or '42 [original, sample 3]'."""
    item, pass_, sample = key
    if pass_ == ORIGINAL and sample is None:
        return item
    return f"{item} [{pass_}{'' if sample is None else f', sample {sample}'}]"


def index(records: Sequence[dict], run: Run, label: str) -> dict[Key, dict]:
    out: dict[Key, dict] = {}
    for r in records:
        key = record_key(r)
        if key in out:
            raise AssayError(f"{run.path}: model '{label}' has two records for item "
                             f"{show_key(key)}. Fix: rerun the eval into a fresh directory")
        out[key] = r
    return out


@dataclass(frozen=True)
class Joined:
    """Records of both models on the keys they share (request failures dropped)."""

    base: list[dict]
    candidate: list[dict]
    only_base: tuple[str, ...]
    only_candidate: tuple[str, ...]
    mismatches: tuple[Key, ...]
    failed: int


def join(base: dict[Key, dict], cand: dict[Key, dict]) -> Joined:
    common = [k for k in base if k in cand]
    ok = [k for k in common if not base[k].get("error") and not cand[k].get("error")]
    mismatches = tuple(k for k in ok if base[k].get("prompt_hash") != cand[k].get("prompt_hash"))
    return Joined(base=[base[k] for k in ok], candidate=[cand[k] for k in ok],
                  only_base=tuple(show_key(k) for k in base if k not in cand),
                  only_candidate=tuple(show_key(k) for k in cand if k not in base),
                  mismatches=mismatches, failed=len(common) - len(ok))


def _mismatch_text(joined: Joined, base: dict[Key, dict], cand: dict[Key, dict]) -> str:
    k = joined.mismatches[0]
    return (f"{len(joined.mismatches)} of {len(joined.base)} paired completions were asked with "
            f"different prompts (e.g. item {show_key(k)}: base prompt_hash "
            f"{str(base[k].get('prompt_hash'))[:12]}, candidate "
            f"{str(cand[k].get('prompt_hash'))[:12]})")


def check_prompts(joined: Joined, base: dict, cand: dict, allow: bool) -> str | None:
    """Refuse different prompts (not a paired comparison) unless explicitly allowed."""
    if not joined.mismatches:
        return None
    text = _mismatch_text(joined, base, cand)
    if not allow:
        raise AssayError(f"{text}: different prompts are not a paired comparison. Fix: evaluate "
                         "both models on the same data with the same task options (one `assay "
                         "eval` with two --model flags is simplest), or pass "
                         "--allow-prompt-mismatch (allow_prompt_mismatch=True) to compare anyway "
                         "with a warning on every output")
    return f"PROMPTS DIFFER: {text}; this is not a clean paired comparison"



def make_side(run: Run, label: str, records: Sequence[dict]) -> Side:
    from ..metrics import shares

    trunc, parse, errors = shares(records)
    info = run.manifest.get("models", {}).get(label) or {}
    spec = info.get("spec") if isinstance(info, dict) else None
    data = run.manifest.get("data") if isinstance(run.manifest.get("data"), dict) else {}
    ok = [r for r in records if not r.get("error")]
    times = sorted(t for r in ok if (t := r.get("created_at")))
    known = any("cached" in r for r in ok)
    return Side(label, str(run.path), spec, len(records), trunc, parse, errors,
                run.manifest.get("started_at"), data.get("path"), data.get("sha256"), label,
                sum(bool(r.get("cached")) for r in ok) if known else None,
                times[0] if times else None, times[-1] if times else None,
                len({str(r["id"]) for r in ok}), data.get("n_items"))


def side_warnings(base: Side, cand: Side) -> list[str]:
    out = []
    tb, tc = base.truncated_share, cand.truncated_share
    if tb is not None and tc is not None and abs(tb - tc) >= TRUNCATION_GAP \
            and max(tb, tc) >= 2 * min(tb, tc):
        out.append(f"truncation differs: {base.label} {tb:.1%} vs {cand.label} {tc:.1%} of "
                   "completions hit the token limit; a limit sized for one model hides the "
                   "other's hardest cases. Fix: rerun with a larger --max-tokens")
    for s in (base, cand):
        if s.errors:
            out.append(f"{s.label}: {s.errors} request(s) failed; those items are left out of "
                       "the paired comparison")
    return out


def coverage_warnings(joined: Joined, base: Side, cand: Side) -> list[str]:
    out = []
    for side, only in ((base, joined.only_base), (cand, joined.only_candidate)):
        if only:
            out.append(f"{len(only)} completion(s) only in {side.label} (e.g. {only[0]}) are "
                       "left out of the paired comparison")
    return out




def check_data(base: Side, cand: Side, allow: bool) -> str | None:
    """Refuse two runs made on different data files (their gold labels may differ even when
    the prompts match), unless explicitly allowed."""
    if not base.data_sha256 or not cand.data_sha256 or base.data_sha256 == cand.data_sha256:
        return None
    text = (f"the runs were made on different data: {base.label} on {base.data} (sha256 "
            f"{base.data_sha256[:12]}), {cand.label} on {cand.data} (sha256 "
            f"{cand.data_sha256[:12]})")
    if not allow:
        raise AssayError(f"{text}. Fix: evaluate both models on the same data file, or pass "
                         "--allow-data-mismatch (allow_data_mismatch=True) to compare anyway "
                         "with a warning on every output")
    return f"DATA DIFFERS: {text}; gold labels may differ between the sides"


def check_gold(joined: Joined, keys: Sequence[str], allow: bool) -> str | None:
    """Refuse paired completions whose reference labels (the task's ``gold_keys``) differ."""
    if not keys:
        return None
    differ = []
    for rb, rc in zip(joined.base, joined.candidate):
        sb, sc = rb.get("scores") or {}, rc.get("scores") or {}
        if any(k in sb and k in sc and sb[k] != sc[k] for k in keys):
            differ.append(show_key(record_key(rb)))
    if not differ:
        return None
    text = (f"{len(differ)} of {len(joined.base)} paired completions have different gold labels "
            f"({', '.join(keys)}; e.g. item {differ[0]})")
    if not allow:
        raise AssayError(f"{text}: not the same items. Fix: evaluate both models on the same "
                         "data file, or pass --allow-data-mismatch to compare anyway")
    return f"GOLD LABELS DIFFER: {text}"


def identity_warnings(brun: Run, blabel: str, crun: Run, clabel: str) -> list[str]:
    def identity(run, label):
        info = run.manifest.get("models", {}).get(label) or {}
        return (info.get("identity"), info.get("decoding")) if isinstance(info, dict) else None

    b, c = identity(brun, blabel), identity(crun, clabel)
    if b is not None and b == c and b[0] is not None:
        return [f"base '{blabel}' and candidate '{clabel}' are the same model (identical "
                "identity and decoding): any difference is noise"]
    return []
