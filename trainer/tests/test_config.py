"""Config validation: unknown keys, missing fields and bad types exit 2 with a message naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import base_train_config, run_cli, write_json
from twinflow_trainer.config import ConfigError, GenerateConfig, TrainConfig, parse_config

MINIMAL_TRAIN = {"base_model": "m", "output_dir": "o", "train_file": "t.jsonl"}
MINIMAL_GENERATE = {"base_model": "m", "input_file": "i.jsonl", "output_file": "o.jsonl"}


def test_defaults_match_the_contract() -> None:
    cfg = parse_config("train", MINIMAL_TRAIN)
    assert isinstance(cfg, TrainConfig)
    assert cfg.max_seq_length == 4096
    assert (cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout, cfg.lora.target_modules) == (16, 32, 0.05, "all-linear")
    assert cfg.quantization == "none" and cfg.epochs == 1 and cfg.max_steps == -1
    assert cfg.learning_rate == 2e-4 and cfg.lr_scheduler == "cosine" and cfg.warmup_ratio == 0.03
    assert cfg.per_device_batch_size == 1 and cfg.gradient_accumulation_steps == 8
    assert cfg.packing is False and cfg.assistant_only_loss is True and cfg.gradient_checkpointing is True
    assert cfg.bf16 == "auto" and cfg.seed == 42 and cfg.save_steps == 100 and cfg.logging_steps == 10
    assert cfg.save_total_limit == 2 and cfg.resume_from_checkpoint is None
    assert cfg.backend == "auto" and cfg.merge is False and cfg.device == "auto" and cfg.chat_template is None
    g = parse_config("generate", MINIMAL_GENERATE)
    assert isinstance(g, GenerateConfig)
    assert (g.max_new_tokens, g.temperature, g.batch_size, g.backend, g.device, g.adapter_dir) == (
        512, 0.0, 8, "auto", "auto", None,
    )


@pytest.mark.parametrize(
    ("kind", "data", "needle"),
    [
        ("train", {**MINIMAL_TRAIN, "learning_rat": 1e-4}, "learning_rat: unknown key"),
        ("train", {**MINIMAL_TRAIN, "lora": {"rank": 8}}, "lora.rank: unknown key"),
        ("train", {"output_dir": "o", "train_file": "t"}, "base_model: required field is missing"),
        ("train", {**MINIMAL_TRAIN, "epochs": "three"}, "epochs:"),
        ("train", {**MINIMAL_TRAIN, "lora": {"r": "16"}}, "lora.r:"),
        ("train", {**MINIMAL_TRAIN, "lora": {"target_modules": []}}, "lora.target_modules:"),
        ("train", {**MINIMAL_TRAIN, "quantization": "8bit"}, "quantization:"),
        ("train", {**MINIMAL_TRAIN, "bf16": "yes"}, "bf16:"),
        ("train", {**MINIMAL_TRAIN, "max_steps": 0}, "max_steps:"),
        ("train", {**MINIMAL_TRAIN, "packing": 1}, "packing:"),
        ("generate", {**MINIMAL_GENERATE, "temperature": -1}, "temperature:"),
        ("generate", {**MINIMAL_GENERATE, "top_k": 5}, "top_k: unknown key"),
        ("generate", {"base_model": "m", "input_file": "i"}, "output_file: required field is missing"),
    ],
)
def test_errors_name_the_field(kind: str, data: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(kind, data)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**MINIMAL_TRAIN, "unknown_knob": True}, "unknown_knob"),
        ({"output_dir": "o", "train_file": "t"}, "base_model"),
        ({**MINIMAL_TRAIN, "per_device_batch_size": "4"}, "per_device_batch_size"),
    ],
)
def test_validate_config_cli_exit_2(tmp_path: Path, data: dict, field: str) -> None:
    res = run_cli("validate-config", "--kind", "train", "--config", str(write_json(tmp_path / "c.json", data)))
    assert res.returncode == 2
    err = res.one("error")
    assert err["type"] == "config" and field in err["message"]
    assert field in res.stderr


def test_validate_config_cli_ok(tmp_path: Path) -> None:
    res = run_cli("validate-config", "--kind", "generate", "--config", str(write_json(tmp_path / "g.json", MINIMAL_GENERATE)))
    assert res.returncode == 0, res.stderr
    assert res.events == []


def test_train_with_bad_config_exits_2(tmp_path: Path) -> None:
    res = run_cli("train", "--config", str(write_json(tmp_path / "c.json", {**MINIMAL_TRAIN, "lora": {"r": "x"}})))
    assert res.returncode == 2
    err = res.one("error")
    assert err["type"] == "config" and "lora.r" in err["message"]


def test_config_not_json_exits_2(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text("{not json")
    res = run_cli("generate", "--config", str(p))
    assert res.returncode == 2 and res.one("error")["type"] == "config"


def test_4bit_without_cuda_is_a_clear_config_error(tmp_path: Path, tiny_model: Path, train_file: Path) -> None:
    cfg = base_train_config(tiny_model, train_file, tmp_path / "out", quantization="4bit", device="cpu")
    res = run_cli("train", "--config", str(write_json(tmp_path / "q.json", cfg)))
    assert res.returncode == 2, res.stderr[-2000:]
    err = res.one("error")
    assert err["type"] == "config" and "quantization" in err["message"] and "CUDA" in err["message"]


def test_4bit_on_auto_device_without_cuda(tmp_path: Path, tiny_model: Path, train_file: Path) -> None:
    import torch

    from twinflow_trainer.train import preflight

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cfg = parse_config("train", base_train_config(tiny_model, train_file, tmp_path / "o", quantization="4bit", device="auto"))
    with pytest.raises(ConfigError, match="quantization: '4bit'.*CUDA"):
        preflight(cfg)
