"""Build a tiny Llama-architecture model and BPE tokenizer from scratch (tests and benchmarks; no download).

    python -m twinflow_trainer.tiny OUT_DIR [--hidden 64 --layers 2]
    python -m twinflow_trainer.tiny OUT_DIR --recipe examples/reviews/tiny-model.json

The default is the tests' generic tiny model: a 512-token BPE learnt from eight unrelated sentences (most words are
several tokens) and a 64-wide, 2-layer Llama. It exercises every code path in seconds and learns little.

A recipe (JSON: corpus, vocab_size, hidden, layers, lm_head_std; the corpus path relative to the recipe) builds a
tiny model that can learn an example's task on CPU in a minute or two: its tokenizer learns the example's words from
the corpus file (one text per line), so a word is one token, and its output layer is drawn wide enough (lm_head_std)
for the logits to reach a confident prediction. Drawn at the usual 0.02, a random output layer caps every logit near
0.02 × width (±1.3 at 64 wide: the final norm fixes the hidden state's length), so the loss cannot fall much below
log(vocab) and LoRA, which leaves that layer frozen, learns at a crawl; a pretrained model's output layer has that
range, and this stands in for it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterable

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<pad>", "<s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]

DEFAULT_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Temporal workflows orchestrate durable activities on task queues.",
    "The capital of France is Paris. The capital of Italy is Rome. The capital of Spain is Madrid.",
    "Fine-tuning a language model with LoRA adapters trains a few million parameters.",
    "Retrieval augmented generation searches a vector store for relevant chunks.",
    "You are a helpful digital twin that writes like its author.",
    "What is the capital of Germany? The capital of Germany is Berlin.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 2024 3.14",
]


def build_tokenizer(out_dir: str | Path, corpus: Iterable[str] | None = None, vocab_size: int = 512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    texts = list(corpus) if corpus is not None else DEFAULT_CORPUS
    tok.train_from_iterator(texts * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="<|end|>",
        pad_token="<pad>",
        unk_token="<unk>",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(out_dir))
    return fast


def build_model(
    out_dir: str | Path,
    tokenizer,
    *,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate: int | None = None,
    max_positions: int = 2048,
    vocab_size: int | None = None,
    seed: int = 0,
    lm_head_std: float | None = None,
    save: bool = True,
):
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size or len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate or hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    if lm_head_std is not None:
        with torch.no_grad():
            model.lm_head.weight.normal_(0.0, lm_head_std)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if save:
        model.save_pretrained(str(out_dir))
    return model


def build_tiny(
    out_dir: str | Path,
    *,
    hidden: int = 64,
    layers: int = 2,
    corpus: Iterable[str] | None = None,
    vocab_size: int = 512,
    lm_head_std: float | None = None,
) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out, corpus, vocab_size)
    build_model(out, tok, hidden=hidden, layers=layers, lm_head_std=lm_head_std)
    return out


RECIPE_KEYS = {"corpus", "vocab_size", "hidden", "layers", "lm_head_std"}


def read_recipe(path: Path) -> dict:
    """A recipe file's build options; the corpus file's lines (relative to the recipe) become `corpus`."""
    recipe = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(recipe) - RECIPE_KEYS
    if unknown:
        raise SystemExit(f"{path}: unknown recipe keys {sorted(unknown)} (known: {sorted(RECIPE_KEYS)})")
    if "corpus" in recipe:
        corpus_file = path.parent / recipe["corpus"]
        recipe["corpus"] = [line for line in corpus_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return recipe


def main() -> None:
    ap = argparse.ArgumentParser(description="build a tiny Llama model + tokenizer")
    ap.add_argument("out_dir")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--recipe", type=Path, help="a JSON recipe (corpus, vocab_size, hidden, layers, lm_head_std); overrides the flags")
    a = ap.parse_args()
    options = {"hidden": a.hidden, "layers": a.layers, **(read_recipe(a.recipe) if a.recipe else {})}
    print(build_tiny(a.out_dir, **options))


if __name__ == "__main__":
    main()
