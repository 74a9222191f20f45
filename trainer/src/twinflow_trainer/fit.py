"""What SFT (train.py) and DPO (dpo.py) do alike around the trainer: the training arguments they set the same way,
and the end of a run (train, resuming; save the adapter with its config; metrics; merge when asked; ``done``)."""

from __future__ import annotations

import gc
import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

from .config import DpoConfig, TrainConfig, as_dict
from .events import emit
from .runtime import cuda_available
from .tracking import write_loss_curve

log = logging.getLogger("twinflow_trainer.fit")


def training_arguments(cfg: TrainConfig | DpoConfig, env: dict[str, Any], ckpt_dir: Path, has_eval: bool) -> dict[str, Any]:
    """The TrainingArguments both stages set from the same config fields (TRL's SFTConfig and DPOConfig take them)."""
    return dict(
        output_dir=str(ckpt_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        per_device_train_batch_size=cfg.per_device_batch_size,
        per_device_eval_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        bf16=env["bf16"],
        fp16=env["fp16"],
        use_cpu=env["device"] == "cpu",
        seed=cfg.seed,
        data_seed=cfg.seed,
        logging_strategy="steps",
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=cfg.save_steps,
        report_to="none",
        disable_tqdm=True,
        max_length=cfg.max_seq_length,
        dataloader_num_workers=0,
        dataloader_pin_memory=env["device"] == "cuda",
        optim="paged_adamw_8bit" if cfg.quantization == "4bit" else "adamw_torch",
    )


def fit_and_save(
    cfg: TrainConfig | DpoConfig,
    env: dict[str, Any],
    out: Path,
    holder: dict[str, Any],
    tokenizer: Any,
    *,
    stage: str,
    config_file: str,
    save_adapter: Callable[[Any, Path], None],
    extra_metrics: Callable[[list[dict[str, Any]]], dict[str, Any]],
    done_extra: dict[str, Any] | None = None,
) -> None:
    """Runs the trainer in ``holder["trainer"]`` and finishes the run.

    The trainer is passed in a holder (the event callback reads it too) so that, before merging, dropping the holder
    and this function's reference frees the model: the caller keeps no reference to the model or the trainer.
    """
    trainer = holder["trainer"]
    adapter_dir = out / "adapter"
    t0 = time.monotonic()
    result = trainer.train(resume_from_checkpoint=env["resume"])
    runtime = time.monotonic() - t0
    history = trainer.state.log_history
    loss_curve = write_loss_curve(history, out / "loss-curve.svg", f"{stage} loss: {Path(env['base_model']).name}")

    adapter_dir.mkdir(parents=True, exist_ok=True)
    save_adapter(trainer.model, adapter_dir)
    tokenizer.save_pretrained(str(adapter_dir))
    (adapter_dir / config_file).write_text(json.dumps(as_dict(cfg), indent=2), encoding="utf-8")
    log.info("adapter saved to %s", adapter_dir)

    metrics = {
        "train_loss": float(result.training_loss),
        "runtime_seconds": round(runtime, 3),
        "train_tokens": int(trainer.state.num_input_tokens_seen or 0),
        "global_step": int(result.global_step),
        **extra_metrics(history),
    }
    merged_dir = None
    if cfg.merge:
        import torch

        holder.clear()
        del trainer
        gc.collect()
        if env["device"] == "cuda":
            torch.cuda.empty_cache()
        merged_dir = merge_adapter(env, adapter_dir, out / "merged", tokenizer)
    emit(
        "done",
        adapter_dir=str(adapter_dir),
        merged_dir=str(merged_dir) if merged_dir else None,
        tensorboard_dir=str(out / "tensorboard"),
        loss_curve=str(loss_curve),
        **(done_extra or {}),
        metrics=metrics,
    )


def merge_adapter(env: dict[str, Any], adapter_dir: Path, merged_dir: Path, tokenizer: Any) -> Path:
    """Reload the base model unquantized, apply the adapter, merge it into the weights and save."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if env["bf16"] else torch.float16 if env["fp16"] else torch.float32}
    if env["device"] == "cuda" and cuda_available():
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    base = AutoModelForCausalLM.from_pretrained(env["base_model"], **kwargs)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(merged_dir))
    tokenizer.save_pretrained(str(merged_dir))
    log.info("merged model saved to %s", merged_dir)
    return merged_dir
