#!/usr/bin/env python3
"""Writes companies.jsonl and companies.csv: 60 fictional companies, each with a short employee review and four
ratings (1-5) that agree with the review's wording. Deterministic (fixed seed). Four records are deliberate
duplicates (two exact, two near) so the dataset builder's deduplication has something to remove.

    python3 examples/reviews/make_companies.py
"""
import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(7)

PREFIX = ["Blue", "North", "Bright", "Iron", "Silver", "Green", "Quiet", "Rapid", "Clear", "Deep", "Red", "Open"]
SUFFIX = ["Harbor", "Forge", "Labs", "Works", "Systems", "Analytics", "Logistics", "Foods", "Health", "Energy"]
INDUSTRY = ["software", "logistics", "retail", "healthcare", "energy", "food production", "finance", "manufacturing"]
CITY = ["Lyon", "Austin", "Leeds", "Porto", "Gdansk", "Denver", "Utrecht", "Bilbao", "Tampere", "Graz"]
SIZE = ["12 employees", "45 employees", "120 employees", "300 employees", "1,200 employees", "5,000 employees"]

CULTURE = {
    5: "The team is warm and everyone helps each other.",
    4: "Colleagues are friendly and managers listen.",
    3: "The atmosphere is fine but teams work in silos.",
    2: "Communication is poor and decisions come from the top.",
    1: "The culture is toxic and people leave quickly.",
}
PAY = {
    5: "Salaries are well above the market and bonuses are generous.",
    4: "Pay is fair and raises come every year.",
    3: "Pay is average for the region.",
    2: "Salaries lag behind the market.",
    1: "Pay is low and raises are rare.",
}
BALANCE = {
    5: "Hours are flexible and overtime is rare.",
    4: "Work-life balance is good apart from busy seasons.",
    3: "Some weeks are long, others are calm.",
    2: "Overtime is common and weekends are often lost.",
    1: "Long hours are expected every week.",
}
CLOSING = {
    5: "I would recommend it to anyone.",
    4: "Overall a good place to work.",
    3: "It is an acceptable place to work.",
    2: "I would think twice before joining.",
    1: "I would not recommend it.",
}


def rating(base: int) -> int:
    return max(1, min(5, base + rng.choice([-1, 0, 0, 1])))


def company(i: int) -> dict:
    base = rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5])
    culture, pay, balance = rating(base), rating(base), rating(base)
    overall = max(1, min(5, round((culture + pay + balance) / 3)))
    name = f"{PREFIX[i % len(PREFIX)]} {SUFFIX[(i * 7) % len(SUFFIX)]} {i + 1}"
    industry, city, size = rng.choice(INDUSTRY), rng.choice(CITY), rng.choice(SIZE)
    founded = rng.randint(1965, 2021)
    description = f"{name} is a {industry} company in {city} with {size}, founded in {founded}."
    review = "\n".join([CULTURE[culture], PAY[pay], BALANCE[balance], CLOSING[overall]])
    return {
        "id": f"c{i + 1:03d}",
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
