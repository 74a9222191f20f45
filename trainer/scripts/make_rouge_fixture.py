#!/usr/bin/env python3
"""Write tests/fixtures/rouge/rougelsum-pairs.jsonl: ROUGE-Lsum parity cases for the TypeScript metrics code.

Each line: {"reference", "prediction", "use_stemmer", "rougeLsum": {"precision", "recall", "fmeasure"}}, scored
with Google's rouge-score package (RougeScorer(["rougeLsum"], use_stemmer=...)). rougeLsum splits both texts
on newlines into sentences and takes the union LCS over sentence pairs, so many cases are multi-sentence with
"\n" between sentences. Generation is seeded and deterministic: re-running rewrites the same file.

Run from the trainer venv:  .twinflow/venv/bin/python trainer/scripts/make_rouge_fixture.py [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rouge_score import rouge_scorer

SEED = 20261125
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "rouge" / "rougelsum-pairs.jsonl"

SUBJECTS = [
    "The pipeline", "Our crawler", "The vector store", "A Temporal worker", "The embedding model",
    "The fine-tuned twin", "The scheduler", "This LLM", "The evaluation step", "MinIO",
]
VERBS = [
    "loads", "loaded", "loading", "runs", "running", "ran", "indexes", "indexed", "indexing", "retries",
    "retried", "retrying", "generates", "generated", "generating", "writes", "wrote", "writing", "computes",
    "computed", "computing", "studies", "studied", "studying",
]
OBJECTS = [
    "the cleaned documents", "every chunk", "3 checkpoints", "42 embeddings", "the articles nightly",
    "2,048 tokens per second", "the final adapter", "a summary of the posts", "the reranked passages",
    "12.5% fewer errors", "the user's questions", "records from 2024-01-15",
]
TAILS = [
    "", " quickly", " without errors", " after the crawl", " in under 5 minutes", " on the GPU queue",
    " for the LinkedIn posts", " again and again", " (see below)", " - as expected",
]
UNICODE_SENTENCES = [
    "Café owners in Zürich love crème brûlée.",
    "Naïve résumé parsing fails on façades.",
    "Москва — столица России.",
    "東京は日本の首都です。",
    "The café’s “smart” quotes — and en–dashes…",
    "Emoji 🚀 launches at 10:30 🎉!",
    "Ελληνικά γράμματα: αβγ δέλτα.",
    "Straße und Fußgänger überqueren die Brücke.",
    "Español: ¿Dónde está la biblioteca? ¡Aquí!",
    "naïve CAFÉ Über ÇA",
]
PARAGRAPHS = [
    "Temporal workflows are durable. Activities run outside the workflow and can be retried. A worker polls a task queue.",
    "The feature pipeline crawls articles, cleans them, and chunks them into passages. Each chunk is embedded and loaded into the vector store.",
    "Fine-tuning uses LoRA adapters on a base model. QLoRA quantizes the frozen weights to 4 bits. The adapter is small and cheap to store.",
    "Retrieval expands the query into several variants. A cross-encoder reranks the candidates. The best passages become the context of the answer.",
    "Change data capture compares content hashes. Updated documents are re-chunked, removed ones are deleted, and unchanged embeddings are reused.",
    "The model was evaluated on 250 held-out prompts. ROUGE-L sum measured 0.41 while the baseline reached 0.37. Human raters preferred the twin in 61% of cases.",
    "Cats sleep most of the day. Dogs walk twice a day. Parrots talk when they are happy.",
    "Running runners ran the running race; the runner's runs were runnable. Generously generated generations generate generally.",
]


def sentence(rng: random.Random) -> str:
    s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}"
    return s + rng.choice([".", ".", ".", "!", "?", ";", ""])


def perturb(text: str, rng: random.Random, strength: float) -> str:
    """Word-level edits: drop, duplicate, swap neighbours, change case, replace with another word."""
    lines = text.split("\n")
    out_lines = []
    vocab = " ".join(SUBJECTS + VERBS + OBJECTS).split()
    for line in lines:
        words = line.split(" ")
        res: list[str] = []
        for w in words:
            x = rng.random()
            if x < strength * 0.3:
                continue
            if x < strength * 0.45:
                res.extend([w, w])
            elif x < strength * 0.6:
                res.append(rng.choice(vocab))
            elif x < strength * 0.75:
                res.append(w.upper() if rng.random() < 0.5 else w.lower())
            else:
                res.append(w)
        if len(res) > 2 and rng.random() < strength:
            k = rng.randrange(len(res) - 1)
            res[k], res[k + 1] = res[k + 1], res[k]
        out_lines.append(" ".join(res))
    return "\n".join(out_lines)


def multi(rng: random.Random, n: int) -> list[str]:
    return [sentence(rng) for _ in range(n)]


def split_paragraph(p: str) -> list[str]:
    parts = [s.strip() for s in p.replace(". ", ".\n").split("\n")]
    return [s for s in parts if s]


def make_pairs(rng: random.Random) -> list[tuple[str, str, str]]:
    """(category, reference, prediction) triples."""
    pairs: list[tuple[str, str, str]] = []

    # Fixed edge cases.
    fixed = [
        ("empty-prediction", "The cat sat on the mat.", ""),
        ("empty-reference", "", "The cat sat on the mat."),
        ("both-empty", "", ""),
        ("whitespace-only", "   \n  ", "The cat.\n"),
        ("punctuation-only", "!!! ??? ...", "... !!!"),
        ("identical-single", "The quick brown fox jumps over the lazy dog.", "The quick brown fox jumps over the lazy dog."),
        ("identical-multi", "First sentence here.\nSecond one follows.\nThird closes it.", "First sentence here.\nSecond one follows.\nThird closes it."),
        ("same-words-one-line-vs-lines", "a b c d e f", "a b c\nd e f"),
        ("reordered-sentences", "Alpha beta gamma.\nDelta epsilon zeta.", "Delta epsilon zeta.\nAlpha beta gamma."),
        ("case-only", "THE CAT SAT ON THE MAT", "the cat sat on the mat"),
        ("numbers", "In 2024 we trained 3 models for 1,500 steps at 2e-4.", "In 2023 we trained 3 models for 1500 steps at 0.0002."),
        ("hyphens-apostrophes", "state-of-the-art model's don't won't", "state of the art models dont wont"),
        ("stemming", "The runners were running and the runs ran.", "A runner runs; running is what runners do."),
        ("single-word-match", "hello", "hello"),
        ("single-word-miss", "hello", "world"),
        ("repeated-tokens", "the the the the cat", "the cat the cat the cat"),
        ("unicode-only", "東京は日本の首都です。", "東京は日本の首都です。"),
        ("unicode-accents", "Café crème brûlée à Zürich.", "Cafe creme brulee a Zurich."),
        ("blank-lines", "One.\n\n\nTwo.\n\nThree.", "One.\nTwo.\nThree."),
        ("trailing-newlines", "Line one.\nLine two.\n", "\nLine one.\nLine two."),
        ("crlf", "First line.\r\nSecond line.", "First line.\nSecond line."),
        ("tabs", "a\tb\tc\nd e f", "a b c\nd\te\tf"),
        ("long-vs-short", " ".join(["token"] * 200), "token"),
        ("urls-emails", "Visit https://example.com/docs or mail ops@example.com.", "Visit example.com docs or mail ops at example dot com."),
    ]
    pairs.extend(fixed)

    # Template sentences, single and multi-line, with perturbations of varied strength.
    for _ in range(70):
        n = rng.choice([1, 1, 2, 3, 4, 6])
        ref_s = multi(rng, n)
        reference = "\n".join(ref_s)
        strength = rng.choice([0.0, 0.1, 0.3, 0.6, 0.9])
        prediction = perturb(reference, rng, strength)
        if rng.random() < 0.3:  # prediction with a different number of sentences
            extra = multi(rng, rng.randint(1, 2))
            prediction = "\n".join(prediction.split("\n") + extra) if rng.random() < 0.5 else "\n".join(extra + prediction.split("\n")[1:])
        if rng.random() < 0.25:  # same content but on one line: sentence split changes the score
            prediction = prediction.replace("\n", " ")
        pairs.append(("template", reference, prediction))

    # Paragraph summaries split into sentences, with sentence drops and perturbations.
    for _ in range(50):
        para = rng.choice(PARAGRAPHS)
        sents = split_paragraph(para)
        reference = "\n".join(sents)
        keep = [s for s in sents if rng.random() < 0.7] or [sents[0]]
        if rng.random() < 0.3:
            rng.shuffle(keep)
        prediction = perturb("\n".join(keep), rng, rng.choice([0.0, 0.2, 0.5]))
        if rng.random() < 0.2:
            prediction = prediction.upper()
        pairs.append(("paragraph", reference, prediction))

    # Unrelated texts (low scores).
    for _ in range(20):
        a, b = rng.sample(PARAGRAPHS, 2)
        pairs.append(("unrelated", "\n".join(split_paragraph(a)), "\n".join(split_paragraph(b))))

    # Unicode mixed in.
    for _ in range(25):
        ref = [rng.choice(UNICODE_SENTENCES)] + multi(rng, rng.randint(0, 2))
        rng.shuffle(ref)
        pred = [s for s in ref if rng.random() < 0.7] + ([rng.choice(UNICODE_SENTENCES)] if rng.random() < 0.5 else [])
        pairs.append(("unicode", "\n".join(ref), perturb("\n".join(pred), rng, 0.2)))

    # Long texts (many lines).
    for _ in range(10):
        ref = multi(rng, rng.randint(10, 25))
        pred = perturb("\n".join(ref), rng, rng.choice([0.1, 0.4]))
        pairs.append(("long", "\n".join(ref), pred))

    # Short texts: a few words.
    for _ in range(20):
        words = " ".join(OBJECTS).split()
        ref = " ".join(rng.sample(words, rng.randint(1, 4)))
        pred = " ".join(rng.sample(words, rng.randint(0, 4)))
        pairs.append(("short", ref, pred))

    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    rng = random.Random(SEED)
    pairs = make_pairs(rng)
    scorers = {flag: rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=flag) for flag in (False, True)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (category, reference, prediction) in enumerate(pairs):
        # Each pair once with each setting for the edge cases; alternating for the rest keeps the file small.
        flags = (False, True) if category not in {"template", "paragraph", "unrelated", "short"} or i % 5 == 0 else (bool(i % 2),)
        for flag in flags:
            s = scorers[flag].score(reference, prediction)["rougeLsum"]  # score(target, prediction)
            lines.append(
                json.dumps(
                    {
                        "id": f"{i:03d}-{category}-{'stem' if flag else 'nostem'}",
                        "reference": reference,
                        "prediction": prediction,
                        "use_stemmer": flag,
                        "rougeLsum": {"precision": float(s.precision), "recall": float(s.recall), "fmeasure": float(s.fmeasure)},
                    },
                    ensure_ascii=False,
                )
            )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} cases to {args.out}")


if __name__ == "__main__":
    main()
