"""What the Python baselines of the benchmarks (embed_baseline.py, ingest_llamaindex.py) read alike: the torch
thread count and batch size options, and a JSON Lines file of {"text": ...} rows. Kept free of torch at import, so
the options can be checked without the bench venv."""

import argparse
import json


def add_cpu_options(p: argparse.ArgumentParser, batch_size: int = 32) -> None:
    """--threads (torch's intra-op threads; 0 keeps torch's default) and --batch-size."""
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=batch_size)


def set_threads(threads: int) -> None:
    """Pins torch to `threads` threads (the same cores as the TypeScript side); 0 leaves torch's default."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def read_texts(path: str) -> list[str]:
    """The "text" of each non-blank line of a JSON Lines file, in order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]
