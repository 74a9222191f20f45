"""DPO after SFT (records and generated pairs, resume), and the tracking both write: TensorBoard scalars, loss curve."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import CAPITALS, CliResult, run_cli, write_json, write_jsonl


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of the event files in log_dir, read back with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def dpo_config(trained: CliResult, tiny_model: Path, pairs: Path, out: Path, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_model": str(tiny_model),
        "adapter_dir": trained.one("done")["adapter_dir"],
        "output_dir": str(out),
        "pairs_file": str(pairs),
        "max_seq_length": 128,
        "beta": 0.1,
        "max_steps": 4,
        "learning_rate": 5e-3,
        "lr_scheduler": "constant",
        "warmup_ratio": 0.0,
        "per_device_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "logging_steps": 1,
        "save_steps": 2,
        "gradient_checkpointing": False,
        "device": "cpu",
        "seed": 3,
    }
    cfg.update(over)
    return cfg


@pytest.fixture(scope="module")
def pairs_file(work: Path) -> Path:
    # One consistent preference (never the made-up city), which a tiny model can pick up within a few steps.
    rows = [
        {"id": f"p{i}", "prompt": [{"role": "user", "content": f"What is the capital of {c}?"}],
         "chosen": f"The capital of {c} is {k}.", "rejected": f"The capital of {c} is Atlantis."}
        for i, (c, k) in enumerate(CAPITALS * 4)
    ]
    return write_jsonl(work / "pairs.jsonl", rows)


@pytest.fixture(scope="module")
def dpo_run(work: Path, trained: CliResult, tiny_model: Path, pairs_file: Path) -> CliResult:
    out = work / "dpo-records"
    res = run_cli("dpo", "--config", str(write_json(work / "dpo.json", dpo_config(trained, tiny_model, pairs_file, out))))
    assert res.returncode == 0, res.stderr[-4000:]
    res.extra["out"] = out
    return res


def test_sft_writes_tensorboard_scalars_and_a_loss_curve(trained: CliResult) -> None:
    done = trained.one("done")
    scalars = read_scalars(Path(done["tensorboard_dir"]))
    steps = trained.extra["config"]["max_steps"]
    for tag in ("train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_per_second"):
        assert [s for s, _ in scalars[tag]] == list(range(1, steps + 1)), tag
    # The event files hold the numbers the progress events reported.
    progress = {e["step"]: e for e in trained.of("progress")}
    for step, value in scalars["train/loss"]:
        assert value == pytest.approx(progress[step]["loss"], rel=1e-5)
        assert progress[step]["grad_norm"] is not None and progress[step]["grad_norm"] > 0
    assert all(v > 0 for _, v in scalars["train/tokens_per_second"])
    assert "eval/loss" in scalars  # eval_file is set in that run
    svg = Path(done["loss_curve"]).read_text()
    assert svg.startswith("<svg") and 'data-label="train loss"' in svg and 'data-label="eval loss"' in svg


def test_dpo_on_record_pairs_starts_at_ln2_and_learns_the_preference(dpo_run: CliResult) -> None:
    progress = dpo_run.of("progress")
    assert [p["step"] for p in progress] == [1, 2, 3, 4]
    # At the first step the policy is the reference (a copy of the SFT adapter): the sigmoid loss is -log(0.5).
    assert progress[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert progress[-1]["loss"] < progress[0]["loss"]
    assert progress[-1]["reward_accuracy"] > 0.5 and progress[-1]["reward_margin"] > 0
    assert [c["step"] for c in dpo_run.of("checkpoint")] == [2, 4]
    done = dpo_run.one("done")
    adapter = Path(done["adapter_dir"])
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    assert not (adapter / "ref").exists()  # the frozen reference copy is not part of the result
    assert done["metrics"]["pairs"] == 16 and done["metrics"]["global_step"] == 4
    scalars = read_scalars(Path(done["tensorboard_dir"]))
    assert [s for s, _ in scalars["train/rewards/accuracies"]] == [1, 2, 3, 4]
    assert [s for s, _ in scalars["train/tokens_per_second"]] == [1, 2, 3, 4]
    assert 'data-label="train loss"' in Path(done["loss_curve"]).read_text()


def test_dpo_adapter_generates(dpo_run: CliResult, work: Path, tiny_model: Path) -> None:
    prompts = write_jsonl(work / "dpo-prompts.jsonl", [{"id": "q", "messages": [{"role": "user", "content": "What is the capital of Spain?"}]}])
    cfg = {"base_model": str(tiny_model), "adapter_dir": dpo_run.one("done")["adapter_dir"], "input_file": str(prompts),
           "output_file": str(work / "dpo-gen.jsonl"), "max_new_tokens": 8, "temperature": 0, "device": "cpu"}
    res = run_cli("generate", "--config", str(write_json(work / "dpo-gen.json", cfg)))
    assert res.returncode == 0, res.stderr[-3000:]


def test_dpo_resumes_from_a_checkpoint_and_tensorboard_keeps_the_earlier_steps(
    dpo_run: CliResult, work: Path, trained: CliResult, tiny_model: Path, pairs_file: Path
) -> None:
    ckpt = next(c["path"] for c in dpo_run.of("checkpoint") if c["step"] == 2)
    out = work / "dpo-resumed"  # a fresh folder, as a retried activity attempt has
    cfg = dpo_config(trained, tiny_model, pairs_file, out, resume_from_checkpoint=ckpt)
    res = run_cli("dpo", "--config", str(write_json(work / "dpo-resume.json", cfg)))
    assert res.returncode == 0, res.stderr[-4000:]
    assert res.one("start")["resumed_from_step"] == 2
    assert [p["step"] for p in res.of("progress")] == [3, 4]
    first = {p["step"]: p["loss"] for p in dpo_run.of("progress")}
    again = {p["step"]: p["loss"] for p in res.of("progress")}
    assert again[3] == pytest.approx(first[3], rel=1e-4)  # the same run, continued
    scalars = read_scalars(out / "tensorboard")
    assert [s for s, _ in scalars["train/loss"]] == [1, 2, 3, 4]


def generated_dpo(work: Path, name: str, cfg: dict[str, Any]) -> CliResult:
    """One DPO run on generated pairs, which must succeed."""
    res = run_cli("dpo", "--config", str(write_json(work / f"{name}.json", cfg)))
    assert res.returncode == 0, res.stderr[-4000:]
    return res


def test_dpo_with_generated_rejected_answers(work: Path, trained: CliResult, tiny_model: Path, train_file: Path) -> None:
    cfg = dpo_config(trained, tiny_model, train_file, work / "dpo-generated", rejected="generated", max_steps=2, generate_max_new_tokens=8)
    res = generated_dpo(work, "dpo-generated", cfg)
    done = res.one("done")
    pairs = [json.loads(line) for line in Path(done["pairs_file"]).read_text().splitlines()]
    assert pairs and done["metrics"]["pairs"] == len(pairs)
    assert done["metrics"]["pairs"] + done["metrics"]["pairs_dropped"] == 32
    for p in pairs:
        assert p["chosen"].startswith("The capital of") and p["rejected"] != p["chosen"]
        assert p["prompt"][-1]["role"] == "user"
    # Announced as soon as they exist (the worker keeps them in S3 before training starts), with their summary.
    announced = res.one("pairs")
    assert announced["path"] == done["pairs_file"] and announced["pairs"] == len(pairs)
    summary = json.loads(Path(announced["summary"]).read_text())
    assert summary["pairs"] == len(pairs) and summary["dropped"] == done["metrics"]["pairs_dropped"]


def test_dpo_retry_reuses_the_generated_pairs_of_the_same_inputs_only(work: Path, trained: CliResult, tiny_model: Path, train_file: Path) -> None:
    first = work / "dpo-gen-first"
    cfg = dpo_config(trained, tiny_model, train_file, first, rejected="generated", max_steps=1, generate_max_new_tokens=8)
    done = generated_dpo(work, "dpo-gen-first", cfg).one("done")

    # A retried attempt: a fresh folder holding only what the worker put back from S3.
    retry = work / "dpo-gen-retry"
    retry.mkdir()
    pairs = (first / "pairs.jsonl").read_text()
    # Marked, so that reuse (rather than an identical regeneration) is what the run's output shows.
    marked = pairs.replace('"rejected": "', '"rejected": "[kept] ', 1)
    (retry / "pairs.jsonl").write_text(marked)
    (retry / "pairs-summary.json").write_text((first / "pairs-summary.json").read_text())
    res = generated_dpo(work, "dpo-gen-retry", {**cfg, "output_dir": str(retry)})
    assert res.of("pairs") == [], "the pairs were generated again"
    assert "reusing the" in res.stderr
    again = res.one("done")
    assert again["metrics"]["pairs"] == done["metrics"]["pairs"] and again["metrics"]["pairs_dropped"] == done["metrics"]["pairs_dropped"]
    assert "[kept] " in Path(again["pairs_file"]).read_text()

    # Other generation settings: the kept pairs do not describe this run, so they are generated again.
    other = work / "dpo-gen-other"
    other.mkdir()
    (other / "pairs.jsonl").write_text(marked)
    (other / "pairs-summary.json").write_text((first / "pairs-summary.json").read_text())
    res = generated_dpo(work, "dpo-gen-other", {**cfg, "output_dir": str(other), "generate_max_new_tokens": 6})
    assert len(res.of("pairs")) == 1
    assert "[kept] " not in Path(res.one("done")["pairs_file"]).read_text()


def test_dpo_config_errors_name_the_field(work: Path, tiny_model: Path, pairs_file: Path, trained: CliResult) -> None:
    bad = {"base_model": str(tiny_model), "adapter_dir": str(tiny_model), "output_dir": str(work / "x"), "pairs_file": str(pairs_file), "beta": 0}
    res = run_cli("validate-config", "--kind", "dpo", "--config", str(write_json(work / "dpo-bad.json", bad)))
    assert res.returncode == 2 and "beta" in res.one("error")["message"]
    # Not an adapter: DPO starts from the SFT adapter.
    res = run_cli("dpo", "--config", str(write_json(work / "dpo-noadapter.json", {**bad, "beta": 0.1, "device": "cpu"})))
    assert res.returncode == 2 and "adapter_dir" in res.one("error")["message"]
    broken = write_jsonl(work / "pairs-broken.jsonl", [{"prompt": [{"role": "user", "content": "q"}], "chosen": "a"}])
    adapter = trained.one("done")["adapter_dir"]
    res = run_cli("dpo", "--config", str(write_json(work / "dpo-broken.json", {**bad, "beta": 0.1, "device": "cpu", "adapter_dir": adapter, "pairs_file": str(broken)})))
    assert res.returncode == 2 and "missing key 'rejected'" in res.one("error")["message"]
