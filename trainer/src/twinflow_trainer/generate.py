"""Batched generation with transformers (optionally a LoRA adapter on top), or vLLM when importable."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .config import ConfigError, GenerateConfig
from .data import load_prompts, render
from .events import emit
from .runtime import check_base_model, load_tokenizer, module_available, resolve_device

log = logging.getLogger("twinflow_trainer.generate")


def resolve_backend(cfg: GenerateConfig, device: str) -> str:
    if cfg.backend == "vllm":
        if device != "cuda":
            raise ConfigError("backend: 'vllm' needs a CUDA device")
        if not module_available("vllm"):
            raise ConfigError("backend: 'vllm' requested but the vllm package is not installed")
        return "vllm"
    if cfg.backend == "auto" and device == "cuda" and module_available("vllm"):
        return "vllm"
    return "transformers"


def _tokenizer_source(cfg: GenerateConfig, base_model: str) -> str:
    # An adapter saved by `train` carries the tokenizer it was trained with (including a configured chat template).
    if cfg.adapter_dir and (Path(cfg.adapter_dir) / "tokenizer_config.json").is_file():
        return cfg.adapter_dir
    return base_model


def _write_outputs(path: Path, ids: list[str], outputs: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rid in ids:
            fh.write(json.dumps({"id": rid, "output": outputs[rid]}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def run_generate(cfg: GenerateConfig) -> None:
    base_model = check_base_model(cfg.base_model)
    if cfg.adapter_dir:
        a = Path(cfg.adapter_dir)
        if not (a / "adapter_config.json").is_file():
            raise ConfigError(f"adapter_dir: {cfg.adapter_dir} has no adapter_config.json (not a PEFT adapter)")
    prompts = load_prompts(cfg.input_file, "input_file")
    device = resolve_device(cfg.device)
    backend = resolve_backend(cfg, device)
    out_path = Path(cfg.output_file).expanduser().resolve()

    tokenizer = load_tokenizer(_tokenizer_source(cfg, base_model), cfg.chat_template, padding_side="left")
    texts = {rid: render(tokenizer, msgs, add_generation_prompt=True) for rid, msgs in prompts}
    ids = [rid for rid, _ in prompts]
    total = len(ids)
    emit("progress", done=0, total=total)
    if total == 0:
        _write_outputs(out_path, [], {})
        emit("done", output_file=str(out_path), count=0, backend=backend)
        return

    if backend == "vllm":
        outputs = _generate_vllm(cfg, base_model, tokenizer, ids, texts)
    else:
        outputs = _generate_transformers(cfg, base_model, device, tokenizer, ids, texts)
    _write_outputs(out_path, ids, outputs)
    emit("done", output_file=str(out_path), count=len(outputs), backend=backend)


def _stop_token_ids(tokenizer: Any, model: Any) -> list[int]:
    ids: list[int] = []
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for v in (gen_eos, tokenizer.eos_token_id):
        if isinstance(v, int):
            ids.append(v)
        elif isinstance(v, (list, tuple)):
            ids.extend(int(x) for x in v)
    return sorted(set(ids))


def _generate_transformers(
    cfg: GenerateConfig, base_model: str, device: str, tokenizer: Any, ids: list[str], texts: dict[str, str]
) -> dict[str, str]:
    import torch
    from transformers import AutoModelForCausalLM, set_seed

    set_seed(cfg.seed)
    dtype = torch.float32
    if device == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=dtype)
    if cfg.adapter_dir:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, cfg.adapter_dir)
        model = model.merge_and_unload()  # same outputs, faster decoding
    model.to(device)
    model.eval()
    model.config.use_cache = True

    stop_ids = _stop_token_ids(tokenizer, model)
    # Longest prompts first: batches of similar length waste less padding; outputs are keyed by id.
    order = sorted(ids, key=lambda r: -len(texts[r]))
    outputs: dict[str, str] = {}
    for start in range(0, len(order), cfg.batch_size):
        batch_ids = order[start : start + cfg.batch_size]
        enc = tokenizer(
            [texts[r] for r in batch_ids],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
            truncation=cfg.max_input_length is not None,
            max_length=cfg.max_input_length,
        ).to(device)
        gen_kwargs: dict[str, Any] = {
            "max_new_tokens": cfg.max_new_tokens,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": stop_ids or None,
        }
        if cfg.temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
        else:
            gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            seqs = model.generate(**enc, **gen_kwargs)
        new_tokens = seqs[:, enc["input_ids"].shape[1] :]
        for rid, toks in zip(batch_ids, new_tokens):
            outputs[rid] = tokenizer.decode(toks, skip_special_tokens=True).strip()
        emit("progress", done=len(outputs), total=len(ids))
    return outputs


def _generate_vllm(cfg: GenerateConfig, base_model: str, tokenizer: Any, ids: list[str], texts: dict[str, str]) -> dict[str, str]:
    from vllm import LLM, SamplingParams

    llm_kwargs: dict[str, Any] = {"model": base_model, "seed": cfg.seed, "tokenizer": _tokenizer_source(cfg, base_model)}
    lora_request = None
    if cfg.adapter_dir:
        from vllm.lora.request import LoRARequest

        adapter_cfg = json.loads((Path(cfg.adapter_dir) / "adapter_config.json").read_text(encoding="utf-8"))
        rank = 8
        while rank < int(adapter_cfg.get("r", 16)):  # vLLM accepts power-of-two rank limits
            rank *= 2
        llm_kwargs.update(enable_lora=True, max_lora_rank=rank)
        lora_request = LoRARequest("twinflow-adapter", 1, str(Path(cfg.adapter_dir).resolve()))
    llm = LLM(**llm_kwargs)
    params = SamplingParams(
        max_tokens=cfg.max_new_tokens,
        temperature=cfg.temperature,
        top_p=cfg.top_p if cfg.temperature > 0 else 1.0,
        seed=cfg.seed,
        skip_special_tokens=True,
    )
    outputs: dict[str, str] = {}
    # vLLM schedules the whole list itself; chunks only give the worker progress to report.
    chunk = max(cfg.batch_size * 8, 64)
    for start in range(0, len(ids), chunk):
        batch_ids = ids[start : start + chunk]
        # Token ids, not text: the rendered template already holds any BOS token, so vLLM must not add another.
        prompts = [{"prompt_token_ids": tokenizer(texts[r], add_special_tokens=False)["input_ids"]} for r in batch_ids]
        results = llm.generate(prompts, params, lora_request=lora_request, use_tqdm=False)
        for rid, res in zip(batch_ids, results):
            outputs[rid] = res.outputs[0].text.strip()
        emit("progress", done=len(outputs), total=len(ids))
    return outputs
