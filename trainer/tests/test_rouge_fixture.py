"""The committed ROUGE-Lsum parity fixture is what the generator script produces (deterministic, current scores)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "rouge" / "rougelsum-pairs.jsonl"
SCRIPT = ROOT / "trainer" / "scripts" / "make_rouge_fixture.py"


def test_fixture_is_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True)
    assert out.read_text(encoding="utf-8") == FIXTURE.read_text(encoding="utf-8"), "re-run trainer/scripts/make_rouge_fixture.py"


def test_fixture_shape() -> None:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 250
    assert {r["use_stemmer"] for r in rows} == {True, False}
    assert any(r["prediction"] == "" for r in rows)
    assert any(r["reference"] == r["prediction"] and r["reference"] for r in rows)
    assert sum("\n" in r["reference"] for r in rows) > 100
    for r in rows:
        s = r["rougeLsum"]
        assert set(s) == {"precision", "recall", "fmeasure"}
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in s.values())
