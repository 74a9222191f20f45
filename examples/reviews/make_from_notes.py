#!/usr/bin/env python3
"""Writes from-notes.jsonl: 240 fictional companies, each with an employee's short notes (the prompt), the review those
notes become (the response) and four ratings (1-5) that the notes state. Deterministic (fixed seeds).

This is the tiny CPU example's dataset (train-tiny-cpu.json). companies.jsonl, the reference run's dataset, asks for
a review from a company's name, city and size alone, which carry nothing about its ratings: no model can beat the
train mean there, so a gate that fails a model that learned nothing can never be passed. Here the prompt carries
the signal (one note word per aspect and level), so a model that learned the task beats both no-LLM floors, and one
that did not fails them: the example's gate can fail and can pass.

The review wording comes from make_companies.py's phrasings (a rating level's phrasings with a company detail), with
the same guarantees: no sentence of one review appears in another, and no two companies share a run of 13 words
(prompt and review together, normalised as twinflow's decontamination does), so whatever the split no test sentence
is verbatim in train. A company whose notes leave no new wording is redrawn.

Also writes tokenizer-corpus.txt: the example's vocabulary (every phrasing, note word, detail and the ratings line's
shape), from which tests and the demo build the example's tiny model and its tokenizer
(`python -m twinflow_trainer.tiny OUT --corpus examples/reviews/tokenizer-corpus.txt`). It holds no record: the
tokenizer learns the domain's words, as a real base model's would, not the test examples.

    python3 examples/reviews/make_from_notes.py
"""
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_companies as mc  # noqa: E402  (the phrasings, openers and the uniqueness check)

COUNT = 600
rng = random.Random(2026)
mc.words_rng.seed(13)

# One note word per aspect and level: what the employee wrote down, and what the review and ratings say.
NOTES = {
    "culture": {5: "warm", 4: "friendly", 3: "mixed", 2: "distant", 1: "toxic"},
    "pay": {5: "generous", 4: "fair", 3: "average", 2: "lagging", 1: "poor"},
    "hours": {5: "flexible", 4: "reasonable", 3: "uneven", 2: "heavy", 1: "brutal"},
    "verdict": {5: "stay", 4: "recommend", 3: "acceptable", 2: "doubtful", 1: "avoid"},
}


def notes_of(culture: int, pay: int, balance: int, overall: int) -> str:
    return f"culture {NOTES['culture'][culture]}, pay {NOTES['pay'][pay]}, hours {NOTES['hours'][balance]}, verdict {NOTES['verdict'][overall]}"


def company(i: int) -> dict:
    cid = f"n{i + 1:03d}"
    name = f"{mc.PREFIX[i % len(mc.PREFIX)]} {mc.SUFFIX[(i * 3) % len(mc.SUFFIX)]} {i + 1}"
    for _ in range(50):
        # Aspects drawn independently (each level equally likely), so the notes are the only way to the ratings.
        culture, pay, balance = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
        overall = max(1, min(5, round((culture + pay + balance) / 3)))
        industry, city = rng.choice(mc.INDUSTRY), rng.choice(mc.CITY)
        notes = notes_of(culture, pay, balance, overall)
        prompt = f"Review {name}, a {industry} company in {city}. My notes: {notes}."
        try:
            review = mc.review_for(cid, prompt, culture, pay, balance, overall, {"city": city, "industry": industry})
        except SystemExit:
            continue
        return {
            "id": cid,
            "name": name,
            "industry": industry,
            "city": city,
            "notes": notes,
            "review": review,
            "overall": overall,
            "culture": culture,
            "compensation": pay,
            "work_life_balance": balance,
        }
    raise SystemExit(f"{cid}: no company with new wording in 50 draws")


def tokenizer_corpus() -> list[str]:
    lines: list[str] = []
    details = {"team": " ".join(mc.TEAM), "city": " ".join(mc.CITY), "industry": " ".join(mc.INDUSTRY), "years": "2 3 4 5 6 7 8 9"}
    for pools in (mc.CULTURE, mc.PAY, mc.BALANCE, mc.CLOSING):
        for phrasings in pools.values():
            lines += [p.format(**details) for p in phrasings]
    lines += [o.format(s="", S="", **details) for o in mc.OPENERS]
    lines += [" ".join(mc.PREFIX), " ".join(mc.SUFFIX), " ".join(mc.TEAM), " ".join(mc.CITY), ", ".join(mc.INDUSTRY)]
    lines += [f"{aspect} {word}" for aspect, words in NOTES.items() for word in words.values()]
    lines += ["Review Blue Harbor 12, a software company in Lyon. My notes: culture warm, pay fair, hours heavy, verdict stay."]
    lines += ["You review companies as an employee would. Write a short review, then rate the company."]
    lines += ['Ratings: {"overall":4,"culture":5,"compensation":3,"balance":2}', "0 1 2 3 4 5 6 7 8 9 10 100 240"]
    return lines


def main() -> None:
    rows = [company(i) for i in range(COUNT)]
    (HERE / "from-notes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (HERE / "tokenizer-corpus.txt").write_text("\n".join(tokenizer_corpus()) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} companies and the tokenizer corpus")


if __name__ == "__main__":
    main()
