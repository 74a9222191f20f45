#!/usr/bin/env python3
"""Writes companies.jsonl and companies.csv: 60 fictional companies, each with a short employee review and four
ratings (1-5) that agree with the review's wording. Deterministic (fixed seeds). Four records are deliberate
duplicates (two exact, two near) so the dataset builder's deduplication has something to remove.

No sentence of one company's review appears in another's, and no two companies share a run of 13 words (prompt and
review together, normalised as twinflow's decontamination does): whatever the split, no test sentence is verbatim in
train. Each review sentence is drawn from phrasings of its rating level with a company detail (city, industry, a
team, a number of years) and redrawn until it is new; the check at the end fails the script if that ever breaks.

    python3 examples/reviews/make_companies.py
"""
import csv
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(7)  # ratings, names and descriptions (unchanged from the first version of this file)
words_rng = random.Random(11)  # the review wording, drawn separately so the ratings stay as they were
NGRAM = 13

PREFIX = ["Blue", "North", "Bright", "Iron", "Silver", "Green", "Quiet", "Rapid", "Clear", "Deep", "Red", "Open"]
SUFFIX = ["Harbor", "Forge", "Labs", "Works", "Systems", "Analytics", "Logistics", "Foods", "Health", "Energy"]
INDUSTRY = ["software", "logistics", "retail", "healthcare", "energy", "food production", "finance", "manufacturing"]
CITY = ["Lyon", "Austin", "Leeds", "Porto", "Gdansk", "Denver", "Utrecht", "Bilbao", "Tampere", "Graz"]
SIZE = ["12 employees", "45 employees", "120 employees", "300 employees", "1,200 employees", "5,000 employees"]
TEAM = ["support", "sales", "warehouse", "finance", "product", "operations", "engineering", "design", "quality", "planning"]

# Per rating level, phrasings of each aspect; {team}, {city}, {industry}, {years} are filled per company.
CULTURE = {
    5: ["the team is warm and everyone helps each other", "people genuinely look out for one another",
        "colleagues share credit and celebrate each other's wins", "newcomers get a mentor and a warm welcome from day one"],
    4: ["colleagues are friendly and managers listen", "people are kind and feedback is taken seriously",
        "most managers are approachable and fair", "the {team} people get along well and meetings stay respectful"],
    3: ["the atmosphere is fine but teams work in silos", "people are polite, though few go out of their way to help",
        "the mood depends a lot on which manager you get", "everyone is civil but keeps to themselves"],
    2: ["communication is poor and decisions come from the top", "leadership rarely explains its choices",
        "teams blame each other whenever a project slips", "feedback gets ignored and morale is low"],
    1: ["the culture is toxic and people leave quickly", "managers shout and nobody feels safe speaking up",
        "turnover never stops and trust is gone", "gossip and favouritism decide who gets ahead"],
}
PAY = {
    5: ["salaries are well above the market and bonuses are generous", "pay beats every other {industry} employer I know",
        "the bonus alone was worth a month's salary", "raises are large and come without having to ask"],
    4: ["pay is fair and raises come every year", "salaries are a bit above average for {city}",
        "the pay is solid and the pension plan is good", "raises are modest but regular"],
    3: ["pay is average for the region", "salaries match what other {industry} firms in {city} offer",
        "the money is fine, nothing more", "pay is neither good nor bad"],
    2: ["salaries lag behind the market", "raises are small and hard to get",
        "you can earn more at most {industry} firms in {city}", "bonuses were cut two years in a row"],
    1: ["pay is low and raises are rare", "salaries are far below the market",
        "several of us needed a second job to get by", "the pay has not moved in {years} years"],
}
BALANCE = {
    5: ["hours are flexible and overtime is rare", "nobody expects you to answer messages after six",
        "remote days and flexible hours are normal", "I never once worked a weekend"],
    4: ["work-life balance is good apart from busy seasons", "evenings are mostly free except at quarter end",
        "overtime happens but it is paid and rare", "the hours are reasonable and holidays are respected"],
    3: ["some weeks are long, others are calm", "the hours swing with the {team} workload",
        "balance is fine once you learn to say no", "a few late nights a month are normal"],
    2: ["overtime is common and weekends are often lost", "late evenings are expected during most of the year",
        "the {team} rota leaves little time for family", "holidays get cancelled when deadlines slip"],
    1: ["long hours are expected every week", "twelve-hour days are the norm",
        "people burn out within a year or two", "you are on call even on holiday"],
}
CLOSING = {
    5: ["I would recommend it to anyone", "it is the best job I have had", "I hope to stay for many years"],
    4: ["overall a good place to work", "I would recommend it to a friend", "a good employer on the whole"],
    3: ["it is an acceptable place to work", "it is an average employer", "fine for a few years, not for a career"],
    2: ["I would think twice before joining", "I would not stay long", "look elsewhere first"],
    1: ["I would not recommend it", "avoid it if you can", "I left as soon as I could"],
}
OPENERS = [
    "In the {city} office, {s}.", "On the {team} team, {s}.", "After {years} years here, I can say {s}.",
    "In my experience, {s}.", "As someone in {team}, I found {s}.", "Honestly, {s}.", "For most of us in {city}, {s}.",
    "Compared with other {industry} companies, {s}.", "Day to day, {s}.", "From what I saw, {s}.",
    "On the whole, {s}.", "Speaking for {team}, {s}.", "{S}.", "{S}, at least in {city}.", "{S}, in my {years} years.",
    "{S}, from the {team} side.",
]

