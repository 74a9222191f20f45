"""scripts/gpu-check.sh: the GPU check's arithmetic, and the script itself run end to end with --tiny on CPU."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import cli_env
from twinflow_trainer.gpu_check import LLAMA_8B, flops_per_token, gpu_peak_tflops, non_embedding_params

ROOT = Path(__file__).resolve().parents[2]


def test_the_8b_shape_has_llama_3_1_8b_parameter_count() -> None:
    total = non_embedding_params(LLAMA_8B) + LLAMA_8B["vocab"] * LLAMA_8B["hidden"]
    assert total == pytest.approx(8.03e9, rel=0.005)  # Llama 3.1 8B: 8.03 B parameters
    assert flops_per_token(LLAMA_8B, 4096) == pytest.approx(6 * non_embedding_params(LLAMA_8B) + 12 * 32 * 4096 * 4096)


def test_peak_flops_from_the_table_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPU_PEAK_TFLOPS", raising=False)
    assert gpu_peak_tflops("NVIDIA H200") == 989.0 and gpu_peak_tflops("NVIDIA RTX A6000") == 154.8
    assert gpu_peak_tflops("Some Future GPU") is None
    monkeypatch.setenv("GPU_PEAK_TFLOPS", "100")
    assert gpu_peak_tflops(None) == 100.0


def test_gpu_check_tiny_runs_the_real_trainer_and_writes_the_report(tmp_path: Path) -> None:
    env = {**cli_env(), "GPU_PEAK_TFLOPS": "1", "PYTHON": os.environ.get("PYTHON", "") or __import__("sys").executable}
    proc = subprocess.run([str(ROOT / "scripts" / "gpu-check.sh"), "--tiny", "--steps", "2", "--out", str(tmp_path / "out"),
                           "--work", str(tmp_path / "work")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    assert report["tiny"] is True and report["seq"] == 256 and report["quantization"] == "none"
    [trl] = report["results"]
    assert trl["ok"] and trl["backend"] == "trl" and trl["steps"] == 2
    assert trl["tokens_per_second"] > 0 and len(trl["loss_by_step"]) == 2
    # MFU = tokens/s x FLOPs per token / peak (1 TFLOP/s here, from GPU_PEAK_TFLOPS).
    assert trl["mfu"] == pytest.approx(trl["tokens_per_second"] * report["flops_per_token"] / 1e12, rel=1e-3)
    assert trl["peak_memory_gib"] is None  # CPU: no GPU memory to report
