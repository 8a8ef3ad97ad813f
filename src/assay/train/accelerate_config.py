"""An accelerate config file checked against the recipe, offline, before anything is launched.

A config that contradicts its recipe fails minutes into a multi-GPU job, or worse trains in
another precision than the record says. So before relaunching, and in the tests for the shipped
``examples/accelerate/*.yaml``: its keys are ones accelerate reads (a misspelt key is silently
ignored by accelerate), FSDP2 carries no FSDP1-only key, the machine counts add up, and the
settings both files hold agree (precision, activation checkpointing, gradient accumulation,
4-bit loading under sharding). Each contradiction names both settings and where to fix them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AssayError, InputError

TYPES = ("NO", "MULTI_CPU", "MULTI_GPU", "FSDP", "DEEPSPEED")
TOP_KEYS = {"compute_environment", "distributed_type", "mixed_precision", "num_machines",
            "num_processes", "machine_rank", "main_process_ip", "main_process_port",
            "main_training_function", "rdzv_backend", "same_network", "use_cpu", "gpu_ids",
            "downcast_bf16", "debug", "enable_cpu_affinity", "dynamo_config", "tpu_env",
            "tpu_use_cluster", "tpu_use_sudo", "fsdp_config", "deepspeed_config",
            "megatron_lm_config"}
FSDP_KEYS = {"fsdp_version", "fsdp_auto_wrap_policy", "fsdp_transformer_layer_cls_to_wrap",
             "fsdp_min_num_params", "fsdp_cpu_ram_efficient_loading", "fsdp_offload_params",
             "fsdp_reshard_after_forward", "fsdp_state_dict_type",
             "fsdp_activation_checkpointing", "fsdp_sharding_strategy",
             "fsdp_backward_prefetch", "fsdp_forward_prefetch", "fsdp_use_orig_params",
             "fsdp_sync_module_states"}
# FSDP1 settings that FSDP2 replaced (reshard_after_forward) or dropped
FSDP1_ONLY = {"fsdp_sharding_strategy", "fsdp_backward_prefetch", "fsdp_forward_prefetch",
              "fsdp_use_orig_params", "fsdp_sync_module_states"}
DEEPSPEED_KEYS = {"zero_stage", "zero3_init_flag", "zero3_save_16bit_model",
                  "offload_optimizer_device", "offload_param_device",
                  "offload_optimizer_nvme_path", "offload_param_nvme_path",
                  "gradient_accumulation_steps", "gradient_clipping", "deepspeed_config_file",
                  "deepspeed_hostfile", "deepspeed_multinode_launcher",
                  "deepspeed_inclusion_filter", "deepspeed_exclusion_filter",
                  "deepspeed_moe_layer_cls_names"}


def _conflict(path: Path, key: str, value: Any, setting: str, theirs: Any, fix: str
              ) -> AssayError:
    return AssayError(f"conflicting settings: {path} has {key}: {value} and the recipe has "
                      f"{setting}: {theirs}. Fix: {fix}")


def read_config(path: str | Path) -> dict[str, Any]:
    from ..config import read_yaml

    return read_yaml(path)


def _unknown(path: Path, data: dict, known: set[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise InputError(f"accelerate does not read this key{where} (a misspelt key is "
                             "ignored, not refused, by accelerate)", file=str(path), field=key,
                             fix=f"use one of {sorted(known)}")


def _check_counts(path: Path, c: dict) -> None:
    for key in ("num_processes", "num_machines"):
        value = c.get(key, 1)
        if not isinstance(value, int) or value < 1:
            raise InputError("must be a whole number of at least 1", file=str(path),
                             field=key, value=value, fix=f"set {key}: 1 or more")
    rank, machines = c.get("machine_rank", 0), c.get("num_machines", 1)
    if not isinstance(rank, int) or not 0 <= rank < machines:
        raise InputError(f"must be in 0..{machines - 1} (num_machines is {machines})",
                         file=str(path), field="machine_rank", value=rank,
                         fix="give each machine its own rank, 0 on the main one")
    if c.get("num_processes", 1) % machines:
        raise InputError(f"must be a multiple of num_machines ({machines}): it counts the "
                         "processes of all the machines together", file=str(path),
                         field="num_processes", value=c.get("num_processes"),
                         fix=f"set num_processes to {machines} x the GPUs of one machine")
    if machines > 1 and not c.get("main_process_ip"):
        raise InputError("several machines need the main machine's address", file=str(path),
                         field="main_process_ip", fix="set main_process_ip (and "
                         "main_process_port) to machine_rank 0's address")


def _check_precision(path: Path, c: dict, recipe) -> None:
    theirs = "bf16" if recipe.bf16 else "fp16" if recipe.fp16 else "no"
    mine = c.get("mixed_precision", "no")
    if mine != theirs:
        recipe_fix = (f"--set {mine}=true (or {mine}: true in the recipe)"
                      if mine in ("bf16", "fp16") else f"--set {theirs}=false")
        raise AssayError(f"conflicting settings: {path} has mixed_precision: {mine} and the "
                         f"recipe trains in {theirs} (bf16: {recipe.bf16}, fp16: "
                         f"{recipe.fp16}). Fix: make them agree: {recipe_fix}, or "
                         f"mixed_precision: {theirs} in {path}")


def _check_fsdp(path: Path, fsdp: dict, recipe) -> None:
    _unknown(path, fsdp, FSDP_KEYS, " under fsdp_config")
    version = fsdp.get("fsdp_version", 1)
    if version not in (1, 2):
        raise InputError("must be 1 or 2", file=str(path), field="fsdp_version", value=version,
                         fix="set fsdp_version: 2 (FSDP2)")
    old = sorted(FSDP1_ONLY & set(fsdp)) if version == 2 else []
    if old:
        raise InputError("FSDP2 has no such setting (reshard_after_forward replaces the "
                         "sharding strategy)", file=str(path), field=old[0],
                         fix="remove it, or set fsdp_version: 1")
    if fsdp.get("fsdp_activation_checkpointing") and recipe.gradient_checkpointing:
        raise _conflict(path, "fsdp_activation_checkpointing", True, "gradient_checkpointing",
                        True, "checkpoint activations once: keep one of the two")
    if recipe.load_in_4bit:
        raise _conflict(path, "distributed_type", "FSDP", "load_in_4bit", True,
                        "train LoRA in 16-bit under FSDP (QLoRA under FSDP needs a 4-bit "
                        "storage type assay does not set), or drop the accelerate config")


def _check_deepspeed(path: Path, ds: dict, recipe) -> None:
    _unknown(path, ds, DEEPSPEED_KEYS, " under deepspeed_config")
    stage = ds.get("zero_stage")
    if stage not in (0, 1, 2, 3):
        raise InputError("must be 0, 1, 2 or 3", file=str(path), field="zero_stage",
                         value=stage, fix="set zero_stage: 3 for ZeRO-3")
    steps = ds.get("gradient_accumulation_steps")
    if steps is not None and steps != recipe.gradient_accumulation_steps:
        raise _conflict(path, "gradient_accumulation_steps", steps,
                        "gradient_accumulation_steps", recipe.gradient_accumulation_steps,
                        "remove it from deepspeed_config (the recipe's value is passed on)")
    if stage == 3 and recipe.load_in_4bit:
        raise _conflict(path, "zero_stage", 3, "load_in_4bit", True,
                        "train LoRA in 16-bit under ZeRO-3, or drop the accelerate config")


def check_accelerate_config(path: str | Path, recipe) -> dict[str, Any]:
    """The config's settings, or the first error (InputError for a bad key or value, an
    AssayError naming both settings for a contradiction with the recipe)."""
    p = Path(path)
    c = read_config(p)
    _unknown(p, c, TOP_KEYS, "")
    kind = c.get("distributed_type", "NO")
    if kind not in TYPES:
        raise InputError(f"must be one of {list(TYPES)}", file=str(p), field="distributed_type",
                         value=kind, fix="e.g. distributed_type: FSDP")
    _check_counts(p, c)
    _check_precision(p, c, recipe)
    if kind == "FSDP":
        _check_fsdp(p, c.get("fsdp_config") or {}, recipe)
    if kind == "DEEPSPEED":
        _check_deepspeed(p, c.get("deepspeed_config") or {}, recipe)
    return c
