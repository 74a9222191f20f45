"""config.py's dataclasses against config.schema.json (generated from lib/schemas/train.ts): the same fields, the
same defaults, the same required fields. A field added, renamed or re-defaulted on one side only fails here; the
TypeScript side checks that the committed file is what its zod schemas generate (tests/unit/train/trainer-schema.test.ts).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from twinflow_trainer.config import KINDS, ConfigError, LoraConfig, as_dict, parse_config, schemas

MISSING = dataclasses.MISSING


def _pairs() -> list[tuple[str, type, dict[str, Any]]]:
    out = [(kind, cls, schemas()[kind]) for kind, cls in KINDS.items()]
    out.append(("train.lora", LoraConfig, schemas()["train"]["properties"]["lora"]))
    return out


def _default(f: dataclasses.Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return dataclasses.asdict(f.default_factory()) if dataclasses.is_dataclass(f.default_factory) else f.default_factory()
    return MISSING


@pytest.mark.parametrize(("where", "cls", "schema"), _pairs(), ids=lambda v: v if isinstance(v, str) else "")
def test_dataclass_fields_are_the_schema_properties(where: str, cls: type, schema: dict[str, Any]) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    props = set(schema["properties"])
    assert fields - props == set(), f"{where}: dataclass fields missing from config.schema.json"
    assert props - fields == set(), f"{where}: config.schema.json properties missing from the dataclass"
    assert schema.get("additionalProperties") is False, f"{where}: unknown keys must be refused"


@pytest.mark.parametrize(("where", "cls", "schema"), _pairs(), ids=lambda v: v if isinstance(v, str) else "")
def test_dataclass_defaults_are_the_schema_defaults(where: str, cls: type, schema: dict[str, Any]) -> None:
    required = set(schema.get("required", []))
    for f in dataclasses.fields(cls):
        prop, default = schema["properties"][f.name], _default(f)
        if f.name in required:
            assert default is MISSING, f"{where}.{f.name}: required in the schema, but the dataclass has a default"
        elif "default" in prop:
            want = prop["default"]
            if isinstance(want, dict):  # a nested object's default ({}) is its own fields' defaults
                assert isinstance(default, dict), f"{where}.{f.name}: the schema's default is an object"
                continue
            assert default == want and type(default) in (type(want), float), f"{where}.{f.name}: default {default!r} != schema {want!r}"
        else:
            # Optional without a default: absent means None, and null must be accepted.
            assert default is None, f"{where}.{f.name}: no default in the schema, so the dataclass default must be None"
            assert {"type": "null"} in prop.get("anyOf", []), f"{where}.{f.name}: the schema must accept null"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_default_is_valid_and_round_trips(kind: str) -> None:
    required = {key: "x" for key in schemas()[kind].get("required", [])}
    cfg = parse_config(kind, required)
    # What the trainer saves with an adapter is itself a valid config of the same kind, and parses to the same.
    assert parse_config(kind, {k: v for k, v in as_dict(cfg).items() if v is not None}) == cfg


def test_the_dataclass_types_follow_the_schema_types() -> None:
    hints = typing.get_type_hints(KINDS["train"])
    props = schemas()["train"]["properties"]
    for name, hint in hints.items():
        kind = props[name].get("type")
        if hint is int:
            assert kind == "integer", name
        elif hint is float:
            assert kind == "number", name
        elif hint is bool:
            assert kind == "boolean", name


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"seed": 1.0}, "seed: expected an integer (got 1.0)"),
        ({"seed": True}, "seed: expected an integer"),
        ({"max_steps": 0}, "max_steps: must be -1 (train by epochs) or a positive number of steps (got 0)"),
        ({"max_steps": -2}, "max_steps: must be >= -1"),
        ({"save_total_limit": 0}, "save_total_limit: must be > 0 (got 0)"),
        ({"bf16": "yes"}, 'bf16: expected "auto" or true or false'),
        ({"lora": {"target_modules": []}}, 'lora.target_modules: must be "all-linear" or a non-empty list'),
        ({"eval_file": ""}, "eval_file: must not be empty"),
    ],
)
def test_schema_errors_say_what_is_wanted(data: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("train", {"base_model": "m", "output_dir": "o", "train_file": "t", **data})
    assert needle in str(info.value)


def test_numbers_given_for_float_fields_become_floats_and_nullable_fields_take_null() -> None:
    cfg = parse_config("train", {"base_model": "m", "output_dir": "o", "train_file": "t", "epochs": 2, "lora": {"alpha": 16},
                                 "save_total_limit": None, "eval_file": None})
    assert type(cfg.epochs) is float and type(cfg.lora.alpha) is float and cfg.lora.r == 16
    assert cfg.save_total_limit is None and cfg.eval_file is None
