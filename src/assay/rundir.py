"""The run directory: what `assay eval` and `assay score` write, and how other verbs read it.

A run directory holds
- ``manifest.json``: task, task options, data file and its hash, model specs (no secrets) and
  their identities, decoding, package versions, git commit, start/end times, requests sent, cache
  hits, errors, generation wall seconds, requests per second, truncated share per model.
- ``items.jsonl``: one record per item x model x pass x sample (see assay.tasks._protocol).
- ``prompts.jsonl``: the rendered chat messages of each prompt hash, once per hash
  (``{"prompt_hash", "messages"}`` a line), so a view can show exactly what was asked. Runs
  from before it have none; their prompts read as not stored.
- ``metrics.json``: ``{"task", "models": {label: {metric: value}}, "baselines": {label:
  {metric: {"name", "value"}}}, "details": {label: {...}}, "parse_failure_rate": {label: x},
  "truncated_share": {label: x}, "errors": {label: n}}``.

The three files are written one after another (each to a unique temporary file, then renamed),
so a kill between two renames could leave files of two runs side by side. Each run therefore
stamps one ``run_id`` into the manifest and metrics.json and records the sha256 of its
items.jsonl (and of prompts.jsonl) in the manifest, which is written last; ``load_run`` refuses a directory whose
files disagree instead of pairing one model's outputs with another run's manifest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AssayError, InputError

MANIFEST = "manifest.json"
ITEMS = "items.jsonl"
METRICS = "metrics.json"
PROMPTS = "prompts.jsonl"


def default_run_dir(task: str, root: str | Path = "runs") -> Path:
    """A new run directory for a run given no --out: ``runs/TASK-YYYYMMDD-HHMMSS``."""
    from datetime import datetime

    base = Path(root) / f"{task or 'run'}-{datetime.now():%Y%m%d-%H%M%S}"
    path, k = base, 1
    while path.exists():  # two runs in one second
        path, k = base.with_name(f"{base.name}-{k}"), k + 1
    return path


def existing_run(out: Path, task: str, specs: dict[str, str], data_sha256: str | None,
                 force: bool = False) -> Run | None:
    """The run already at ``out`` that this one adds models to (None: nothing to keep).

    Checked before any request: a run of another task, on other data, or with a label that
    names another model there is refused (``force`` replaces it); the same task and data
    with new labels merges, so the earlier models' records stay."""
    if force or not (out / MANIFEST).is_file():
        return None
    try:
        run = load_run(out)
    except (AssayError, ValueError) as exc:
        raise AssayError(f"--out '{out}' holds a run that cannot be read ({exc}). Fix: give "
                         "--out a new directory, or pass --force to replace it") from None
    there = f"--out '{out}' holds a run of task '{run.task}' with models " + (
        ", ".join(f"{lab}={(run.manifest['models'].get(lab) or {}).get('spec')}"
                  for lab in run.models) or "none")
    fix = "Fix: give --out a new directory, or pass --force to replace it"
    if run.task != task:
        raise AssayError(f"{there}; this run is of task '{task}'. {fix}")
    old_sha = (run.manifest.get("data") or {}).get("sha256")
    if old_sha and data_sha256 and old_sha != data_sha256:
        raise AssayError(f"{there}, on other data (sha256 {old_sha[:12]}, now "
                         f"{data_sha256[:12]}). {fix}")
    for label, spec in specs.items():
        old = (run.manifest["models"].get(label) or {}).get("spec")
        if old is not None and _model_of(old) != _model_of(spec):
            raise AssayError(f"{there}; '{label}' there is {old}, here {spec}. {fix}, or "
                             "give this model another label")
    return run


def _model_of(spec: str) -> str:
    """A spec without its URLs: the same model served elsewhere is still the same label."""
    return spec.split("@", 1)[0] if spec.startswith("openai") else spec


