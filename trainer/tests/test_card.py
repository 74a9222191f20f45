"""validate-card: model cards checked with huggingface_hub, as the Hub reads them."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

META_INDEX = """model-index:
  - name: twin
    results:
      - task: {type: text-generation, name: Text Generation}
        dataset: {name: reviews, type: reviews, split: test, revision: abc123}
        metrics:
          - {name: ROUGE-Lsum, type: rouge, value: 0.4123}
          - {name: Ratings RMSE, type: rmse, value: 0.91}
"""


def _card(tmp: Path, meta: str, body: str = "# twin\n") -> Path:
    p = tmp / "README.md"
    p.write_text(f"---\n{meta}---\n\n{body}", encoding="utf-8")
    return p


def test_a_hub_base_model_and_the_evaluation_pass(tmp_path: Path) -> None:
    res = run_cli("validate-card", "--card", str(_card(tmp_path, "base_model: meta-llama/Llama-3.1-8B-Instruct\nlibrary_name: peft\n" + META_INDEX)))
    assert res.returncode == 0, res.stderr
    card = res.one("card")
    assert card["base_model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert [(r["metric"], r["value"], r["split"]) for r in card["results"]] == [("rouge", 0.4123, "test"), ("rmse", 0.91, "test")]


def test_a_local_path_as_base_model_is_rejected(tmp_path: Path) -> None:
    res = run_cli("validate-card", "--card", str(_card(tmp_path, "base_model: /work/models/tiny-llama\nlibrary_name: peft\n" + META_INDEX)))
    assert res.returncode == 2
    assert "base_model" in res.one("error")["message"] and "not a Hub model id" in res.one("error")["message"]


def test_an_adapter_without_base_model_must_say_which_it_needs(tmp_path: Path) -> None:
    res = run_cli("validate-card", "--card", str(_card(tmp_path, "library_name: peft\n" + META_INDEX)))
    assert res.returncode == 2 and "base model" in res.one("error")["message"]
    ok = run_cli("validate-card", "--card", str(_card(tmp_path, "library_name: peft\n" + META_INDEX, "The base model is a local folder (tiny-llama), not on the Hub.\n")))
    assert ok.returncode == 0, ok.stderr


def test_missing_or_broken_evaluation_is_rejected(tmp_path: Path) -> None:
    res = run_cli("validate-card", "--card", str(_card(tmp_path, "base_model: gpt2\n")))
    assert res.returncode == 2 and "model-index" in res.one("error")["message"]
    bad = META_INDEX.replace("value: 0.91", "value: n/a")
    res = run_cli("validate-card", "--card", str(_card(tmp_path, "base_model: gpt2\n" + bad)))
    assert res.returncode == 2 and "non-numeric" in res.one("error")["message"]
