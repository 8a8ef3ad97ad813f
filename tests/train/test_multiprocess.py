"""Multi-process training: `assay train sft --num-processes 2` runs two CPU processes on gloo
(DDP through accelerate's launcher) and writes the same adapter format as one process; the
shipped FSDP2 and ZeRO-3 accelerate configs are checked offline against the recipe."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from assay.errors import AssayError, InputError
from assay.testing import assay_script, script_env
from assay.train import load_recipe
from assay.train.accelerate_config import check_accelerate_config
from assay.train.launch import accelerate_command

ROOT = Path(__file__).resolve().parents[2]
FSDP2 = ROOT / "examples" / "accelerate" / "fsdp2.yaml"
ZERO3 = ROOT / "examples" / "accelerate" / "zero3.yaml"
MULTINODE = ROOT / "examples" / "accelerate" / "multinode-ddp.yaml"
SFT = ROOT / "examples" / "train" / "sft.yaml"


def _train(tiny_model, paper_items, out, *extra):
    cmd = [assay_script(), "train", "sft", "--model", str(tiny_model), "--data",
           str(paper_items), "--task", "paper-review", "--out", str(out),
           "--set", "per_device_train_batch_size=2", "--set", "gradient_accumulation_steps=1",
           "--set", "task_options={body_tokens: 0}", "--set", "lora_r=4", "--json", *extra]
    p = subprocess.run(cmd, env=script_env(OMP_NUM_THREADS="1"), capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)  # one JSON object: only rank 0 prints


def _tensors(path: Path) -> dict[str, tuple]:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


@pytest.mark.slow
def test_two_cpu_processes_train_one_adapter_with_ddp(tiny_model, paper_items, tmp_path):
    two = _train(tiny_model, paper_items, tmp_path / "ddp", "--num-processes", "2",
                 "--set", "num_train_epochs=1")
    one = _train(tiny_model, paper_items, tmp_path / "one", "--set", "max_steps=1")
    assert one["global_step"] == 1
    record = json.loads((tmp_path / "ddp" / "train_record.json").read_text())
    assert record["processes"] == {"world_size": 2, "distributed_type": "MULTI_CPU"}
    # 8 items, 2 a process, 2 processes: the sampler splits them, 2 steps for one epoch
    # (one process alone would take 4)
    assert two["global_step"] == 2 and record["global_step"] == 2
    one_record = json.loads((tmp_path / "one" / "train_record.json").read_text())
    assert one_record["processes"]["world_size"] == 1
    files = lambda d: sorted(p.name for p in d.iterdir())  # noqa: E731
    assert files(tmp_path / "ddp") == files(tmp_path / "one")
    assert _tensors(tmp_path / "ddp" / "adapter_model.safetensors") == \
        _tensors(tmp_path / "one" / "adapter_model.safetensors")
    cfg_two, cfg_one = (json.loads((tmp_path / d / "adapter_config.json").read_text())
                        for d in ("ddp", "one"))
    for c in (cfg_two, cfg_one):  # a set in PEFT, written in no fixed order
        c["target_modules"] = sorted(c["target_modules"])
    assert cfg_two == cfg_one and cfg_two["r"] == 4


def test_the_launch_command_without_a_config_is_ddp_on_n_processes():
    cmd = accelerate_command(None, ["train", "sft", "--num-processes", "2"], 2)
    i = cmd.index("--num_processes")
    assert cmd[i + 1] == "2" and "--multi_gpu" in cmd and "--config_file" not in cmd
    assert cmd[-5:] == ["assay.cli", "train", "sft", "--num-processes", "2"]
    with_cfg = accelerate_command(FSDP2, ["train"], 8, "bf16")
    assert with_cfg[with_cfg.index("--config_file") + 1] == str(FSDP2)
    assert with_cfg[with_cfg.index("--num_processes") + 1] == "8"


@pytest.mark.parametrize("config", [FSDP2, ZERO3, MULTINODE],
                         ids=["fsdp2", "zero3", "multinode"])
def test_shipped_configs_agree_with_the_recipe(config):
    recipe = load_recipe("sft", SFT, {"accelerate_config": str(config), "bf16": True})
    c = check_accelerate_config(config, recipe)
    assert c["mixed_precision"] == "bf16" and c["num_processes"] >= 2
    if config == FSDP2:
        assert c["distributed_type"] == "FSDP" and c["fsdp_config"]["fsdp_version"] == 2
    elif config == MULTINODE:
        assert c["num_machines"] == 2 and c["num_processes"] % c["num_machines"] == 0
        assert c["main_process_ip"] and c["machine_rank"] == 0
    else:
        assert c["distributed_type"] == "DEEPSPEED"
        assert c["deepspeed_config"]["zero_stage"] == 3
    # the recipe as shipped trains in fp32: the config's bf16 is a contradiction, named
    plain = load_recipe("sft", SFT, {"accelerate_config": str(config)})
    with pytest.raises(AssayError, match=r"mixed_precision: bf16 and the recipe trains in no"
                                         r".*Fix: make them agree: --set bf16=true"):
        check_accelerate_config(config, plain)


def _write(tmp_path, text):
    p = tmp_path / "acc.yaml"
    p.write_text(text)
    return p


def test_bad_configs_are_refused_with_file_field_and_fix(tmp_path):
    recipe = load_recipe("sft", SFT, {"bf16": True})
    base = FSDP2.read_text()
    cases = [
        (base.replace("fsdp_reshard_after_forward", "fsdp_reshard_after_forwrd"),
         InputError, "field 'fsdp_reshard_after_forwrd'"),
        (base + "  fsdp_sharding_strategy: FULL_SHARD\n", InputError,
         "FSDP2 has no such setting"),
        (base.replace("num_machines: 1", "num_machines: 2"), InputError,
         "field 'main_process_ip'"),
        (base.replace("machine_rank: 0", "machine_rank: 3"), InputError,
         "field 'machine_rank'"),
        (MULTINODE.read_text().replace("num_processes: 16", "num_processes: 15"), InputError,
         "field 'num_processes': must be a multiple of num_machines"),
        (base.replace("fsdp_activation_checkpointing: false",
                      "fsdp_activation_checkpointing: true"), AssayError,
         "fsdp_activation_checkpointing: True and the recipe has gradient_checkpointing"),
        (ZERO3.read_text() + "  gradient_accumulation_steps: 8\n", AssayError,
         "gradient_accumulation_steps: 8 and the recipe has gradient_accumulation_steps: 4"),
    ]
    for text, kind, message in cases:
        r = recipe
        if "activation_checkpointing: true" in text:
            r = load_recipe("sft", SFT, {"bf16": True, "gradient_checkpointing": True})
        with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
            check_accelerate_config(_write(tmp_path, text), r)
        assert "Fix:" in str(e.value) and len(str(e.value).splitlines()) == 1
