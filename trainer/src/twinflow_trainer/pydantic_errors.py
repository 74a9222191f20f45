"""Naming the field in a pydantic validation error (serve.py's request bodies): ``field: message (got ...)``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError


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
