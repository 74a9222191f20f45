"""The embed benchmark's baseline: bare sentence-transformers (PyTorch fp32) on the same chunk texts, same cores.

  python bench/embed_baseline.py --model <sentence-transformers folder> --texts chunks.jsonl --out vectors.f32 \
      [--threads N] [--batch-size 32]

Reads one {"text": ...} per line, encodes them all (one warm-up batch first, not timed), writes the vectors as raw
little-endian float32 in input order, and prints one JSON line: {"seconds", "chunks", "threads", "torch"}.
Run by bench/embed-bench.ts, which counts tokens the same way for both sides.
"""

import argparse
import json
import time

import numpy as np
import torch
from bench_cli import add_cpu_options, read_texts, set_threads
from sentence_transformers import SentenceTransformer


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--out", required=True)
    add_cpu_options(p)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()
    set_threads(a.threads)
    texts = read_texts(a.texts)
    model = SentenceTransformer(a.model, device=a.device)
    model.encode(texts[: a.batch_size], batch_size=a.batch_size)
    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=a.batch_size, normalize_embeddings=True, convert_to_numpy=True)
    seconds = time.perf_counter() - start
    np.asarray(vectors, dtype="<f4").tofile(a.out)
    gpu = torch.cuda.get_device_name(0) if a.device == "cuda" else None
    print(json.dumps({"seconds": seconds, "chunks": len(texts), "threads": torch.get_num_threads(), "torch": torch.__version__, "maxSeqLength": model.max_seq_length, "gpu": gpu}))


if __name__ == "__main__":
    main()
