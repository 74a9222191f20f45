"""Supervised fine-tuning: TRL SFTTrainer + PEFT LoRA/QLoRA (or Unsloth's FastLanguageModel), JSON-lines events."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from .config import ConfigError, TrainConfig
from .data import ChatCollator, build_dataset_rows, load_conversations
from .events import emit
from .fit import fit_and_save, merge_adapter, training_arguments  # noqa: F401 - merge_adapter: the public name it had here
from .tracking import make_tensorboard_callback
from .runtime import check_base_model, load_tokenizer, module_available, resolve_bf16, resolve_device

log = logging.getLogger("twinflow_trainer.train")

# Projection names used when "all-linear" has to be spelled out (Unsloth wants explicit names).
LLAMA_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def resolve_backend(cfg: TrainConfig, device: str) -> str:
    if cfg.backend == "unsloth":
        if device != "cuda":
            raise ConfigError("backend: 'unsloth' needs a CUDA device")
        if not module_available("unsloth"):
            raise ConfigError("backend: 'unsloth' requested but the unsloth package is not installed")
        return "unsloth"
    if cfg.backend == "auto" and device == "cuda" and module_available("unsloth"):
        return "unsloth"
    return "trl"


def preflight(cfg: TrainConfig) -> dict[str, Any]:
    """Checks that need the environment (files, CUDA, packages). Raises ConfigError on bad input."""
    base_model = check_base_model(cfg.base_model)
    if not Path(cfg.train_file).is_file():
        raise ConfigError(f"train_file: file not found: {cfg.train_file}")
    if cfg.eval_file and not Path(cfg.eval_file).is_file():
        raise ConfigError(f"eval_file: file not found: {cfg.eval_file}")
    resume = None
    if cfg.resume_from_checkpoint:
        p = Path(cfg.resume_from_checkpoint).expanduser().resolve()
        if not (p / "trainer_state.json").is_file():
            raise ConfigError(
                f"resume_from_checkpoint: {cfg.resume_from_checkpoint} is not a checkpoint directory "
                "(no trainer_state.json)"
            )
        resume = str(p)
    if cfg.quantization == "4bit" and cfg.device == "cpu":
        raise ConfigError("quantization: '4bit' (QLoRA) needs a CUDA GPU; device is 'cpu' (use quantization 'none')")
    device = resolve_device(cfg.device)
    if cfg.quantization == "4bit":
        if device != "cuda":
            raise ConfigError("quantization: '4bit' (QLoRA) needs a CUDA GPU; none is available (use 'none' on CPU)")
        if not module_available("bitsandbytes"):
            raise ConfigError(
                "quantization: '4bit' (QLoRA) needs the bitsandbytes package (pip install 'twinflow-trainer[qlora]')"
            )
    bf16 = resolve_bf16(cfg.bf16, device)
    fp16 = device == "cuda" and not bf16 and cfg.bf16 == "auto"
    backend = resolve_backend(cfg, device)
    return {"base_model": base_model, "resume": resume, "device": device, "bf16": bf16, "fp16": fp16, "backend": backend}


def _lora_targets(cfg: TrainConfig, backend: str) -> Any:
    t = cfg.lora.target_modules
    if t == "all-linear" and backend == "unsloth":
        return LLAMA_LINEAR
    return t if isinstance(t, str) else list(t)


def _load_model_trl(cfg: TrainConfig, env: dict[str, Any]) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if env["device"] == "cuda":
        kwargs["dtype"] = torch.bfloat16 if env["bf16"] else torch.float16 if env["fp16"] else torch.float32
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    else:
        kwargs["dtype"] = torch.float32
    if cfg.quantization == "4bit":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if env["bf16"] else torch.float16,
        )
    model = AutoModelForCausalLM.from_pretrained(env["base_model"], **kwargs)
    if cfg.quantization == "4bit":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=cfg.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    return model


def _load_model_unsloth(cfg: TrainConfig, env: dict[str, Any]) -> tuple[Any, Any]:
    from unsloth import FastLanguageModel  # imported before transformers/trl are used: unsloth patches them

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=env["base_model"],
        max_seq_length=cfg.max_seq_length,
        load_in_4bit=cfg.quantization == "4bit",
        dtype=None,
    )
    model = FastLanguageModel.get_peft_model(
        model,
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=_lora_targets(cfg, "unsloth"),
        use_gradient_checkpointing="unsloth" if cfg.gradient_checkpointing else False,
        random_state=cfg.seed,
    )
    return model, tokenizer


def _make_trainer_class() -> type:
    from trl import SFTTrainer

    from .tracking import TokenAccountingMixin

    class TwinflowSFTTrainer(TokenAccountingMixin, SFTTrainer):
        """SFTTrainer that accounts real (non-padding) tokens carried by the collator in ``num_tokens``."""

        def count_tokens(self, inputs):  # type: ignore[override]
            n = inputs.pop("num_tokens", None)
            return None if n is None else int(n)

        def prediction_step(self, model, inputs, *args, **kwargs):  # type: ignore[override]
            inputs.pop("num_tokens", None)
            return super().prediction_step(model, inputs, *args, **kwargs)

    return TwinflowSFTTrainer


def _make_event_callback(env: dict[str, Any], num_examples: int, get_run_tokens: Any) -> Any:
    from transformers import TrainerCallback

    class EventCallback(TrainerCallback):
        def __init__(self) -> None:
            self.t0 = time.monotonic()
            self.start_step = 0
            self.last_t = self.t0
            self.last_tokens = 0

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            self.t0 = self.last_t = time.monotonic()
            self.start_step = state.global_step
            emit(
                "start",
                max_steps=state.max_steps,
                num_examples=num_examples,
                device=env["device"],
                backend=env["backend"],
                resumed_from_step=state.global_step if env["resume"] else None,
            )

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if state.global_step >= state.max_steps:
                control.should_log = True  # always report the last step
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            logs = logs or {}
            if "loss" not in logs:
                return
            now = time.monotonic()
            tokens = get_run_tokens()
            dt = max(now - self.last_t, 1e-9)
            # The trainer's own figure (tracking.TokenAccountingMixin) is what TensorBoard gets too.
            tps = float(logs["tokens_per_second"]) if "tokens_per_second" in logs else (tokens - self.last_tokens) / dt
            self.last_t, self.last_tokens = now, tokens
            done = max(state.global_step - self.start_step, 1)
            eta = (now - self.t0) / done * max(state.max_steps - state.global_step, 0)
            emit(
                "progress",
                step=state.global_step,
                max_steps=state.max_steps,
                epoch=float(logs.get("epoch", state.epoch or 0.0)),
                loss=float(logs["loss"]),
                learning_rate=float(logs.get("learning_rate", 0.0)),
                grad_norm=float(logs["grad_norm"]) if isinstance(logs.get("grad_norm"), (int, float)) else None,
                tokens_per_second=round(tps, 2),
                eta_seconds=round(eta, 2),
                # DPO's own signal: how often the chosen answer out-scores the rejected one, and by how much.
                **{out: float(logs[key]) for key, out in (("rewards/accuracies", "reward_accuracy"), ("rewards/margins", "reward_margin")) if isinstance(logs.get(key), (int, float))},
            )

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # noqa: ANN001
            if metrics and "eval_loss" in metrics:
                emit("eval", step=state.global_step, eval_loss=float(metrics["eval_loss"]))

        def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
            path = Path(args.output_dir).resolve() / f"checkpoint-{state.global_step}"
            emit("checkpoint", step=state.global_step, path=str(path))

    return EventCallback()


def run_train(cfg: TrainConfig) -> None:
    env = preflight(cfg)
    out = Path(cfg.output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir = out / "checkpoints"

    conversations = load_conversations(cfg.train_file, "train_file")
    eval_conversations = load_conversations(cfg.eval_file, "eval_file") if cfg.eval_file else None

    if env["backend"] == "unsloth":
        model, tokenizer = _load_model_unsloth(cfg, env)
        if cfg.chat_template:
            tokenizer.chat_template = cfg.chat_template
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "right"
        peft_config = None
    else:
        tokenizer = load_tokenizer(env["base_model"], cfg.chat_template)

    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig

    set_seed(cfg.seed)
    rows, stats = build_dataset_rows(
        tokenizer, conversations, cfg.max_seq_length, assistant_only_loss=cfg.assistant_only_loss, packing=cfg.packing
    )
    if not rows:
        raise ConfigError("train_file: no example has an assistant token within max_seq_length")
    log.info(
        "train data: %d examples (%d dropped, %d truncated), %d tokens, %d rows%s",
        stats["examples"], stats["dropped"], stats["truncated"], stats["tokens"], len(rows),
        " (packed)" if cfg.packing else "",
    )
    train_ds = Dataset.from_list(rows)
    eval_ds = None
    if eval_conversations:
        eval_rows, _ = build_dataset_rows(
            tokenizer, eval_conversations, cfg.max_seq_length, assistant_only_loss=cfg.assistant_only_loss, packing=False
        )
        if eval_rows:
            eval_ds = Dataset.from_list(eval_rows)

    if env["backend"] == "trl":
        model = _load_model_trl(cfg, env)
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora.r,
            lora_alpha=cfg.lora.alpha,
            lora_dropout=cfg.lora.dropout,
            target_modules=_lora_targets(cfg, "trl"),
            bias="none",
            task_type="CAUSAL_LM",
        )
    model.config.use_cache = False  # no KV cache in training (also lets packed position_ids build the block mask)

    args = SFTConfig(
        **training_arguments(cfg, env, ckpt_dir, eval_ds is not None),
        gradient_checkpointing=cfg.gradient_checkpointing and env["backend"] == "trl",
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
        assistant_only_loss=False,  # labels are built by our own collator (see data.py)
        packing=False,  # packing is done by data.pack_examples; the collator builds position_ids
    )
    collator = ChatCollator(pad_token_id=tokenizer.pad_token_id, packing=cfg.packing)
    trainer_cls = _make_trainer_class()
    holder: dict[str, Any] = {}
    callback = _make_event_callback(env, stats["examples"], lambda: holder["trainer"].run_tokens)
    holder["trainer"] = trainer_cls(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config if env["backend"] == "trl" else None,
        callbacks=[callback, make_tensorboard_callback(out / "tensorboard")],
    )
    del model  # the trainer holds it; fit_and_save frees both before a merge

    def save_adapter(model: Any, adapter_dir: Path) -> None:
        model.config.use_cache = True
        model.save_pretrained(str(adapter_dir))

    fit_and_save(
        cfg, env, out, holder, tokenizer,
        stage="SFT",
        config_file="twinflow_train_config.json",
        save_adapter=save_adapter,
        extra_metrics=lambda _history: {
            "peak_memory_bytes": int(torch.cuda.max_memory_allocated()) if env["device"] == "cuda" else None,
        },
    )
