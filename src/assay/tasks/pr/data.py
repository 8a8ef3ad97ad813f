"""Pull requests as task items: read from a JSONL file or a folder of them (``prs/click.jsonl``,
``prs/flask.jsonl``), each record checked (the ``files`` list too, naming file, line and field),
and a seeded split by repository and PR.

The split is stratified by repository: within each repository the PRs are ordered by a hash of
(seed, repository, PR number) and the first ``test_share`` of them are the test split, so a
repository is never all-train or all-test, the same seed always gives the same split, and adding
PRs of one repository does not move another repository's PRs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path

from ...dataset import Dataset, Field, file_sha256, load_items, read_records
from ...errors import InputError

SPLITS = ("all", "train", "test")

SCHEMA = (Field("id", (str, int)), Field("repo", (str,), nonempty=True),
          Field("pr_number", (int,)), Field("title", (str,), nonempty=True),
          Field("files", (list,), nonempty=True), Field("body", (str,), required=False),
          Field("changed_lines", (int,), required=False))


def _checked_files(path: Path) -> Iterator[tuple[int, dict | InputError]]:
    """The file's records, each with its ``files`` entries checked ({path: str, diff: str})."""
    for line, rec in read_records(path):
        if isinstance(rec, dict) and isinstance(rec.get("files"), list):
            for k, entry in enumerate(rec["files"]):
                bad = _bad_entry(entry)
                if bad:
                    rec = InputError(bad, file=str(path), line=line, field=f"files[{k}]",
                                     value=entry if not isinstance(entry, dict) else
                                     {key: type(v).__name__ for key, v in entry.items()},
                                     fix="give every entry of 'files' a 'path' and a 'diff' "
                                     "(both strings: the unified diff of that file)")
                    break
        yield line, rec


def _bad_entry(entry) -> str | None:
    if not isinstance(entry, dict):
        return "each entry of 'files' must be an object"
    for key in ("path", "diff"):
        if not isinstance(entry.get(key), str):
            return f"entry has no string '{key}'"
    return None


def pr_files(path: str | Path) -> list[Path]:
    """The JSONL files of a PR folder (sorted), or the one file given."""
    p = Path(path)
    if p.is_dir():
        found = sorted(p.glob("*.jsonl"))
        if not found:
            raise InputError("the folder holds no *.jsonl files of pull requests", file=str(p),
                             fix="give --data a PR JSONL file or a folder of them "
                             "(e.g. ../shared/data/prs)")
        return found
    return [p]


def load_prs(path: str | Path, *, skip_invalid: bool = False) -> Dataset:
    """Every PR of a file or folder, validated, ids unique across the files."""
    items, skipped, seen = [], [], {}
    for f in pr_files(path):
        ds = load_items(f, SCHEMA, skip_invalid=skip_invalid, records=_checked_files(f))
        for item in ds.items:
            key = str(item["id"])
            if key in seen:
                raise InputError(f"duplicate id (also in {seen[key]})", file=str(f),
                                 field="id", value=item["id"], fix="give every PR a unique id")
            seen[key] = f.name
        items += ds.items
        skipped += ds.skipped
    return Dataset(items, str(path), file_sha256(path), tuple(skipped))


def split_key(seed: int, repo: str, number: int) -> str:
    return hashlib.sha256(f"{seed}|{repo}|{number}".encode()).hexdigest()


def split_prs(items: list[dict], split: str, *, test_share: float = 0.2,
              seed: int = 0) -> list[dict]:
    """The items of one split (``all`` / ``train`` / ``test``), in their original order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must be between 0 and 1, got {test_share!r}")
    if split == "all":
        return list(items)
    test: set[str] = set()
    by_repo: dict[str, list[dict]] = {}
    for item in items:
        by_repo.setdefault(item["repo"], []).append(item)
    for repo, prs in by_repo.items():
        ordered = sorted(prs, key=lambda i: split_key(seed, repo, i["pr_number"]))
        test |= {str(i["id"]) for i in ordered[:math.ceil(test_share * len(ordered))]}
    return [i for i in items if (str(i["id"]) in test) == (split == "test")]