def check_out_dir(out: str | Path, flag: str = "--out") -> Path:
    """A run directory can be written at ``out``: checked before any work is done."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise AssayError(f"{flag} '{out}' is a file; a run directory (manifest.json, "
                         f"items.jsonl, metrics.json) is written there. Fix: give {flag} a "
                         "directory path (new or existing)")
    parent = next((q for q in (p, *p.parents) if q.exists()), Path("."))
    if not parent.is_dir():
        raise AssayError(f"{flag} '{out}' is under '{parent}', which is a file. Fix: give "
                         f"{flag} a directory path")
    try:  # writable (the folder, or the nearest one that exists), so a read-only or full
        # --out costs no generation; nothing is created before the run is written
        probe = (p if p.is_dir() else parent) / f".assay-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AssayError(f"{out}: cannot write the run directory ({exc.strerror or exc}). Fix: "
                         f"give {flag} a writable directory (and free disk space if it is "
                         "full)") from None
    return p


@dataclass(frozen=True)
class Run:
    """A loaded run directory."""

    path: Path
    manifest: dict[str, Any]
    records: list[dict[str, Any]]
    metrics: dict[str, Any]
    # prompt hash -> its chat messages (empty for a run written before prompts were stored)
    prompts: dict[str, list] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def models(self) -> list[str]:
        """Model labels in the order they were given."""
        return list(self.manifest.get("models", {}))

    def records_of(self, label: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["model"] == label]

    def prompt(self, prompt_hash: str | None) -> list | None:
        """The chat messages of a prompt hash, or None when the run did not store them."""
        return self.prompts.get(prompt_hash) if prompt_hash else None


def load_run(path: str | Path) -> Run:
    """Read a run directory, with errors that say what is missing and how to make it."""
    p = Path(path)
    if not (p / MANIFEST).is_file():
        raise AssayError(f"{p} is not a run directory (no {MANIFEST}). Fix: pass the --out "
                         "directory of an `assay eval` or `assay score` run")
    manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
    raw = (p / ITEMS).read_bytes() if (p / ITEMS).is_file() else b""
    metrics_path = p / METRICS
    metrics = (json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file()
               else {})
    prompts_raw = (p / PROMPTS).read_bytes() if (p / PROMPTS).is_file() else None
    check_one_run(p, manifest, metrics, raw, prompts_raw)
    return Run(path=p, manifest=manifest, records=_read_items(p / ITEMS, raw), metrics=metrics,
               prompts=_read_prompts(p / PROMPTS, prompts_raw))


def prompts_jsonl(prompts: dict[str, Any]) -> bytes:
    """The bytes of prompts.jsonl: one ``{"prompt_hash", "messages"}`` line per hash."""
    return "".join(json.dumps({"prompt_hash": h, "messages": list(m)}, ensure_ascii=False)
                   + "\n" for h, m in prompts.items()).encode("utf-8")


def _read_prompts(path: Path, raw: bytes | None) -> dict[str, list]:
    if raw is None:
        return {}
    out = {}
    for lineno, line in enumerate(raw.decode("utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[str(row["prompt_hash"])] = row["messages"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"malformed prompt line ({exc})", file=str(path), line=lineno,
                             fix="rerun the eval to rewrite it (or delete the file: the "
                             "prompts then read as not stored)") from exc
    return out


def items_sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


def check_one_run(p: Path, manifest: dict, metrics: dict, raw: bytes,
                  prompts_raw: bytes | None = None) -> None:
    """Refuse a directory whose files come from different runs (an interrupted write); runs
    from before the stamp carry no run_id and are read as they are, and prompts.jsonl is
    checked when the manifest records its hash."""
    run_id = manifest.get("run_id")
    if run_id is None:
        return
    checks = [(METRICS, metrics.get("run_id") == run_id),
              (ITEMS, items_sha256(raw) == manifest.get("items_sha256"))]
    if manifest.get("prompts_sha256") is not None:
        checks.append((PROMPTS, prompts_raw is not None
                       and items_sha256(prompts_raw) == manifest["prompts_sha256"]))
    odd = [name for name, ok in checks if not ok]
    if odd:
        raise AssayError(f"{p} mixes files of two runs ({' and '.join(odd)} not of the run in "
                         f"{MANIFEST}, {run_id}): a run was stopped while writing them. Fix: "
                         "rerun the same command with this --out (finished completions come "
                         "from the store; nothing is sent again)")


def _read_items(path: Path, raw: bytes | None = None) -> list[dict[str, Any]]:
    """All records; parsed as one JSON array (one call instead of one per line: ~2x faster),
    falling back to line by line to name the malformed line. Lines end at "\n" only: an
    output holding U+2028 or U+0085 (str.splitlines would split there) is read back intact."""
    text = (path.read_bytes() if raw is None else raw).decode("utf-8")
    lines = [line for line in text.split("\n") if line.strip()]
    try:
        return json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        pass
    records = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON ({exc.msg})", file=str(path), line=lineno,
                                 fix="rerun the eval to rewrite it") from exc
    return records


def task_of(run: Run):
    """Rebuild the Task that produced a run (its user module re-imported when it had one)."""
    from .tasks import get_task, load_task_module

    if run.manifest.get("task_module"):
        load_task_module(run.manifest["task_module"])
    return get_task(run.task, **run.manifest.get("task_options", {}))
