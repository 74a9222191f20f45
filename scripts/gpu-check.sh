#!/usr/bin/env bash
# The GPU check for a lent GPU machine (about 5-8 minutes on one H100/H200): QLoRA on a Llama-3.1-8B-shaped model with
# random weights built on the machine (no download: such machines reach nothing outside), 4K packed rows, a few steps,
# through the real trainer CLI, with TRL and, where it imports, Unsloth. It writes tokens/s, seconds per step, peak
# GPU memory and MFU to $OUT/gpu-check.json (or --out DIR). Nothing in CI needs a GPU: CI runs `--tiny`, which shrinks
# the model and rows so the same code runs on CPU in seconds.
#   scripts/gpu-check.sh                      # on the GPU machine
#   scripts/gpu-check.sh --tiny --out /tmp/x  # anywhere: checks the script itself
# PYTHON: the interpreter with torch/transformers/peft/trl (+ bitsandbytes for 4-bit): default the trainer venv,
# else python3. Extra arguments go to the check (--steps N, --seq N, --work DIR).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if [ -x "$ROOT/.twinflow/venv/bin/python" ]; then PYTHON="$ROOT/.twinflow/venv/bin/python"; else PYTHON=python3; fi
fi
args=("$@")
has_out=0
for a in "${args[@]}"; do [ "$a" = "--out" ] && has_out=1; done
if [ "$has_out" = 0 ]; then args+=(--out "${OUT:-$ROOT/.twinflow/gpu-check}"); fi
export PYTHONPATH="$ROOT/trainer/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
exec "$PYTHON" -m twinflow_trainer.gpu_check "${args[@]}"
