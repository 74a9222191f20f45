"""A short prepared GPU check: QLoRA on a Llama-3.1-8B-shaped model with random weights, built locally (no download).

    python -m twinflow_trainer.gpu_check --out DIR [--tiny] [--steps 6] [--seq 4096]

It builds the model (random bf16 weights, saved once into the work folder), a packed dataset of random-word
conversations, and runs the real trainer CLI (``python -m twinflow_trainer train``) for a few steps with each backend
that is installed: TRL always, Unsloth where it imports. From the trainer's own events it reports tokens/s (median
over the steps after the first), seconds per step, the peak GPU memory, and the MFU: model FLOPs per token
(6·N for the weights, N counted without the embeddings, plus 12·layers·hidden·seq for attention, PaLM's convention)
times tokens/s over the GPU's dense bf16 peak (a table of known GPUs, or GPU_PEAK_TFLOPS). With gradient
checkpointing the GPU really does about 8·N per token; the MFU counts the useful 6·N, as is customary.

``--tiny`` shrinks everything (a 2-layer model, 256-token rows, CPU allowed, no 4-bit) so the script and this module
can be checked on any machine; the JSON has the same shape. The result goes to ``DIR/gpu-check.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .runtime import module_available

# Dense bf16 tensor-core peaks (no sparsity), TFLOP/s, by a substring of torch.cuda.get_device_name().
PEAK_BF16_TFLOPS = {
    "H200": 989.0, "H100": 989.0, "A100": 312.0, "A6000": 154.8, "L40S": 362.1, "L40": 181.0, "A10G": 70.0,
    "L4": 121.0, "4090": 165.2, "3090": 71.0, "A40": 149.7, "B200": 2250.0,
}
LLAMA_8B = {"hidden": 4096, "layers": 32, "heads": 32, "kv_heads": 8, "intermediate": 14336, "vocab": 128256}
TINY = {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 128, "vocab": 512}


def non_embedding_params(s: dict[str, int]) -> int:
    h, i, layers = s["hidden"], s["intermediate"], s["layers"]
    kv = h // s["heads"] * s["kv_heads"]
    attn = h * h * 2 + h * kv * 2  # q, o; k, v
    mlp = 3 * h * i
    return layers * (attn + mlp + 2 * h) + h + h * s["vocab"]  # + norms, final norm, lm_head (not tied)


def flops_per_token(s: dict[str, int], seq: int) -> float:
    return 6.0 * non_embedding_params(s) + 12.0 * s["layers"] * s["hidden"] * seq


def gpu_peak_tflops(name: str | None) -> float | None:
    env = os.environ.get("GPU_PEAK_TFLOPS")
    if env:
        return float(env)
    if not name:
        return None
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def build_model(dir: Path, shape: dict[str, int], device: str) -> Path:
    """Random weights in the real architecture, written once (a 16 GB safetensors for the 8B shape)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    from .tiny import build_tokenizer

    if (dir / ".complete").is_file():
        return dir
    dir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(dir)
    cfg = LlamaConfig(
        vocab_size=shape["vocab"], hidden_size=shape["hidden"], intermediate_size=shape["intermediate"],
        num_hidden_layers=shape["layers"], num_attention_heads=shape["heads"], num_key_value_heads=shape["kv_heads"],
        max_position_embeddings=131072 if shape is LLAMA_8B else 2048, rope_theta=500000.0,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype)
    model.generation_config = GenerationConfig(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model.save_pretrained(str(dir))
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    (dir / ".complete").write_text("")
    return dir


def write_dataset(path: Path, rows: int, words_per_answer: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    vocab = "temporal durable workflow activity retry checkpoint adapter gradient token model answer question twin".split()
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(rows):
            answer = " ".join(rng.choice(vocab) for _ in range(words_per_answer))
            fh.write(json.dumps({"messages": [{"role": "user", "content": "Write about " + rng.choice(vocab)}, {"role": "assistant", "content": answer}]}) + "\n")
    return path


def run_backend(backend: str, model: Path, data: Path, work: Path, seq: int, steps: int, qlora: bool, device: str) -> dict[str, Any]:
    out = work / f"run-{backend}"
    cfg = {
        "base_model": str(model), "output_dir": str(out), "train_file": str(data), "max_seq_length": seq,
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"},
        "quantization": "4bit" if qlora else "none", "max_steps": steps, "learning_rate": 2e-4, "lr_scheduler": "constant",
        "warmup_ratio": 0.0, "per_device_batch_size": 1, "gradient_accumulation_steps": 1, "packing": True,
        "gradient_checkpointing": True, "logging_steps": 1, "save_steps": 100000, "save_total_limit": 1,
        "backend": backend, "device": device, "seed": 1,
    }
    config = work / f"train-{backend}.json"
    config.write_text(json.dumps(cfg))
    t0 = time.monotonic()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "twinflow_trainer", "train", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=900)
    wall = time.monotonic() - t0
    (work / f"trainer-{backend}.log").write_text(proc.stderr)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    progress = [e for e in events if e["event"] == "progress"]
    done = next((e for e in events if e["event"] == "done"), None)
    error = next((e for e in events if e["event"] == "error"), None)
    if proc.returncode != 0 or done is None:
        return {"backend": backend, "ok": False, "exit_code": proc.returncode, "error": (error or {}).get("message"), "log_tail": proc.stderr[-2000:], "wall_seconds": round(wall, 1)}
    steady = [p["tokens_per_second"] for p in progress[1:]] or [p["tokens_per_second"] for p in progress]
    m = done["metrics"]
    return {
        "backend": next((e["backend"] for e in events if e["event"] == "start"), backend),
        "ok": True,
        "steps": m["global_step"],
        "tokens_per_second": round(statistics.median(steady), 1),
        "tokens_per_second_by_step": [p["tokens_per_second"] for p in progress],
        "seconds_per_step": round(m["runtime_seconds"] / max(m["global_step"], 1), 3),
        "peak_memory_gib": round(m["peak_memory_bytes"] / 2**30, 2) if m.get("peak_memory_bytes") else None,
        "train_tokens": m["train_tokens"],
        "loss_by_step": [p["loss"] for p in progress],
        "wall_seconds": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="QLoRA throughput, memory and MFU check on a Llama-8B-shaped model")
    ap.add_argument("--out", required=True, help="folder for gpu-check.json")
    ap.add_argument("--work", default=None, help="scratch folder for the model and runs (default: /tmp/twinflow-gpu-check)")
    ap.add_argument("--tiny", action="store_true", help="a tiny shape that runs anywhere (checks the script, not the GPU)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--seq", type=int, default=None)
    a = ap.parse_args(argv)

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not a.tiny:
        print("gpu-check: no CUDA device; run with --tiny to check the script on CPU", file=sys.stderr)
        return 2
    device = "cuda" if cuda else "cpu"
    shape = TINY if a.tiny else LLAMA_8B
    seq = a.seq or (256 if a.tiny else 4096)
    steps = a.steps or (3 if a.tiny else 6)
    qlora = not a.tiny and module_available("bitsandbytes")
    work = Path(a.work or f"/tmp/twinflow-gpu-check{'-tiny' if a.tiny else ''}")
    work.mkdir(parents=True, exist_ok=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.monotonic()
    model = build_model(work / ("model-tiny" if a.tiny else "model-llama-8b-shape"), shape, device)
    build_seconds = time.monotonic() - t0
    # Rows of ~seq tokens once packed: the tiny BPE spends several tokens per word.
    data = write_dataset(work / "data.jsonl", rows=steps * 6, words_per_answer=max(seq // 12, 8))
    name = torch.cuda.get_device_name(0) if cuda else None
    peak = gpu_peak_tflops(name)
    fpt = flops_per_token(shape, seq)
    backends = ["trl"] + (["unsloth"] if cuda and module_available("unsloth") else [])
    results = []
    for b in backends:
        r = run_backend(b, model, data, work, seq, steps, qlora, device)
        if r["ok"] and peak:
            r["mfu"] = float(f"{r['tokens_per_second'] * fpt / (peak * 1e12):.4g}")  # 4 significant digits
        results.append(r)
    report = {
        "tiny": a.tiny,
        "device": name or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "shape": shape,
        "parameters_non_embedding": non_embedding_params(shape),
        "seq": seq,
        "quantization": "4bit" if qlora else "none",
        "flops_per_token": fpt,
        "peak_bf16_tflops": peak,
        "model_build_seconds": round(build_seconds, 1),
        "unsloth_installed": module_available("unsloth"),
        "bitsandbytes_installed": module_available("bitsandbytes"),
        "results": results,
    }
    (out / "gpu-check.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
