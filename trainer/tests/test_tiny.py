"""The tiny-model builder's recipe (examples/reviews/tiny-model.json): its tokenizer knows the example's words, and
its output layer is drawn wide enough for confident logits; a recipe with an unknown key is refused by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env
from twinflow_trainer.tiny import read_recipe

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "examples" / "reviews" / "tiny-model.json"


def build(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(), "PYTHONPATH": str(ROOT / "trainer" / "src")}
    return subprocess.run([sys.executable, "-m", "twinflow_trainer.tiny", str(out), *extra], env=env, capture_output=True, text=True, timeout=300)


def test_reviews_recipe_builds_a_model_that_knows_the_example_words(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    r = build(tmp_path / "m", "--recipe", str(RECIPE))
    assert r.returncode == 0, r.stderr[-2000:]
    recipe = json.loads(RECIPE.read_text())
    tok = AutoTokenizer.from_pretrained(tmp_path / "m")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (recipe["hidden"], recipe["layers"])
    # A record of the example: every word one token (the generic tiny tokenizer splits most into several).
    record = json.loads((ROOT / "examples" / "reviews" / "from-notes.jsonl").read_text().splitlines()[0])
    words = record["review"].split("\n")[0].rstrip(".").replace(",", "").split()
    assert all(len(tok.tokenize(" " + w)) == 1 for w in words[1:]), [tok.tokenize(" " + w) for w in words]
    ratings = 'Ratings: {"overall":4,"culture":5,"compensation":3,"balance":2}'
    assert len(tok.tokenize(ratings)) <= 22
    # The output layer drawn at the recipe's std, not the usual 0.02.
    w = model.lm_head.weight.detach()
    std = float(w.std())
    assert std == pytest.approx(recipe["lm_head_std"], rel=0.05)
    # A hidden state after the final norm (length √width) pointing at one token's row makes that token near certain
    # (at std 0.02 the same state gives it under 1%: the cap the recipe's docs describe).
    h = w[7] / w[7].norm() * recipe["hidden"] ** 0.5
    assert float(torch.softmax(w @ h, dim=0)[7]) > 0.9


def test_unknown_recipe_key_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "recipe.json"
    bad.write_text(json.dumps({"hidden": 32, "widht": 3}))
    with pytest.raises(SystemExit, match=r"unknown recipe keys \['widht'\]"):
        read_recipe(bad)
