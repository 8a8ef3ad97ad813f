"""A real OpenAI-compatible server, no stand-in: Hugging Face's `transformers serve` on the
converted embedded model, with `assay eval` and `assay distill` through the openai backend
(slow; still run in CI). Skipped with the install command as the reason when fastapi/uvicorn
or the embedded model are absent."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assay.errors import AssayError

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"
ITEMS = [{"id": f"c{i}", "diff": f"@@ -1,2 +1,2 @@\n-x = {i}\n+x = {i} + 1\n",
          "comment": "why the off-by-one?", "category": "functional"} for i in range(3)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    for mod in ("fastapi", "uvicorn"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is absent. Fix: pip install 'transformers[serving]' "
                        "(or pip install 'assay[serving]')")
    from assay.models.embedded import model_dir

    try:
        model = model_dir("smollm2")
    except AssayError as exc:
        pytest.skip(str(exc))
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or \
        shutil.which("transformers")
    if exe is None:
        pytest.skip("the transformers CLI is absent. Fix: pip install 'transformers[serving]'")
    port = _free_port()
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w")
    proc = subprocess.Popen([exe, "serve", str(model), "--host", "127.0.0.1", "--port",
                             str(port), "--device", "cpu", "--dtype", "float32"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                _get(base + "/health")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("transformers serve did not start: "
                                + Path(log.name).read_text()[-2000:])
                time.sleep(1)
        served = [m["id"] for m in _get(base + "/v1/models").get("data", [])]
        yield {"url": base + "/v1", "model": served[0] if served else str(model),
               "served": served}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _assay(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(SRC), "OPENAI_API_KEY": "none"}
    return subprocess.run([sys.executable, "-m", "assay", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _items(tmp_path) -> Path:
    p = tmp_path / "items.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ITEMS), encoding="utf-8")
    return p


def test_eval_through_the_served_model(server, tmp_path):
    spec = f"base=openai:{server['model']}@{server['url']}"
    r = _assay("eval", "haiku-review", "--data", str(_items(tmp_path)), "--model", spec,
               "--max-tokens", "16", "--out", str(tmp_path / "run"), "--store",
               str(tmp_path / "s.sqlite"), "--task-option", f"store={tmp_path}", "--json",
               cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    records = [json.loads(x) for x in (tmp_path / "run" / "items.jsonl").read_text().splitlines()
               if x.strip()]
    assert len(records) == 3
    outputs = [x.get("output") or x.get("raw") or "" for x in records]
    assert all(isinstance(o, str) for o in outputs)
    assert sum(bool(o.strip()) for o in outputs) >= 2, records  # real text came back


def test_distill_through_the_served_model(server, tmp_path):
    r = _assay("distill", "haiku-review", "--data", str(_items(tmp_path)), "--teacher",
               f"openai:{server['model']}@{server['url']}", "--max-tokens", "16",
               "--max-revisions", "1", "--keep", "best-effort", "--out", str(tmp_path / "d"),
               "--store", str(tmp_path / "s.sqlite"), "--task-option", f"store={tmp_path}",
               "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    card = json.loads((tmp_path / "d" / "card.json").read_text())
    assert card["gates"]["items"] == 3 and card["gates"]["request_errors"] == 0
    sent = card["ledger"]["totals"]["requests_sent"]
    assert 3 <= sent <= 6  # one draft each, one revision per failed draft
