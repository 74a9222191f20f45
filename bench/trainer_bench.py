#!/usr/bin/env python3
"""Trainer benchmark: throughput and padding waste with and without packing; QLoRA tokens/s and MFU on a GPU.

Run from the trainer venv (scripts/setup-python.sh creates it):

    .twinflow/venv/bin/python bench/trainer_bench.py --out bench-results/trainer.json          # CPU, packing on/off
    .twinflow/venv/bin/python bench/trainer_bench.py --gpu-8b --out bench-results/qlora-8b.json  # needs a CUDA GPU

CPU mode builds a small Llama-shaped model (hidden 256, 4 layers by default) and a BPE tokenizer from scratch, makes
a dataset of chat examples of widely varying length, and trains one epoch over the *same* examples twice in the
same process through the real training path (``twinflow_trainer.train.run_train``): once padded per batch, once
packed. It reports real (non-padding) tokens per second and the padding waste (pad tokens / all tokens in the
batches the model saw).

``--gpu-8b`` builds a Llama-3.1-8B-shaped model with random weights (no download), saves it, and runs the real
trainer CLI on it with ``quantization: "4bit"`` (QLoRA) on full 4096-token packed rows, then reports tokens/s and
model FLOPs utilisation (MFU) against the GPU's dense bf16 peak.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = (
    "the a of to and in is that for it as with was on be by this are or from at an which have not has but were "
    "all their one can more its will about when so been would who what there only other also into some could "
    "workflow activity worker queue retry durable schedule signal query chunk embed vector store crawl clean "
    "dataset adapter model token train loss gradient batch epoch checkpoint evaluate publish retrieve rerank "
    "context answer prompt summary article post author style twin pipeline feature latency throughput memory"
).split()


# ------------------------------------------------------------------------------------------------ helpers


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def make_conversations(n: int, seed: int, *, min_words: int, max_words: int) -> list[dict[str, Any]]:
    """Chat examples whose answer lengths follow a log-uniform distribution (many short, some long)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        answer_words = int(math.exp(rng.uniform(math.log(min_words), math.log(max_words))))
        question = _sentence(rng, rng.randint(5, 25)).rstrip(".") + "?"
        answer = " ".join(_sentence(rng, 12) for _ in range(max(1, answer_words // 12)))
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": "You write like the author."},
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer},
                ]
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def corpus_for_tokenizer(rows: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for r in rows[:200] for m in r["messages"]] + [" ".join(WORDS)]


# ------------------------------------------------------------------------------------------------ CPU mode


def run_cpu(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from twinflow_trainer import train as train_mod
    from twinflow_trainer.config import TrainConfig
    from twinflow_trainer.data import ChatCollator
    from twinflow_trainer.tiny import build_model, build_tokenizer

    work = Path(tempfile.mkdtemp(prefix="twinflow-bench-"))
    rows = make_conversations(args.examples, args.seed, min_words=args.min_words, max_words=args.max_words)
    train_file = write_jsonl(work / "train.jsonl", rows)
    model_dir = work / "model"
    tok = build_tokenizer(model_dir, corpus_for_tokenizer(rows), vocab_size=2048)
    build_model(
        model_dir, tok, hidden=args.hidden, layers=args.layers, heads=args.heads, kv_heads=args.kv_heads,
        intermediate=args.intermediate, max_positions=max(2048, args.max_seq_length),
    )

    # Record what the trainer does without changing it: events and the collator's batch statistics.
    events: list[dict[str, Any]] = []
    collators: list[ChatCollator] = []

    class RecordingCollator(ChatCollator):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            collators.append(self)

    train_mod.ChatCollator = RecordingCollator  # type: ignore[misc]
    train_mod.emit = lambda event, **f: events.append({"event": event, "t": time.monotonic(), **f})  # type: ignore[assignment]

    lengths = []
    from twinflow_trainer.data import tokenize_conversation

    for r in rows:
        lengths.append(len(tokenize_conversation(tok, r["messages"], 10**9).input_ids))
    mean_len = statistics.mean(lengths)
    packed_bs = max(1, round(args.batch_size * mean_len / args.max_seq_length))

    def one(name: str, packing: bool, batch_size: int, max_steps: int = -1) -> dict[str, Any]:
        events.clear()
        collators.clear()
        cfg = TrainConfig(
            base_model=str(model_dir),
            output_dir=str(work / f"out-{name}"),
            train_file=str(train_file),
            max_seq_length=args.max_seq_length,
            lora={"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"},
            epochs=1,
            max_steps=max_steps,
            learning_rate=2e-4,
            per_device_batch_size=batch_size,
            gradient_accumulation_steps=1,
            packing=packing,
            gradient_checkpointing=False,
            logging_steps=1,
            save_steps=10**6,
            device="cpu",
            seed=args.seed,
        )
        t0 = time.monotonic()
        train_mod.run_train(cfg)
        wall = time.monotonic() - t0
        done = next(e for e in events if e["event"] == "done")
        prog = [e for e in events if e["event"] == "progress"]
        stats = collators[0].stats
        real, padded = stats["real_tokens"], stats["padded_tokens"]
        # Steady state: the throughput windows after the first step (which includes data-loader start-up).
        windows = [p["tokens_per_second"] for p in prog[1:]] or [p["tokens_per_second"] for p in prog]
        m = done["metrics"]
        return {
            "packing": packing,
            "per_device_batch_size": batch_size,
            "steps": m["global_step"],
            "train_tokens": m["train_tokens"],
            "train_runtime_s": round(m["runtime_seconds"], 3),
            "tokens_per_second": round(m["train_tokens"] / m["runtime_seconds"], 1),
            "tokens_per_second_steady_median": round(statistics.median(windows), 1),
            "padding_waste": round(1 - real / padded, 4) if padded else 0.0,
            "batch_tokens_real": real,
            "batch_tokens_total": padded,
            "final_loss": prog[-1]["loss"] if prog else None,
            "wall_s_including_load": round(wall, 2),
        }

    one("warmup", False, args.batch_size, max_steps=2)  # imports, allocator and kernel warm-up
    results = [one("padded", False, args.batch_size), one("packed", True, packed_bs)]
    return {
        "mode": "cpu",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "model": {
            "hidden": args.hidden, "layers": args.layers, "heads": args.heads, "kv_heads": args.kv_heads,
            "intermediate": args.intermediate, "vocab": len(tok), "lora_r": 16,
        },
        "data": {
            "examples": len(rows),
            "tokens": sum(lengths),
            "length_min": min(lengths),
            "length_mean": round(mean_len, 1),
            "length_max": max(lengths),
            "max_seq_length": args.max_seq_length,
        },
        "runs": results,
        "speedup_packed_vs_padded": round(results[1]["tokens_per_second"] / results[0]["tokens_per_second"], 3),
    }


def cpu_table(res: dict[str, Any]) -> str:
    d, m = res["data"], res["model"]
    lines = [
        f"Trainer on CPU ({res['machine']['cpus']} cores, torch threads {res['machine']['torch_threads']}), "
        f"Llama-shaped hidden {m['hidden']} x {m['layers']} layers, LoRA r={m['lora_r']}; {d['examples']} examples, "
        f"{d['tokens']} tokens, lengths {d['length_min']}-{d['length_max']} (mean {d['length_mean']}), "
        f"max_seq_length {d['max_seq_length']}, 1 epoch each.",
        "",
        "| run | batch | steps | tokens/s (end to end) | tokens/s (steady median) | padding waste | final loss |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res["runs"]:
        lines.append(
            f"| {'packed' if r['packing'] else 'padded'} | {r['per_device_batch_size']} | {r['steps']} | "
            f"{r['tokens_per_second']:.0f} | {r['tokens_per_second_steady_median']:.0f} | "
            f"{100 * r['padding_waste']:.1f}% | {r['final_loss']:.3f} |"
        )
    lines.append("")
    lines.append(f"Packed vs padded throughput: x{res['speedup_packed_vs_padded']:.2f}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ GPU 8B mode

# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity).
PEAK_BF16_TFLOPS = {
    "H200": 989.0,
    "H100 SXM": 989.0,
    "H100 NVL": 835.0,
    "H100 PCIe": 756.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "A6000": 154.8,
    "RTX 6000 Ada": 364.0,
    "L4": 121.0,
    "A10": 125.0,
}


def peak_tflops(name: str) -> float | None:
    for key in sorted(PEAK_BF16_TFLOPS, key=len, reverse=True):
        if all(part in name for part in key.split()):
            return PEAK_BF16_TFLOPS[key]
    return None


LLAMA31_8B = {
    "vocab_size": 128256,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
}
LLAMA31_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 500000.0,
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}


def matmul_params(c: dict[str, Any]) -> int:
    h, i, n = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    hd = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd
    per_layer = h * h + 2 * h * kv + h * h + 3 * h * i
    return n * per_layer + h * c["vocab_size"]  # + lm_head; the embedding lookup has no FLOPs


def build_random_8b(model_dir: Path, tokenizer: Any) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        **LLAMA31_8B,
        rope_parameters=dict(LLAMA31_ROPE),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):  # random init on the GPU: seconds instead of minutes
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    model.save_pretrained(str(model_dir), max_shard_size="5GB")
    del model
    if device == "cuda":
        torch.cuda.empty_cache()


def run_gpu_8b(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("--gpu-8b needs a CUDA GPU (none is available here)")
    from twinflow_trainer.tiny import build_tokenizer

    name = torch.cuda.get_device_name(0)
    peak = args.peak_tflops or peak_tflops(name)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="twinflow-bench-8b-"))
    work.mkdir(parents=True, exist_ok=True)
    model_dir = work / "llama-3.1-8b-random"
    rows = make_conversations(args.gpu_examples, args.seed, min_words=1500, max_words=3000)
    train_file = write_jsonl(work / "train.jsonl", rows)
    if not (model_dir / "config.json").is_file():
        t0 = time.monotonic()
        tok = build_tokenizer(model_dir, corpus_for_tokenizer(rows), vocab_size=4096)
        build_random_8b(model_dir, tok)
        print(f"built random 8B model in {time.monotonic() - t0:.0f}s at {model_dir}", file=sys.stderr)

    cfg = {
        "base_model": str(model_dir),
        "output_dir": str(work / "out"),
        "train_file": str(train_file),
        "max_seq_length": args.gpu_seq_length,
        "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"},
        "quantization": "4bit",
        "max_steps": args.gpu_steps,
        "learning_rate": 2e-4,
        "per_device_batch_size": args.gpu_batch_size,
        "gradient_accumulation_steps": args.gpu_grad_accum,
        "packing": True,
        "gradient_checkpointing": True,
        "logging_steps": 1,
        "save_steps": 10**6,
        "backend": args.backend,
        "device": "cuda",
    }
    cfg_path = work / "train.json"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "twinflow_trainer", "train", "--config", str(cfg_path)],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0:
        raise SystemExit(f"trainer failed ({proc.returncode}): {[e for e in events if e['event'] == 'error']}")
    prog = [e for e in events if e["event"] == "progress"]
    start = next(e for e in events if e["event"] == "start")
    steady = [p["tokens_per_second"] for p in prog[2:]] or [p["tokens_per_second"] for p in prog]
    tps = statistics.median(steady)
    n = matmul_params(LLAMA31_8B)
    layers, hidden, seq = LLAMA31_8B["num_hidden_layers"], LLAMA31_8B["hidden_size"], args.gpu_seq_length
    attn = 12 * layers * hidden * seq  # PaLM appendix B convention (QK^T and AV, forward + backward)
    model_flops_per_token = 6 * n + attn  # "model FLOPs": what full training of these weights costs
    # QLoRA does no weight-gradient matmuls for the frozen weights: forward 2N + activation gradients 2N.
    lora_flops_per_token = 4 * n + attn
    out = {
        "mode": "gpu-8b",
        "gpu": name,
        "peak_bf16_tflops": peak,
        "backend": start["backend"],
        "model": {"shape": "Llama-3.1-8B", "matmul_params": n, **LLAMA31_8B},
        "run": {
            "seq_length": seq, "batch_size": args.gpu_batch_size, "grad_accum": args.gpu_grad_accum,
            "steps": len(prog), "gradient_checkpointing": True, "quantization": "nf4 double-quant, bf16 compute",
        },
        "tokens_per_second": round(tps, 1),
        "tokens_per_second_windows": steady,
        "model_tflops": round(tps * model_flops_per_token / 1e12, 2),
        "mfu": round(tps * model_flops_per_token / (peak * 1e12), 4) if peak else None,
        "mfu_lora_flops": round(tps * lora_flops_per_token / (peak * 1e12), 4) if peak else None,
        "peak_memory_note": "see trainer stderr",
    }
    return out


