"""Checks a model card (README.md) the way the Hub reads it, with huggingface_hub itself.

    python -m twinflow_trainer validate-card --card README.md

- the YAML metadata parses (``ModelCard``) and ``base_model``, when present, is a valid Hub repo id (a local folder
  such as ``/models/llama`` is not: the card must omit it and say so in its text);
- ``model-index`` parses into evaluation results (``model_index_to_eval_results``), each with a metric type and a
  numeric value, and there is at least one;
- ``library_name: peft`` cards name their base model (the Hub links an adapter to it).

Prints one ``card`` event (valid, base_model, the results as the Hub will show them) and exits 0, or an ``error``
event naming the field and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import ConfigError
from .events import emit


def check_card(text: str) -> dict[str, Any]:
    from huggingface_hub import ModelCard
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.repocard_data import model_index_to_eval_results
    from huggingface_hub.utils import validate_repo_id

    try:
        card = ModelCard(text, ignore_metadata_errors=False)
    except Exception as err:  # noqa: BLE001 - the library's own message says what is wrong
        raise ConfigError(f"card: the metadata does not parse: {err}") from None
    data = card.data.to_dict()
    base = data.get("base_model")
    bases = base if isinstance(base, list) else [base] if base is not None else []
    for b in bases:
        try:
            validate_repo_id(str(b))
        except HFValidationError as err:
            raise ConfigError(f"card: base_model: {b!r} is not a Hub model id ({err}); omit base_model for a local base model and say so in the card") from None
    if data.get("library_name") == "peft" and not bases:
        if "base model" not in card.text.lower():
            raise ConfigError("card: an adapter card (library_name: peft) without base_model must say in its text which base model it needs")
    index = data.get("model-index")
    if not index:
        raise ConfigError("card: model-index: missing (the evaluation results belong in the metadata)")
    try:
        _, results = model_index_to_eval_results(index)
    except Exception as err:  # noqa: BLE001
        raise ConfigError(f"card: model-index: does not parse as evaluation results: {type(err).__name__}: {err}") from None
    if not results:
        raise ConfigError("card: model-index: holds no metric")
    for r in results:
        if not isinstance(r.metric_value, (int, float)):
            raise ConfigError(f"card: model-index: metric {r.metric_name or r.metric_type!r} has a non-numeric value {r.metric_value!r}")
    return {
        "valid": True,
        "base_model": base,
        "library_name": data.get("library_name"),
        "results": [
            {"task": r.task_type, "dataset": r.dataset_name, "split": r.dataset_split, "metric": r.metric_type, "name": r.metric_name, "value": r.metric_value}
            for r in results
        ],
    }


def run_validate_card(path: str) -> None:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--card: file not found: {path}")
    emit("card", **check_card(p.read_text(encoding="utf-8")))
