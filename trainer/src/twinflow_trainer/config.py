"""Train, generate and DPO configs, validated with the JSON Schema that the TypeScript side generates.

The configs are defined once, as zod schemas in lib/schemas/train.ts; scripts/gen-trainer-schema.ts writes them as
JSON Schema to config.schema.json beside this file. Validation and defaults come from that file; the dataclasses
below only give typed access, and tests/test_config_schema.py fails when their fields or defaults drift from it.
Unknown keys are rejected, and every error names the field it is about (dotted path, e.g. ``lora.r``).
This module imports nothing heavy so that ``validate-config`` answers in well under a second.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("config.schema.json")


class ConfigError(Exception):
    """A bad config or bad input data: reported with type "config" and exit code 2."""


@dataclass(frozen=True, kw_only=True)
class LoraConfig:
    r: int = 16
    alpha: float = 32
    dropout: float = 0.05
    target_modules: Literal["all-linear"] | list[str] = "all-linear"


@dataclass(frozen=True, kw_only=True)
class _RunSettings:
    """The fields SFT and DPO share (lib/schemas/train.ts trainerRunFields)."""

    per_device_batch_size: int = 1
    gradient_accumulation_steps: int = 8
    gradient_checkpointing: bool = True
    bf16: bool | Literal["auto"] = "auto"
    seed: int = 42
    save_steps: int = 100
    logging_steps: int = 10
    save_total_limit: int | None = 2
    resume_from_checkpoint: str | None = None
    merge: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    chat_template: str | None = None


@dataclass(frozen=True, kw_only=True)
class TrainConfig(_RunSettings):
    base_model: str
    output_dir: str
    train_file: str
    eval_file: str | None = None
    max_seq_length: int = 4096
    lora: LoraConfig = dataclasses.field(default_factory=LoraConfig)
    quantization: Literal["none", "4bit"] = "none"
    epochs: float = 1
    max_steps: int = -1
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    packing: bool = False
    assistant_only_loss: bool = True
    backend: Literal["auto", "trl", "unsloth"] = "auto"


@dataclass(frozen=True, kw_only=True)
class GenerateConfig:
    base_model: str
    adapter_dir: str | None = None
    input_file: str
    output_file: str
    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    batch_size: int = 8
    max_input_length: int | None = None
    backend: Literal["auto", "transformers", "vllm"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 42
    chat_template: str | None = None


@dataclass(frozen=True, kw_only=True)
class DpoConfig(_RunSettings):
    """Direct preference optimisation of an SFT adapter (dpo.py): the adapter trains on, a frozen copy is the reference."""

    base_model: str
    adapter_dir: str
    output_dir: str
    pairs_file: str
    eval_file: str | None = None
    rejected: Literal["records", "generated"] = "records"
    generate_max_new_tokens: int = 256
    generate_batch_size: int = 8
    max_seq_length: int = 4096
    beta: float = 0.1
    loss_type: Literal["sigmoid", "ipo", "hinge", "robust"] = "sigmoid"
    quantization: Literal["none", "4bit"] = "none"
    epochs: float = 1
    max_steps: int = -1
    learning_rate: float = 5e-6
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.1


Config = TrainConfig | GenerateConfig | DpoConfig
KINDS: dict[str, type[Config]] = {"train": TrainConfig, "generate": GenerateConfig, "dpo": DpoConfig}


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each kind (config.schema.json, without its generator's comment)."""
    doc = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return {kind: doc[kind] for kind in KINDS}


# JSON Schema counts 1.0 as an integer; the trainer never did (an int field given a float is an error, as in zod).
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, v: isinstance(v, int) and not isinstance(v, bool)
)
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_TYPES)


@functools.cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    return _Validator(schemas()[kind])


def _field(path: typing.Iterable[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out or "(root)"


_TYPE_NAMES = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
               "object": "an object", "array": "a list", "null": "null"}


def _message(err: jsonschema.ValidationError) -> str:
    """What one failed keyword asks for, in words (the schema's x-message where alternatives would not say it)."""
    kw, want = err.validator, err.validator_value
    if kw in ("anyOf", "oneOf", "not") and "x-message" in err.schema:
        return err.schema["x-message"]
    if kw in ("anyOf", "oneOf"):
        # One complaint per alternative, but "or null" says nothing a reader needs.
        msgs = list(dict.fromkeys(_message(e) for e in err.context or [] if e.schema.get("type") != "null"))
        return " or ".join([*msgs[:1], *(m.removeprefix("expected ") for m in msgs[1:])]) or "invalid"
    if kw == "type":
        kinds = want if isinstance(want, list) else [want]
        return "expected " + " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
    if kw == "const":
        return f"expected {json.dumps(want)}"
    if kw == "enum":
        return "expected one of " + ", ".join(json.dumps(v) for v in want)
    bounds = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    if kw in bounds:
        return f"must be {bounds[kw]} {want}"
    if kw in ("minLength", "minItems") and want == 1:
        return "must not be empty"
    return err.message


def _problems(kind: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """Field -> messages, in the order the fields come; unknown and missing keys are named one by one."""
    by_field: dict[str, list[str]] = {}

    def add(field: str, msg: str) -> None:
        by_field.setdefault(field, [])
        if msg not in by_field[field]:
            by_field[field].append(msg)

    for err in sorted(_validator(kind).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            for key in err.instance:
                if key not in err.schema.get("properties", {}):
                    add(_field([*path, key]), "unknown key")
        elif err.validator == "required":
            for key in err.validator_value:
                if key not in err.instance:
                    add(_field([*path, key]), "required field is missing")
        else:
            add(_field(path), f"{_message(err)} (got {json.dumps(err.instance, default=str)[:80]})")
    return by_field


def _with_defaults(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a valid config with every absent field that has a default set to it, nested objects included."""
    out = dict(data)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if isinstance(out.get(key), dict) and "properties" in sub:
            out[key] = _with_defaults(sub, out[key])
    return out


def _build(cls: type, given: dict[str, Any], values: dict[str, Any]) -> Any:
    """The dataclass of a valid config. A number given for a float field becomes a float (32 -> 32.0), as it always
    did; the defaults stay as the schema writes them."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            continue
        v, hint = values[f.name], hints[f.name]
        if dataclasses.is_dataclass(hint):
            v = _build(hint, given.get(f.name) or {}, v)
        elif hint is float and f.name in given and isinstance(v, int):
            v = float(v)
        kwargs[f.name] = v
    return cls(**kwargs)


def parse_config(kind: str, data: Any) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config: the config must be a JSON object, got {type(data).__name__}")
    problems = _problems(kind, data)
    if problems:
        raise ConfigError("invalid config: " + "; ".join(f"{field}: {' or '.join(msgs)}" for field, msgs in problems.items()))
    return _build(KINDS[kind], data, _with_defaults(schemas()[kind], data))


def as_dict(cfg: Config) -> dict[str, Any]:
    """A config as JSON-ready data, keys in the schema's order (saved with the adapter as what it was trained with)."""
    values = dataclasses.asdict(cfg)
    order = schemas()[next(k for k, c in KINDS.items() if isinstance(cfg, c))]["properties"]
    return {key: values[key] for key in order}


def load_config(kind: str, path: str) -> Config:
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
