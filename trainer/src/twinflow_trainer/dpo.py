"""Preference tuning after SFT: TRL's DPOTrainer on the SFT adapter, with the same event contract as ``train``.

The SFT adapter is loaded trainable and a frozen copy of it (TRL's "ref" adapter) is the reference policy, so the
result is one adapter of the same shape as the SFT one (``generate`` and ``serve`` take it as they are). Pairs come
from the records (``prompt``/``chosen``/``rejected``) or are generated as in the LLM Engineer's Handbook: the
reference answer of an SFT conversation is ``chosen`` and the SFT model's own greedy answer to its prompt is
``rejected`` (pairs whose two answers are the same teach nothing and are dropped).

Events: ``start``, ``progress`` (loss, learning rate, grad norm, tokens/s, and the DPO reward accuracy and margin),
``eval``, ``checkpoint``, ``done``; resume from ``resume_from_checkpoint`` continues the step count. TensorBoard
event files and the loss curve are written as for SFT (tracking.py).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from .config import ConfigError, DpoConfig, GenerateConfig
from .data import _check_messages, read_jsonl, render
from .events import emit
from .runtime import check_base_model, load_tokenizer, resolve_bf16, resolve_device
from .fit import fit_and_save, training_arguments
from .tracking import make_tensorboard_callback

log = logging.getLogger("twinflow_trainer.dpo")


def load_pairs(path: str, field: str) -> list[dict[str, Any]]:
    """Preference pairs {"prompt": [messages], "chosen": str, "rejected": str} (an "id" is kept when present)."""
    pairs = []
    for lineno, obj in read_jsonl(path, field):
        where = f"{field}: {path}:{lineno}"
        for key in ("prompt", "chosen", "rejected"):
            if key not in obj:
                raise ConfigError(f"{where}: missing key {key!r} (a preference pair has prompt, chosen and rejected)")
        prompt = _check_messages(obj["prompt"], f"{where}: prompt", need_assistant=False)
        if prompt[-1]["role"] == "assistant":
            raise ConfigError(f"{where}: prompt must end with a user turn (the answers are chosen and rejected)")
        for key in ("chosen", "rejected"):
            if not isinstance(obj[key], str) or not obj[key].strip():
                raise ConfigError(f"{where}: {key} must be a non-empty string")
        pairs.append({"id": str(obj.get("id", lineno)), "prompt": prompt, "chosen": obj["chosen"], "rejected": obj["rejected"]})
    if not pairs:
        raise ConfigError(f"{field}: {path} holds no preference pairs")
    return pairs


def load_references(path: str, field: str) -> list[dict[str, Any]]:
    """SFT conversations as prompts + reference answers (the last assistant turn), for generated pairs."""
    out = []
    for lineno, obj in read_jsonl(path, field):
        where = f"{field}: {path}:{lineno}"
        if "messages" not in obj:
            raise ConfigError(f"{where}: missing key 'messages' (rejected='generated' reads SFT conversations)")
        msgs = _check_messages(obj["messages"], where, need_assistant=True)
        if msgs[-1]["role"] != "assistant":
            raise ConfigError(f"{where}: the conversation must end with the assistant's reference answer")
        out.append({"id": str(obj.get("id", lineno)), "prompt": msgs[:-1], "chosen": msgs[-1]["content"]})
    if not out:
        raise ConfigError(f"{field}: {path} holds no examples")
    return out


def generate_rejected(cfg: DpoConfig, base_model: str, device: str, refs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The SFT model's own answers as the rejected side; returns the pairs and how many were dropped as identical."""
    from .generate import _generate_transformers

    tokenizer = load_tokenizer(cfg.adapter_dir, cfg.chat_template, padding_side="left")
    ids = [f"{i}" for i in range(len(refs))]
    texts = {rid: render(tokenizer, r["prompt"], add_generation_prompt=True) for rid, r in zip(ids, refs)}
    gcfg = GenerateConfig(
        base_model=base_model, adapter_dir=cfg.adapter_dir, input_file="-", output_file="-",
        max_new_tokens=cfg.generate_max_new_tokens, temperature=0.0, batch_size=cfg.generate_batch_size,
        device=device, seed=cfg.seed,
    )
    outputs = _generate_transformers(gcfg, base_model, device, tokenizer, ids, texts)
    pairs, same = [], 0
    for rid, r in zip(ids, refs):
        rejected = outputs[rid].strip()
        if not rejected or rejected == r["chosen"].strip():
            same += 1
            continue
        pairs.append({**r, "rejected": rejected})
    gc.collect()
    return pairs, same


