"""Split one eval or distill run across N machines by item: ``--shard K/N``.

An item belongs to shard ``sha256(id) mod N``: the same split on every machine, whatever the
order of the file, and an item never moves between shards when others are added or removed. Each
shard runs with its own store (by default ``.assay/store-shard-K-of-N.sqlite``: N processes
writing one SQLite file on a shared disk would contend for its lock), and ``assay merge`` joins
the run directories afterwards.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, item_id: object) -> bool:
        return shard_of(item_id, self.count) == self.index

    def default_store(self, root: Path = Path(".assay")) -> Path:
        return root / f"store-shard-{self.index}-of-{self.count}.sqlite"

    def to_dict(self) -> dict:
        return {"index": self.index, "count": self.count}


def shard_of(item_id: object, count: int) -> int:
    """The shard (0 .. count-1) of an item id: the first 8 bytes of sha256(str(id)) mod count."""
    digest = hashlib.sha256(str(item_id).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str | None, flag: str = "--shard") -> Shard | None:
    """``"K/N"`` (0 <= K < N) as a Shard; None or "" is no sharding."""
    if text is None or text == "":
        return None
    m = _SHARD.match(str(text))
    if not m:
        raise InputError("expected K/N, e.g. 0/4 (this machine's shard of 4)", field=flag,
                         value=text, fix=f"write {flag} K/N with 0 <= K < N")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1 or not 0 <= index < count:
        raise InputError(f"the shard index must be in 0..N-1 (0..{max(count - 1, 0)})",
                         field=flag, value=text,
                         fix=f"write {flag} K/N with 0 <= K < N, e.g. {flag} 0/{max(count, 2)}")
    return Shard(index, count)


def shard_items(items: Sequence[dict], shard: Shard | None) -> list[dict]:
    """The items of this shard, in their order in the data (all of them without a shard)."""
    if shard is None:
        return list(items)
    return [item for item in items if shard.holds(item["id"])]