def gpu_table(res: dict[str, Any]) -> str:
    mfu = f"{100 * res['mfu']:.1f}%" if res["mfu"] is not None else "n/a (unknown peak; pass --peak-tflops)"
    mfu_l = f"{100 * res['mfu_lora_flops']:.1f}%" if res["mfu_lora_flops"] is not None else "n/a"
    r = res["run"]
    return "\n".join(
        [
            f"QLoRA step, Llama-3.1-8B shape (random weights), {res['gpu']}, backend {res['backend']}",
            "",
            "| seq | batch x accum | tokens/s | model TFLOP/s | MFU (6N) | MFU (QLoRA 4N) |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {r['seq_length']} | {r['batch_size']} x {r['grad_accum']} | {res['tokens_per_second']:.0f} | "
            f"{res['model_tflops']:.1f} | {mfu} | {mfu_l} |",
        ]
    )


# ------------------------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="write the results as JSON here")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--examples", type=int, default=192)
    ap.add_argument("--min-words", type=int, default=8)
    ap.add_argument("--max-words", type=int, default=300)
    ap.add_argument("--max-seq-length", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=8, help="rows per batch without packing")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=688)
    ap.add_argument("--gpu-8b", action="store_true", help="QLoRA step on a Llama-3.1-8B-shaped random model (GPU)")
    ap.add_argument("--gpu-seq-length", type=int, default=4096)
    ap.add_argument("--gpu-batch-size", type=int, default=1)
    ap.add_argument("--gpu-grad-accum", type=int, default=4)
    ap.add_argument("--gpu-steps", type=int, default=8)
    ap.add_argument("--gpu-examples", type=int, default=96)
    ap.add_argument("--backend", choices=["trl", "unsloth", "auto"], default="trl")
    ap.add_argument("--peak-tflops", type=float, default=None, help="override the GPU's dense bf16 peak")
    ap.add_argument("--workdir", type=str, default=None, help="GPU mode: keep/reuse the random model here")
    args = ap.parse_args()

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Libraries print their own logs on stdout; keep stdout for the table.
    with contextlib.redirect_stdout(sys.stderr):
        if args.gpu_8b:
            res = run_gpu_8b(args)
            table = gpu_table(res)
        else:
            res = run_cpu(args)
            table = cpu_table(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2), encoding="utf-8")
    sys.stdout.write(table + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
