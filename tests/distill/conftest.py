"""The scripted loopback teacher and real crc-py items for the distill tests.

The teacher is wrong on its draft (line 1 has six syllables) and right after feedback that
names the line and the counts, like lgtm-575's Qwen3 teacher, which wrote 0 of 20 valid haiku in
one shot and fixed them when told which line was off.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOUNS = ["lock", "queue", "loop", "cache", "port", "key", "file", "path", "test", "flag",
         "hook", "branch", "thread", "bug", "stack", "heap", "log", "map", "list", "type"]
ADJS = ["slow", "cold", "dark", "wild", "bright", "thin", "late", "strange", "lost", "plain",
        "dry", "sharp", "brave", "calm", "loud", "bare", "firm", "pale", "rough", "soft"]
VERBS = ["breaks", "leaks", "fails", "stalls", "drifts", "burns", "slips", "waits", "hangs",
         "drops", "bends", "fades", "sinks", "spins", "cracks", "shifts", "rusts", "locks",
         "tears", "sleeps"]
FEEDBACK = re.compile(r"line 1 has 6 syllables[^;]*; it needs 5")


def good_haiku(k: int) -> str:
    return (f"the {NOUNS[k]} needs a guard\na {ADJS[k]} change here {VERBS[k]} at night\n"
            "so check it once more")


def draft_haiku(k: int) -> str:
    return good_haiku(k).replace(" needs a guard", " needs a strong guard", 1)


class ScriptedTeacher:
    """A responder for FakeOpenAIServer: item k (found by its human comment in the teacher
    prompt) gets a 6-7-5 draft, and a valid 5-7-5 once the feedback names line 1 and its
    counts; any other revision request gets the draft again."""

    def __init__(self, items: list[dict]):
        self.index = {i["comment"].strip(): k for k, i in enumerate(items)}

    def item_of(self, body: dict) -> int:
        prompt = body["messages"][1]["content"]
        return next(k for c, k in self.index.items() if c in prompt)

    def __call__(self, body: dict) -> str:
        k = self.item_of(body)
        last = body["messages"][-1]
        if len(body["messages"]) > 2 and FEEDBACK.search(last["content"]):
            return good_haiku(k)
        return draft_haiku(k)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def crc_sample(shared: Path, n: int = 12) -> list[dict]:
    """The first n crc-py items with distinct comments, as haiku-review items."""
    from assay.data.crc import load_crc

    seen, out = set(), []
    for item in load_crc(shared / "crc-py").items:
        c = item["comment"].strip()
        if c and c not in seen and len(c) > 20:
            seen.add(c)
            out.append({k: item[k] for k in ("id", "diff", "comment", "category")})
        if len(out) == n:
            break
    return out



@pytest.fixture(scope="module")
def crc_items(shared_root) -> list[dict]:
    return crc_sample(shared_root)
