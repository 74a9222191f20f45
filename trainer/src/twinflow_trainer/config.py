"""Train and generate configs (pydantic v2).

Unknown keys are rejected, and every error names the field it is about (dotted path, e.g. ``lora.r``).
This module imports nothing heavy so that ``validate-config`` answers in well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(Exception):
    """A bad config or bad input data: reported with type "config" and exit code 2."""


class _Strict(BaseModel):
    # extra="forbid": unknown keys are an error naming the key.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


NonEmptyStr = Annotated[str, Field(min_length=1)]


class LoraConfig(_Strict):
    r: int = Field(16, gt=0)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: Literal["all-linear"] | list[NonEmptyStr] = "all-linear"

    @field_validator("target_modules")
    @classmethod
    def _non_empty(cls, v: Any) -> Any:
        if isinstance(v, list) and not v:
            raise ValueError('must be "all-linear" or a non-empty list of module names')
        return v


class TrainConfig(_Strict):
    base_model: NonEmptyStr
    output_dir: NonEmptyStr
    train_file: NonEmptyStr
    eval_file: NonEmptyStr | None = None
    max_seq_length: int = Field(4096, gt=0)
    lora: LoraConfig = Field(default_factory=LoraConfig)
    quantization: Literal["none", "4bit"] = "none"
    epochs: float = Field(1, gt=0)
    max_steps: int = Field(-1, ge=-1)
    learning_rate: float = Field(2e-4, gt=0)
    lr_scheduler: Literal[
        "linear",
        "cosine",
        "cosine_with_restarts",
        "polynomial",
        "constant",
        "constant_with_warmup",
        "inverse_sqrt",
        "cosine_with_min_lr",
        "warmup_stable_decay",
    ] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    per_device_batch_size: int = Field(1, gt=0)
    gradient_accumulation_steps: int = Field(8, gt=0)
    packing: bool = False
    assistant_only_loss: bool = True
    gradient_checkpointing: bool = True
    bf16: bool | Literal["auto"] = "auto"
    seed: int = 42
    save_steps: int = Field(100, gt=0)
    logging_steps: int = Field(10, gt=0)
    save_total_limit: int | None = Field(2, gt=0)
    resume_from_checkpoint: NonEmptyStr | None = None
    backend: Literal["auto", "trl", "unsloth"] = "auto"
    merge: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    chat_template: NonEmptyStr | None = None

    @field_validator("max_steps")
    @classmethod
    def _steps(cls, v: int) -> int:
        if v == 0:
            raise ValueError("must be -1 (train by epochs) or a positive number of steps")
        return v


class GenerateConfig(_Strict):
    base_model: NonEmptyStr
    adapter_dir: NonEmptyStr | None = None
    input_file: NonEmptyStr
    output_file: NonEmptyStr
    max_new_tokens: int = Field(512, gt=0)
    temperature: float = Field(0.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    batch_size: int = Field(8, gt=0)
    max_input_length: int | None = Field(None, gt=0)
    backend: Literal["auto", "transformers", "vllm"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 42
    chat_template: NonEmptyStr | None = None


class DpoConfig(_Strict):
    """Direct preference optimisation of an SFT adapter (dpo.py): the adapter trains on, a frozen copy is the reference."""

    base_model: NonEmptyStr
    # The SFT adapter to start from (and the reference policy); its tokenizer is used.
    adapter_dir: NonEmptyStr
    output_dir: NonEmptyStr
    # JSON Lines of preference pairs {"prompt": [messages], "chosen": str, "rejected": str}, or, with
    # rejected="generated", SFT conversations {"messages": [..., assistant]} (the reference answer is chosen).
    pairs_file: NonEmptyStr
    eval_file: NonEmptyStr | None = None
    rejected: Literal["records", "generated"] = "records"
    # Generation of rejected answers (rejected="generated"): greedy, at most this many new tokens.
    generate_max_new_tokens: int = Field(256, gt=0)
    generate_batch_size: int = Field(8, gt=0)
    max_seq_length: int = Field(4096, gt=0)
    beta: float = Field(0.1, gt=0)
    loss_type: Literal["sigmoid", "ipo", "hinge", "robust"] = "sigmoid"
    quantization: Literal["none", "4bit"] = "none"
    epochs: float = Field(1, gt=0)
    max_steps: int = Field(-1, ge=-1)
    learning_rate: float = Field(5e-6, gt=0)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    per_device_batch_size: int = Field(1, gt=0)
    gradient_accumulation_steps: int = Field(8, gt=0)
    gradient_checkpointing: bool = True
    bf16: bool | Literal["auto"] = "auto"
    seed: int = 42
    save_steps: int = Field(100, gt=0)
    logging_steps: int = Field(10, gt=0)
    save_total_limit: int | None = Field(2, gt=0)
    resume_from_checkpoint: NonEmptyStr | None = None
    merge: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    chat_template: NonEmptyStr | None = None

    @field_validator("max_steps")
    @classmethod
    def _steps(cls, v: int) -> int:
        if v == 0:
            raise ValueError("must be -1 (train by epochs) or a positive number of steps")
        return v


KINDS: dict[str, type[_Strict]] = {"train": TrainConfig, "generate": GenerateConfig, "dpo": DpoConfig}


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(root)"


def format_validation_error(err: ValidationError) -> str:
    # field -> list of messages; union members report one error each for the same field, merged below.
    by_field: dict[str, list[str]] = {}
    inputs: dict[str, Any] = {}
    for e in err.errors():
        loc = e.get("loc", ())
        kind = e.get("type")
        # For union/literal members pydantic appends the member name to the location; drop those tails
        # so the message names the config field, not a pydantic internal.
        clean = tuple(
            p
            for p in loc
            if not (isinstance(p, str) and ("[" in p or p in {"literal", "list", "str", "int", "bool", "float"}))
        )
        field = _loc(clean)
        if kind == "extra_forbidden":
            msg = "unknown key"
        elif kind == "missing":
            msg = "required field is missing"
        else:
            msg = e.get("msg", "invalid")
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            inputs.setdefault(field, e.get("input"))
        by_field.setdefault(field, [])
        if msg not in by_field[field]:
            by_field[field].append(msg)
    parts = []
    for field, msgs in by_field.items():
        text = msgs[0]
        for m in msgs[1:]:
            text += " or " + (m[len("Input should be ") :] if m.startswith("Input should be ") else m)
        if field in inputs:
            text += f" (got {json.dumps(inputs[field], default=str)[:80]})"
        parts.append(f"{field}: {text}")
    return "invalid config: " + "; ".join(parts)


def parse_config(kind: str, data: Any) -> TrainConfig | GenerateConfig | DpoConfig:
    model = KINDS[kind]
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config: the config must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err)) from None


def load_config(kind: str, path: str) -> TrainConfig | GenerateConfig | DpoConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"config: cannot read {path}: {err.strerror or err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"config: {path} is not valid JSON: {err}") from None
    return parse_config(kind, data)
