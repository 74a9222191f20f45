#!/usr/bin/env bash
# Sets up the trainer venv (idempotent) and runs the trainer's pytest suite on CPU. Extra args go to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup-python.sh"

# One thread per process: on small shared machines torch's intra-op thread pool spins and runs several times slower.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1

cd "$ROOT/trainer"
exec "$ROOT/.twinflow/venv/bin/python" -m pytest -p no:cacheprovider "$@"
