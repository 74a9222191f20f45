#!/usr/bin/env bash
# Installs one of the trainer's optional GPU backends from its lock file (trainer/requirements/<extra>.lock.txt):
#   trainer/scripts/setup-extra.sh qlora     # bitsandbytes, into the base venv (.twinflow/venv): its pins agree
#   trainer/scripts/setup-extra.sh unsloth   # a venv of its own, .twinflow/venv-unsloth (unsloth pins trl <= 1.15)
#   trainer/scripts/setup-extra.sh vllm      # a venv of its own, .twinflow/venv-vllm (vllm pins torch 2.14.0)
# The trainer goes into the separate venvs with --no-deps: the lock holds every package it needs there. Point the
# GPU worker at them with TWINFLOW_TRAINER_PYTHON (unsloth) or TWINFLOW_GENERATE_PYTHON (vllm); `vllm serve` runs
# from .twinflow/venv-vllm/bin (docs/training.md). Needs the base venv first (make python), which has uv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EXTRA="${1:-}"
BASE="$ROOT/.twinflow/venv"
UV="$BASE/bin/uv"
LOCK="$ROOT/trainer/requirements/$EXTRA.lock.txt"
case "$EXTRA" in
  qlora) TARGET="$BASE" ;;
  unsloth | vllm) TARGET="$ROOT/.twinflow/venv-$EXTRA" ;;
  *) echo "usage: $0 qlora|unsloth|vllm" >&2; exit 2 ;;
esac
[ -x "$UV" ] || { echo "error: $UV is missing: run make python first (the base venv has uv)" >&2; exit 1; }
if [ "$TARGET" != "$BASE" ] && [ ! -x "$TARGET/bin/python" ]; then
  "$UV" venv --python "$BASE/bin/python" "$TARGET"
fi
# install, not sync: the base venv keeps what else it has (the test and example-service packages).
"$UV" pip install --python "$TARGET/bin/python" -r "$LOCK"
if [ "$TARGET" != "$BASE" ]; then
  "$UV" pip install --python "$TARGET/bin/python" --no-deps -e "$ROOT/trainer"
fi
echo "$EXTRA: installed into $TARGET"
