#!/usr/bin/env bash
# Installs ONNX Runtime's CUDA execution provider for the local embedder (`make gpu-embed`), for machines with an
# NVIDIA GPU. Idempotent.
#
# onnxruntime-node's own install script downloads the provider from NuGet, which many sites (and these build
# machines) cannot reach. The `onnxruntime-gpu` wheel on PyPI carries the same provider for the same ONNX Runtime
# version, and its `cuda`/`cudnn` extras pull the CUDA libraries it links. This script installs that wheel into
# .twinflow/ort-cuda (not into the trainer's venv: its torch brings CUDA libraries of its own version), copies the
# provider next to onnxruntime-node's runtime, and records the library folders in .twinflow/ort-cuda/library-path,
# which scripts/env.sh puts on LD_LIBRARY_PATH. About 1.5 GB.
#
# Then EMBEDDING_DEVICE=auto (the default) embeds on the GPU; `EMBEDDING_DEVICE=cuda` fails loudly if it cannot.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$ROOT/.twinflow/ort-cuda"
PYTHON="${TWINFLOW_PYTHON:-python3}"
log() { echo "[gpu-embed] $*" >&2; }

ORT_PKG="$ROOT/node_modules/onnxruntime-node"
[ -f "$ORT_PKG/package.json" ] || { log "error: node_modules/onnxruntime-node is missing; run make setup first"; exit 1; }
VERSION="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$ORT_PKG/package.json")"
BIN="$(dirname "$(ls "$ORT_PKG"/bin/napi-v*/linux/x64/onnxruntime_binding.node | head -1)")"
[ -d "$BIN" ] || { log "error: no linux/x64 runtime in $ORT_PKG/bin (the CUDA provider exists for linux x64 only)"; exit 1; }

STAMP="$TARGET/.installed-$VERSION"
if [ ! -f "$STAMP" ]; then
  log "installing onnxruntime-gpu==$VERSION with its CUDA and cuDNN libraries into $TARGET"
  rm -rf "$TARGET"
  mkdir -p "$TARGET"
  # cuBLAS is linked by the provider but not among the wheel's extras: take the one of the same CUDA major.
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$TARGET/py" \
    "onnxruntime-gpu[cuda,cudnn]==$VERSION"
  CUDA_MAJOR="$(ls "$TARGET"/py/nvidia/*/lib/libcudart.so.* 2>/dev/null | head -1 | sed -E 's/.*libcudart\.so\.([0-9]+).*/\1/')"
  [ -n "$CUDA_MAJOR" ] || { log "error: the CUDA runtime did not install (no libcudart.so in $TARGET/py/nvidia)"; exit 1; }
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$TARGET/py" --upgrade "nvidia-cublas~=$CUDA_MAJOR.0"
  touch "$STAMP"
fi

for lib in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  cp -f "$TARGET/py/onnxruntime/capi/$lib" "$BIN/$lib"
done
find "$TARGET/py/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd: > "$TARGET/library-path"
log "CUDA provider installed next to $BIN/libonnxruntime.so.1 (ONNX Runtime $VERSION)"
log "library path recorded in $TARGET/library-path; open a new shell or 'source scripts/env.sh'"
if [ ! -e /dev/nvidiactl ]; then
  log "note: this machine has no NVIDIA GPU (/dev/nvidiactl), so the embedder keeps using the CPU here"
fi
