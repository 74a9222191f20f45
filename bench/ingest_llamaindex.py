"""The ingest benchmark's peer: LlamaIndex's IngestionPipeline over the same cleaned documents, with the same model.

  python bench/ingest_llamaindex.py --docs docs.jsonl --model <sentence-transformers folder> --out nodes.jsonl \
      [--chunk-tokens 128] [--overlap-tokens 24] [--threads N] [--batch-size 32]

Reads one {"text": ...} per line (the cleaned Markdown twinflow's run produced), splits it with SentenceSplitter sized
in the model's own tokens (as twinflow's chunker is), embeds with HuggingFaceEmbedding (sentence-transformers) and
writes the nodes to an embedded LanceDB table, in one timed IngestionPipeline.run. Writes the node texts (for the
caller to count tokens the same way for both sides) and prints one JSON line: {"seconds", "nodes"}.
"""

import argparse
import json
import tempfile
import time

import torch
from bench_cli import add_cpu_options, read_texts, set_threads
from llama_index.core import Document
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from llama_index.vector_stores.lancedb import LanceDBVectorStore
from transformers import AutoTokenizer


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--docs", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--chunk-tokens", type=int, default=128)
    p.add_argument("--overlap-tokens", type=int, default=24)
    add_cpu_options(p)
    a = p.parse_args()
    set_threads(a.threads)
    docs = [Document(text=t) for t in read_texts(a.docs)]
    hf = AutoTokenizer.from_pretrained(a.model)
    embed = HuggingFaceEmbedding(model_name=a.model, device="cpu", embed_batch_size=a.batch_size)
    embed.get_text_embedding_batch(["warm up"] * 4)
    with tempfile.TemporaryDirectory() as lance:
        store = LanceDBVectorStore(uri=lance, table_name="bench")
        pipeline = IngestionPipeline(
            transformations=[SentenceSplitter(chunk_size=a.chunk_tokens, chunk_overlap=a.overlap_tokens, tokenizer=hf.tokenize), embed],
            vector_store=store,
        )
        start = time.perf_counter()
        nodes = pipeline.run(documents=docs)
        seconds = time.perf_counter() - start
    with open(a.out, "w", encoding="utf-8") as f:
        for n in nodes:
            f.write(json.dumps({"text": n.get_content()}) + "\n")
    print(json.dumps({"seconds": seconds, "nodes": len(nodes), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
