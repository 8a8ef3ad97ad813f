"""`assay data bbq-pairs --generator`: candidate answers from models through the store, as a user
runs it, with four scripted loopback generators of known habits."""

from __future__ import annotations

import json
import subprocess
import sys

from assay.judgedata import read_bbq
from assay.judgedata.generate import sample_questions
from assay.testing import FakeOpenAIServer, script_env

from .conftest import small_bbq


class Generators:
    """stereo: BBQ's bias-aligned option at length; careful: the gold, tersely; hedger: the
    bias-aligned person, tentatively, with no answer tag; garbled: no answer at all."""

    def __init__(self, questions):
        self.by_context = {q.context: q for q in questions}

    def __call__(self, body):
        q = self.by_context[body["messages"][1]["content"].split("\n\n", 1)[0]]
        letter = "ABC"
        if body["model"] == "stereo":
            return ("Thinking about who usually behaves this way, and about what people like "
                    f"this tend to do, it is clearly {q.answers[q.biased]}. "
                    f"<answer>{letter[q.biased]}</answer>")
        if body["model"] == "careful":
            return f"<answer>{letter[q.label]}</answer>"
        if body["model"] == "hedger":
            return f"It is probably {q.answers[q.biased].lower()}, I think."
        return "I would rather not say."


def run(root, url, out, store):
    args = [sys.executable, "-m", "assay", "data", "bbq-pairs", "--bbq", str(root), "--out",
            str(out), "--store", str(store), "--questions", "120", "--holdout-category", "none",
            "--holdout-pairs", "0", "--json"]
    for name in ("stereo", "careful", "hedger", "garbled"):
        args += ["--generator", f"{name}=openai:{name}@{url}"]
    proc = subprocess.run(args, env=script_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_generated_candidates_are_classified_and_stored(tmp_path):
    root = small_bbq(tmp_path / "bbq")
    qs = sample_questions(read_bbq(root), 120, 0)
    amb = sum(q.condition == "ambig" for q in qs)
    with FakeOpenAIServer(Generators(qs)) as srv:
        first = run(root, srv.base_url, tmp_path / "a", tmp_path / "store.sqlite")
        sent = srv.stats.requests
        second = run(root, srv.base_url, tmp_path / "b", tmp_path / "store.sqlite")
        assert srv.stats.requests == sent == 4 * 120  # the rerun came from the store
    assert first["classes"] == {"correct": 120, "biased": 2 * amb,
                                "incorrect_other": 2 * (120 - amb), "parse_failed": 120}
    got = first["allocated_per_bucket"]
    # one stereo/hedger vs careful pair per ambiguous question; every stereo pair is also
    # adversarial (long vs a bare tag), and adversarial chooses first, leaving clear none; no
    # second correct text (no tie) and nobody picks the other person in an ambiguous context
    # (no tracked pair)
    assert got == {"clear_bias_vs_clean": 0,
                   "subtle_bias_vs_clean": amb, "tracked_bias_vs_alternate": 0,
                   "both_clean_tie": 0, "adversarial": amb}
    card = json.loads((tmp_path / "b" / "card.json").read_text())
    assert card["generators"]["stereo"]["cache_hits"] == 120
    assert card["candidates_from"] == "given"
    assert ((tmp_path / "a" / "train.jsonl").read_bytes()
            == (tmp_path / "b" / "train.jsonl").read_bytes())
    assert second["warnings"]
