"""The Qodo-style table from a scripted run on the real PRs: base and fine-tuned, each against a
reference's answers, judged pairwise in both orders by two scripted judges.

    python bench/qodo_table.py [--items 60] [--out runs/qodo-demo]

Everything runs on the loopback server (assay.testing.FakeOpenAIServer): three scripted "models"
answer pr-review on the test split of ../shared/data/prs (base writes a valid review 40% of
the time, ft 85%, ref always), and two scripted judges prefer a valid review whose issue lies in
the diff, with a known position bias (they answer "Response 1" 20% / 8% of the time whatever it
holds). Then the real CLI runs: `assay eval`, `assay goals lock` and `assay judge --goals`; the
judge's table (judge.md) is printed. Swap the scripted URLs for real servers to run it for real.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRS = ROOT.parent / "shared" / "data" / "prs"
sys.path.insert(0, str(ROOT / "src"))

from assay.testing import FakeOpenAIServer, script_env  # noqa: E402

VALID = {"base": 0.40, "ft": 0.85, "ref": 1.0}
BIAS = {"judge-a": 0.20, "judge-b": 0.08}


def _u(*parts) -> float:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16) / 16 ** 12


def _review(model: str, user: str) -> str:
    path = re.search(r"^## File: (.+)$", user, re.M).group(1)
    lines = [int(n) for n in re.findall(r"^ *(\d+) \+", user, re.M)] or [1]
    title = re.search(r"PR title: (.+)", user).group(1)
    if _u("valid", model, title) > VALID[model]:
        return f"The change to {path} looks fine to me, but the tests could be stronger."
    start = lines[0] if _u("inside", model, title) < VALID[model] else lines[0] + 10_000
    return (f"```yaml\nreview:\n  estimated_effort_to_review_1_5: 2\n  key_issues_to_review:\n"
            f"    - relevant_file: {path}\n      issue_header: Check the new line\n"
            f"      issue_content: Line {start} changes behaviour; is it tested?\n"
            f"      start_line: {start}\n      end_line: {start}\n"
            f"  security_concerns: No\n```")


def _quality(text: str) -> float:
    return ("review:" in text) + ("start_line" in text) * 0.5


def _judge(judge: str, user: str) -> str:
    first = user.split("## Response 1\n", 1)[1].split("\n\n## Response 2\n")[0]
    second = user.split("## Response 2\n", 1)[1]
    q1, q2 = _quality(first) + 0.4 * _u(judge, first), _quality(second) + 0.4 * _u(judge, second)
    if _u("bias", judge, first, second) < BIAS[judge]:
        better = 1
    else:
        better = 0 if abs(q1 - q2) < 0.1 else 1 if q1 > q2 else 2
    s1, s2 = (min(10, max(1, round(3 + 4 * q))) for q in (q1, q2))
    return (f"```yaml\nwhich_response_was_better: {better}\nwhy: Response {better or 'neither'} "
            f"names a concrete line of the diff.\nscore_response1: {s1}\n"
            f"score_response2: {s2}\n```")


def respond(body: dict) -> str:
    model, user = body["model"], body["messages"][-1]["content"]
    return _judge(model, user) if model in BIAS else _review(model, user)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="qodo-"))
    env = script_env()

    def assay(*argv):
        done = subprocess.run([sys.executable, "-m", "assay", *argv], env=env, text=True,
                              capture_output=True)
        if done.returncode:
            sys.exit(done.stderr)
        return done.stdout

    with FakeOpenAIServer(respond) as srv:
        url = srv.base_url
        models = [a for m in VALID for a in ("--model", f"{m}=openai:{m}@{url}")]
        assay("eval", "pr-review", "--data", str(PRS), "--task-option", "split=test", "--limit",
              str(args.items), *models, "--out", str(out / "run"), "--store",
              str(out / "store.sqlite"))
        (out / "goals.yaml").write_text('win_rate: [">= 0.40", improve]\n')
        assay("goals", "lock", str(out / "goals.yaml"), "--task", "pr-review")
        print(assay("judge", str(out / "run"), "--candidate", "base", "--candidate", "ft",
                    "--reference", "ref", "--judge", f"judge-a=openai:judge-a@{url}",
                    "--judge", f"judge-b=openai:judge-b@{url}", "--goals",
                    str(out / "goals.yaml"), "--out", str(out / "judged"), "--store",
                    str(out / "store.sqlite")))


if __name__ == "__main__":
    main()
