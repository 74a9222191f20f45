"""Generation through the CLI, with and without a trained adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CAPITALS, CliResult, run_cli, write_json, write_jsonl


@pytest.fixture(scope="module")
def prompts(work: Path) -> Path:
    rows = [
        {"id": f"q-{i}", "messages": [{"role": "user", "content": f"What is the capital of {c}?"}]}
        for i, (c, _) in enumerate(CAPITALS)
    ]
    rows.append({"id": "long", "messages": [
        {"role": "system", "content": "You are a geography twin."},
        {"role": "user", "content": "Tell me about " + "rivers and mountains " * 6},
    ]})
    return write_jsonl(work / "prompts.jsonl", rows)


def _generate(work: Path, name: str, prompts: Path, **over) -> tuple[CliResult, list[dict]]:
    out = work / f"{name}.jsonl"
    cfg = {
        "base_model": over.pop("base_model"),
        "input_file": str(prompts),
        "output_file": str(out),
        "max_new_tokens": 12,
        "temperature": 0,
        "batch_size": 2,
        "device": "cpu",
        **over,
    }
    res = run_cli("generate", "--config", str(write_json(work / f"{name}.json", cfg)))
    assert res.returncode == 0, res.stderr[-4000:]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return res, lines


def _check(res: CliResult, lines: list[dict], prompts: Path) -> None:
    ids = [json.loads(line)["id"] for line in prompts.read_text().splitlines()]
    assert [row["id"] for row in lines] == ids  # one line per input, in input order
    assert all(set(row) == {"id", "output"} and isinstance(row["output"], str) for row in lines)
    done = res.one("done")
    assert done == {"event": "done", "output_file": done["output_file"], "count": len(ids), "backend": "transformers"}
    assert Path(done["output_file"]).is_absolute()
    progress = res.of("progress")
    assert progress[0] == {"event": "progress", "done": 0, "total": len(ids)}
    assert progress[-1] == {"event": "progress", "done": len(ids), "total": len(ids)}


@pytest.fixture(scope="module")
def base_run(work: Path, tiny_model: Path, prompts: Path) -> tuple[CliResult, list[dict]]:
    return _generate(work, "gen-base-1", prompts, base_model=str(tiny_model))


def test_generate_base_model_is_deterministic_at_temperature_0(
    work: Path, tiny_model: Path, prompts: Path, base_run: tuple[CliResult, list[dict]]
) -> None:
    res1, out1 = base_run
    _check(res1, out1, prompts)
    # Another run, with other batch boundaries, gives the same greedy outputs.
    _, out2 = _generate(work, "gen-base-2", prompts, base_model=str(tiny_model), batch_size=3)
    assert out1 == out2
    assert any(row["output"] for row in out1)


def test_generate_with_adapter(
    work: Path, tiny_model: Path, prompts: Path, trained: CliResult, base_run: tuple[CliResult, list[dict]]
) -> None:
    adapter = trained.one("done")["adapter_dir"]
    res, out = _generate(work, "gen-adapter", prompts, base_model=str(tiny_model), adapter_dir=adapter)
    _check(res, out, prompts)
    # The adapter changes what the model says (it was trained on "The capital of ... is ...").
    assert [r["output"] for r in out] != [r["output"] for r in base_run[1]]


def test_generate_rejects_a_missing_adapter(work: Path, tiny_model: Path, prompts: Path) -> None:
    cfg = {"base_model": str(tiny_model), "input_file": str(prompts), "output_file": str(work / "x.jsonl"),
           "adapter_dir": str(work / "no-such-adapter"), "device": "cpu"}
    res = run_cli("generate", "--config", str(write_json(work / "bad-adapter.json", cfg)))
    assert res.returncode == 2
    assert "adapter_dir" in res.one("error")["message"]
