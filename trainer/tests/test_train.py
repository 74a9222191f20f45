"""Real training runs through the CLI: events, loss, adapter files, checkpoints, resume, packing + merge."""

from __future__ import annotations

import math
from pathlib import Path

from conftest import CliResult, base_train_config, run_cli, write_json

NUMBER = (int, float)


def test_events_are_well_formed(trained: CliResult) -> None:
    cfg = trained.extra["config"]
    kinds = [e["event"] for e in trained.events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    start = trained.one("start")
    assert start == {
        "event": "start",
        "max_steps": 8,
        "num_examples": 32,
        "device": "cpu",
        "backend": "trl",
        "resumed_from_step": None,
    }
    progress = trained.of("progress")
    assert [p["step"] for p in progress] == list(range(1, 9))  # logging_steps = 1
    for p in progress:
        assert set(p) == {"event", "step", "max_steps", "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second", "eta_seconds"}
        assert p["grad_norm"] > 0
        assert p["max_steps"] == 8
        for k in ("epoch", "loss", "learning_rate", "tokens_per_second", "eta_seconds"):
            assert isinstance(p[k], NUMBER) and math.isfinite(p[k]) and p[k] >= 0, (k, p)
        assert p["learning_rate"] == cfg["learning_rate"]  # constant schedule, no warmup
        assert p["tokens_per_second"] > 0
    assert progress[-1]["eta_seconds"] == 0


def test_loss_goes_down(trained: CliResult) -> None:
    losses = [p["loss"] for p in trained.of("progress")]
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < first - 0.3, losses


def test_checkpoints_and_eval(trained: CliResult) -> None:
    out: Path = trained.extra["output_dir"]
    ckpts = trained.of("checkpoint")
    assert [c["step"] for c in ckpts] == [4, 8]
    for c in ckpts:
        p = Path(c["path"])
        assert p.is_absolute() and p.parent == (out / "checkpoints").resolve()
        assert (p / "adapter_model.safetensors").is_file() and (p / "trainer_state.json").is_file()
    evals = trained.of("eval")
    assert [e["step"] for e in evals] == [4, 8]
    assert all(isinstance(e["eval_loss"], float) and e["eval_loss"] > 0 for e in evals)
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    # The checkpoint event follows the save, and eval of the same step comes before it.
    kinds = [(e["event"], e.get("step")) for e in trained.events]
    assert kinds.index(("eval", 8)) < kinds.index(("checkpoint", 8)) < kinds.index(("done", None))


def test_adapter_and_done(trained: CliResult) -> None:
    done = trained.one("done")
    adapter = Path(done["adapter_dir"])
    assert adapter.is_absolute() and adapter == (trained.extra["output_dir"] / "adapter").resolve()
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0
    assert (adapter / "adapter_config.json").is_file()
    assert (adapter / "tokenizer_config.json").is_file()
    assert done["merged_dir"] is None
    m = done["metrics"]
    assert set(m) == {"train_loss", "runtime_seconds", "train_tokens", "global_step", "peak_memory_bytes"}
    assert m["peak_memory_bytes"] is None  # CPU
    assert m["global_step"] == 8 and m["runtime_seconds"] > 0 and m["train_loss"] > 0
    # 8 steps x 4 conversations of 30-35 tokens each
    assert 8 * 4 * 25 < m["train_tokens"] < 8 * 4 * 45
    assert trained.returncode == 0


def test_resume_continues_the_step_count(trained: CliResult, work: Path) -> None:
    ckpt4 = next(c["path"] for c in trained.of("checkpoint") if c["step"] == 4)
    cfg = dict(trained.extra["config"], output_dir=str(work / "run-resumed"), resume_from_checkpoint=ckpt4)
    res = run_cli("train", "--config", str(write_json(work / "train-resume.json", cfg)))
    assert res.returncode == 0, res.stderr[-4000:]
    start = res.one("start")
    assert start["resumed_from_step"] == 4 and start["max_steps"] == 8
    assert [p["step"] for p in res.of("progress")] == [5, 6, 7, 8]
    assert [c["step"] for c in res.of("checkpoint")] == [8]
    done = res.one("done")
    assert done["metrics"]["global_step"] == 8
    # Same data order and restored RNG/optimizer: the resumed run ends where the uninterrupted one did.
    original = {p["step"]: p["loss"] for p in trained.of("progress")}
    for p in res.of("progress"):
        assert abs(p["loss"] - original[p["step"]]) < 1e-3, (p, original)
    # Token count carries over from the checkpoint's trainer state.
    assert done["metrics"]["train_tokens"] == trained.one("done")["metrics"]["train_tokens"]


def test_packing_and_merge(tmp_path: Path, tiny_model: Path, train_file: Path) -> None:
    cfg = base_train_config(
        tiny_model, train_file, tmp_path / "out", packing=True, max_steps=3, save_steps=100, merge=True,
        per_device_batch_size=1, max_seq_length=128,
    )
    res = run_cli("train", "--config", str(write_json(tmp_path / "p.json", cfg)))
    assert res.returncode == 0, res.stderr[-4000:]
    start = res.one("start")
    assert start["num_examples"] == 32
    assert [c["step"] for c in res.of("checkpoint")] == [3]  # always a checkpoint at the end
    done = res.one("done")
    # ~32 tokens per conversation packed into rows of 128: 3 steps x 1 row see ~4 conversations per row
    assert done["metrics"]["train_tokens"] > 3 * 100
    merged = Path(done["merged_dir"])
    assert merged == (tmp_path / "out" / "merged").resolve()
    assert (merged / "config.json").is_file() and (merged / "model.safetensors").is_file()
    assert (merged / "tokenizer_config.json").is_file()