def _generation_key(cfg: DpoConfig, base_model: str) -> str:
    """What the generated pairs depend on: the references, the SFT adapter's weights and the generation settings."""
    h = hashlib.sha256()
    for f in [Path(cfg.pairs_file), *sorted(Path(cfg.adapter_dir).glob("adapter_model*"))]:
        h.update(f.name.encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    h.update(json.dumps([base_model, cfg.chat_template, cfg.generate_max_new_tokens, cfg.seed], default=str).encode())
    return h.hexdigest()


def generated_pairs(cfg: DpoConfig, env: dict[str, Any], out: Path) -> tuple[list[dict[str, Any]], int]:
    """The generated pairs, and how many were dropped; generated once per run.

    Generating is the SFT model answering every training prompt: minutes to hours on a real model. The pairs are
    written to ``pairs.jsonl`` with a ``pairs-summary.json`` that names what they were generated from, and announced
    with a ``pairs`` event so the worker keeps them in S3; a retried attempt finds them back in its output folder and
    reuses them when the summary matches (same references, adapter and settings), instead of paying again.
    """
    pairs_path, summary_path = out / "pairs.jsonl", out / "pairs-summary.json"
    key = _generation_key(cfg, env["base_model"])
    if pairs_path.is_file() and summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("key") == key:
            pairs = load_pairs(str(pairs_path), "pairs.jsonl")
            log.info("reusing the %d preference pairs an earlier attempt generated", len(pairs))
            return pairs, int(summary["dropped"])
        log.info("pairs.jsonl was generated from other inputs: generating again")
    pairs, dropped = generate_rejected(cfg, env["base_model"], env["device"], load_references(cfg.pairs_file, "pairs_file"))
    # Kept with the run: what the model was trained to prefer is part of its lineage.
    pairs_path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    summary_path.write_text(json.dumps({"key": key, "pairs": len(pairs), "dropped": dropped}), encoding="utf-8")
    log.info("generated %d preference pairs (%d dropped: the model's answer was the reference)", len(pairs), dropped)
    emit("pairs", path=str(pairs_path), summary=str(summary_path), pairs=len(pairs), dropped=dropped)
    return pairs, dropped


def _to_conversational(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt": p["prompt"],
        "chosen": [{"role": "assistant", "content": p["chosen"]}],
        "rejected": [{"role": "assistant", "content": p["rejected"]}],
    }


def _preflight(cfg: DpoConfig) -> dict[str, Any]:
    base_model = check_base_model(cfg.base_model)
    a = Path(cfg.adapter_dir)
    if not (a / "adapter_config.json").is_file():
        raise ConfigError(f"adapter_dir: {cfg.adapter_dir} has no adapter_config.json (DPO starts from an SFT adapter)")
    if not Path(cfg.pairs_file).is_file():
        raise ConfigError(f"pairs_file: file not found: {cfg.pairs_file}")
    if cfg.eval_file and not Path(cfg.eval_file).is_file():
        raise ConfigError(f"eval_file: file not found: {cfg.eval_file}")
    resume = None
    if cfg.resume_from_checkpoint:
        p = Path(cfg.resume_from_checkpoint).expanduser().resolve()
        if not (p / "trainer_state.json").is_file():
            raise ConfigError(f"resume_from_checkpoint: {cfg.resume_from_checkpoint} is not a checkpoint directory (no trainer_state.json)")
        resume = str(p)
    device = resolve_device(cfg.device)
    if cfg.quantization == "4bit" and device != "cuda":
        raise ConfigError("quantization: '4bit' (QLoRA) needs a CUDA GPU; use 'none' on CPU")
    bf16 = resolve_bf16(cfg.bf16, device)
    fp16 = device == "cuda" and not bf16 and cfg.bf16 == "auto"
    return {"base_model": base_model, "resume": resume, "device": device, "bf16": bf16, "fp16": fp16, "backend": "trl"}


def _make_dpo_trainer_class() -> type:
    from trl import DPOTrainer

    from .tracking import TokenAccountingMixin

    class TwinflowDPOTrainer(TokenAccountingMixin, DPOTrainer):
        def count_tokens(self, inputs):  # type: ignore[override]
            mask = inputs.get("attention_mask")
            return int(mask.sum().item()) if mask is not None else None

    return TwinflowDPOTrainer


def run_dpo(cfg: DpoConfig) -> None:
    from .train import _load_model_trl, _make_event_callback

    env = _preflight(cfg)
    out = Path(cfg.output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir, tensorboard_dir = out / "checkpoints", out / "tensorboard"

    dropped = 0
    if cfg.rejected == "generated":
        pairs, dropped = generated_pairs(cfg, env, out)
        if not pairs:
            raise ConfigError("pairs_file: every generated answer equals its reference: no preference pair to learn from")
    else:
        pairs = load_pairs(cfg.pairs_file, "pairs_file")
    eval_pairs = load_pairs(cfg.eval_file, "eval_file") if cfg.eval_file else None

    from datasets import Dataset
    from peft import PeftModel
    from transformers import set_seed
    from trl import DPOConfig as TrlDPOConfig

    set_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.adapter_dir, cfg.chat_template)
    model = _load_model_trl(cfg, env)  # type: ignore[arg-type] - the same fields as TrainConfig's
    model = PeftModel.from_pretrained(model, cfg.adapter_dir, is_trainable=True)
    model.config.use_cache = False
    train_ds = Dataset.from_list([_to_conversational(p) for p in pairs])
    eval_ds = Dataset.from_list([_to_conversational(p) for p in eval_pairs]) if eval_pairs else None

    args = TrlDPOConfig(
        **training_arguments(cfg, env, ckpt_dir, eval_ds is not None),
        beta=cfg.beta,
        loss_type=[cfg.loss_type],
        gradient_checkpointing=cfg.gradient_checkpointing,
    )
    holder: dict[str, Any] = {}
    events = _make_event_callback(env, len(pairs), lambda: holder["trainer"].run_tokens)
    holder["trainer"] = _make_dpo_trainer_class()(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        callbacks=[events, make_tensorboard_callback(tensorboard_dir)],
    )
    del model  # the trainer holds it; fit_and_save frees both before a merge

    def reward_metrics(history: list[dict[str, Any]]) -> dict[str, Any]:
        last = next((e for e in reversed(history) if "rewards/accuracies" in e), {})
        return {
            "pairs": len(pairs),
            "pairs_dropped": dropped,
            "reward_accuracy": last.get("rewards/accuracies"),
            "reward_margin": last.get("rewards/margins"),
        }

    fit_and_save(
        cfg, env, out, holder, tokenizer,
        stage="DPO",
        config_file="twinflow_dpo_config.json",
        # Only the trained adapter: the frozen "ref" copy is the SFT adapter, already saved by the SFT run.
        save_adapter=lambda model, adapter_dir: model.save_pretrained(str(adapter_dir), selected_adapters=["default"]),
        extra_metrics=reward_metrics,
        done_extra={"pairs_file": str(out / "pairs.jsonl") if cfg.rejected == "generated" else None},
    )
