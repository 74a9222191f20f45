"""Fixtures: a tiny Llama model + BPE tokenizer built on the fly, datasets, and a runner for the real CLI."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin")]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            # One thread per process: on small shared machines torch's thread pool spins and slows down badly.
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class CliResult:
    returncode: int
    events: list[dict[str, Any]]
    stdout: str
    stderr: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == name]

    def one(self, name: str) -> dict[str, Any]:
        found = self.of(name)
        assert len(found) == 1, f"expected one {name!r} event, got {len(found)}: {self.stdout}\n{self.stderr[-3000:]}"
        return found[0]


def parse_events(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        assert line.strip(), "blank line on stdout"
        obj = json.loads(line)  # stdout must hold JSON lines only
        assert isinstance(obj, dict) and isinstance(obj.get("event"), str), line
        events.append(obj)
    return events


def run_cli(*args: str, timeout: float = 240) -> CliResult:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "twinflow_trainer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
    )
    return CliResult(proc.returncode, parse_events(proc.stdout), proc.stdout, proc.stderr, time.monotonic() - t0)


class LiveCli:
    """A CLI process whose JSON events are read while it runs."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "twinflow_trainer", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_chunks: list[str] = []
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for chunk in self.proc.stderr:
            self.stderr_chunks.append(chunk)

    def wait_for(self, event: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {event!r} event within {timeout}s; stderr: {''.join(self.stderr_chunks)[-2000:]}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"process ended before {event!r}; stderr: {''.join(self.stderr_chunks)[-3000:]}")
            obj = json.loads(line)
            if obj["event"] == event:
                return obj

    def rest_events(self) -> list[dict[str, Any]]:
        out = []
        while True:
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            out.append(json.loads(line))
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def conversation(country: str, city: str, system: bool = True) -> dict[str, Any]:
    msgs = [{"role": "system", "content": "You are a geography twin."}] if system else []
    msgs += [
        {"role": "user", "content": f"What is the capital of {country}?"},
        {"role": "assistant", "content": f"The capital of {country} is {city}."},
    ]
    return {"messages": msgs}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_json(path: Path, obj: dict[str, Any]) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("twinflow")


@pytest.fixture(scope="session")
def tiny_model(work: Path) -> Path:
    from twinflow_trainer.tiny import build_tiny

    return build_tiny(work / "tiny-llama", hidden=64, layers=2)


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model))


@pytest.fixture(scope="session")
def train_file(work: Path) -> Path:
    rows = [conversation(*CAPITALS[i % len(CAPITALS)], system=i % 3 != 0) for i in range(32)]
    return write_jsonl(work / "train.jsonl", rows)


@pytest.fixture(scope="session")
def eval_file(work: Path) -> Path:
    return write_jsonl(work / "eval.jsonl", [conversation(c, k) for c, k in CAPITALS])


def base_train_config(model: Path, train: Path, out: Path, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_model": str(model),
        "output_dir": str(out),
        "train_file": str(train),
        "max_seq_length": 128,
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"},
        "max_steps": 8,
        "learning_rate": 1e-2,
        "lr_scheduler": "constant",
        "warmup_ratio": 0.0,
        "per_device_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "logging_steps": 1,
        "save_steps": 4,
        "save_total_limit": 3,
        "gradient_checkpointing": False,
        "device": "cpu",
        "seed": 7,
    }
    cfg.update(over)
    return cfg


@pytest.fixture(scope="session")
def trained(work: Path, tiny_model: Path, train_file: Path, eval_file: Path) -> CliResult:
    """One real training run shared by the training, resume and generation tests."""
    out = work / "run-main"
    cfg = base_train_config(tiny_model, train_file, out, eval_file=str(eval_file), gradient_checkpointing=True)
    result = run_cli("train", "--config", str(write_json(work / "train-main.json", cfg)))
    assert result.returncode == 0, result.stderr[-4000:]
    result.extra["config"] = cfg
    result.extra["output_dir"] = out
    return result
