"""Exports a sentence-transformers BERT-style model's transformer (last_hidden_state) from its safetensors to ONNX fp32.

Used by scripts/fetch-models.sh: the wheels that ship all-MiniLM-L6-v2 carry its full-precision safetensors but only an
int8 ONNX, and int8 is not faster than fp32 on CPUs without VNNI (measured: docs/benchmarks.md). transformers.js runs
the exported file as onnx/model.onnx (inputs input_ids, attention_mask, token_type_ids; output last_hidden_state).

  python scripts/export_onnx.py <model folder with config.json + model.safetensors> <out.onnx>

The export is checked before it is kept: the ONNX output must match PyTorch's on a padded batch of sentences of
different lengths (max abs difference < 1e-4 over the real tokens), or the script exits non-zero and writes nothing.
"""

import os
import sys
import tempfile
import warnings

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer


class LastHiddenState(torch.nn.Module):
    """Keyword arguments in, one tensor out: what the exporter traces and what transformers.js reads."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


def main(src: str, out: str) -> None:
    # The default (sdpa) attention: traced with eager attention, the graph mishandled padding (checked below).
    model = LastHiddenState(AutoModel.from_pretrained(src).eval())
    tokenizer = AutoTokenizer.from_pretrained(src)
    names = ["input_ids", "attention_mask", "token_type_ids"]

    def inputs(texts):
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        return batch, tuple(batch[n] for n in names)

    # Traced on a batch without padding (the tracer would bake a padded sample's mask handling into the graph)...
    _, args = inputs(["A sentence to trace the model with."] * 2)
    # ...and checked on one with padding, where the mask matters.
    sample, check = inputs(["A short one.", "A longer sentence, so that the batch is padded and the attention mask matters for the output."])
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=os.path.dirname(os.path.abspath(out)))
    os.close(fd)
    # PyTorch's answer first: tracing leaves the module in a state that computes differently afterwards.
    with torch.no_grad():
        expected = model(*check).numpy()
    try:
        # The tracer's warnings are about code paths a fixed-architecture encoder does not take; the check below is
        # what says whether the export is right.
        warnings.filterwarnings("ignore")
        with torch.no_grad():
            torch.onnx.export(
                model,
                args,
                tmp,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        import onnxruntime  # noqa: PLC0415 (optional: checked only where it is installed)

        got = onnxruntime.InferenceSession(tmp).run(None, {n: a.numpy() for n, a in zip(names, check)})[0]
        # Padding positions carry no meaning (pooling masks them out): compare the real tokens only.
        mask = sample["attention_mask"].numpy().astype(bool)
        diff = float(np.abs(got[mask] - expected[mask]).max())
        if diff > 1e-4:
            raise SystemExit(f"export_onnx: the ONNX output differs from PyTorch's by {diff} (> 1e-4); not kept")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
        print(f"export_onnx: {out} (max abs difference to PyTorch {diff:.2e})")
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: export_onnx.py <model folder> <out.onnx>")
    main(sys.argv[1], sys.argv[2])