used_sentences: set[str] = set()
used_ngrams: dict[str, str] = {}


def normalise(text: str) -> list[str]:
    # As activities/dataset/dedupe.ts normalizeForDedupe: lowercase, every run of non-letters/digits a space.
    return re.sub(r"[\W_]+", " ", text.lower()).split()


def ngrams(text: str) -> set[str]:
    w = normalise(text)
    return {" ".join(w[i : i + NGRAM]) for i in range(len(w) - NGRAM + 1)}


def sentence(pool: list[str], detail: dict) -> str:
    s = words_rng.choice(pool).format(**detail)
    form = words_rng.choice(OPENERS)
    return form.format(s=s, S=s[0].upper() + s[1:], **detail)


def rating(base: int) -> int:
    return max(1, min(5, base + rng.choice([-1, 0, 0, 1])))


def review_for(cid: str, prompt: str, culture: int, pay: int, balance: int, overall: int, detail: dict) -> str:
    for _ in range(500):
        d = {**detail, "team": words_rng.choice(TEAM), "years": words_rng.randint(2, 9)}
        lines = [sentence(CULTURE[culture], d), sentence(PAY[pay], d), sentence(BALANCE[balance], d), sentence(CLOSING[overall], d)]
        keys = [" ".join(normalise(s)) for s in lines]
        grams = ngrams(prompt + "\n" + "\n".join(lines))
        if len(set(keys)) == 4 and not any(k in used_sentences for k in keys) and not any(g in used_ngrams for g in grams):
            used_sentences.update(keys)
            used_ngrams.update({g: cid for g in grams})
            return "\n".join(lines)
    raise SystemExit(f"{cid}: no new wording found in 500 draws: add phrasings")


def company(i: int) -> dict:
    base = rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5])
    culture, pay, balance = rating(base), rating(base), rating(base)
    overall = max(1, min(5, round((culture + pay + balance) / 3)))
    name = f"{PREFIX[i % len(PREFIX)]} {SUFFIX[(i * 7) % len(SUFFIX)]} {i + 1}"
    industry, city, size = rng.choice(INDUSTRY), rng.choice(CITY), rng.choice(SIZE)
    founded = rng.randint(1965, 2021)
    description = f"{name} is a {industry} company in {city} with {size}, founded in {founded}."
    cid = f"c{i + 1:03d}"
    review = review_for(cid, f"Review {name}: {description}", culture, pay, balance, overall, {"city": city, "industry": industry})
    return {
        "id": cid,
        "name": name,
        "industry": industry,
        "city": city,
        "size": size,
        "founded": founded,
        "description": description,
        "review": review,
        "overall": overall,
        "culture": culture,
        "compensation": pay,
        "work_life_balance": balance,
    }


def main() -> None:
    rows = [company(i) for i in range(56)]
    # Two exact duplicates (same content, new ids) and two near-duplicates (a few words added).
    for src, new_id in ((3, "c057"), (10, "c058")):
        rows.append({**rows[src], "id": new_id})
    for src, new_id in ((20, "c059"), (30, "c060")):
        near = dict(rows[src])
        near["id"] = new_id
        near["description"] = near["description"].replace(", founded in", ", and it was founded in")
        rows.append(near)
    (HERE / "companies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with (HERE / "companies.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} companies")


if __name__ == "__main__":
    main()
