"""Device, precision, backend and model/tokenizer loading shared by train and generate."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from .config import ConfigError

log = logging.getLogger("twinflow_trainer.runtime")


def module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(requested: str) -> str:
    has_cuda = cuda_available()
    if requested == "cuda" and not has_cuda:
        raise ConfigError("device: 'cuda' requested but no CUDA device is available")
    if requested == "auto":
        return "cuda" if has_cuda else "cpu"
    return requested


def resolve_bf16(requested: bool | str, device: str) -> bool:
    import torch

    if requested == "auto":
        return device == "cuda" and torch.cuda.is_bf16_supported()
    if requested and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("bf16: true but this CUDA device does not support bfloat16")
    return bool(requested)


def looks_like_local_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or os.path.exists(name)


def check_base_model(name: str, field: str = "base_model") -> str:
    if looks_like_local_path(name):
        p = Path(name).expanduser()
        if not p.is_dir():
            raise ConfigError(f"{field}: local model directory not found: {name}")
        if not (p / "config.json").is_file():
            raise ConfigError(f"{field}: {name} has no config.json (not a transformers model directory)")
        return str(p.resolve())
    return name


def load_tokenizer(source: str, chat_template: str | None, *, padding_side: str = "right") -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(source)
    if chat_template:
        tok.chat_template = chat_template
    if not getattr(tok, "chat_template", None):
        raise ConfigError(
            "chat_template: the tokenizer of base_model has no chat template; pass one in the config (chat_template)"
        )
    if tok.pad_token is None:
        # Prefer a dedicated token; fall back to eos (labels of padding are masked anyway).
        tok.pad_token = tok.unk_token if tok.unk_token is not None else tok.eos_token
    if tok.pad_token is None:
        raise ConfigError("base_model: the tokenizer has neither a pad, unk nor eos token")
    tok.padding_side = padding_side
    return tok
