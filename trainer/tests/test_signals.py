"""SIGTERM (a cancelled Temporal activity) stops training promptly with a non-zero exit."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from conftest import LiveCli, base_train_config, write_json


def test_sigterm_during_training_stops_within_seconds(tmp_path: Path, tiny_model: Path, train_file: Path) -> None:
    cfg = base_train_config(tiny_model, train_file, tmp_path / "out", max_steps=100_000, save_steps=100_000)
    cli = LiveCli("train", "--config", str(write_json(tmp_path / "long.json", cfg)))
    try:
        cli.wait_for("progress", timeout=180)  # training is under way
        t0 = time.monotonic()
        cli.proc.send_signal(signal.SIGTERM)
        rc = cli.proc.wait(timeout=15)
        elapsed = time.monotonic() - t0
    finally:
        cli.kill()
    assert rc != 0
    assert elapsed < 5, f"took {elapsed:.1f}s to stop"
    rest = cli.rest_events()
    errors = [e for e in rest if e["event"] == "error"]
    assert errors and "SIGTERM" in errors[0]["message"]
    assert not any(e["event"] == "done" for e in rest)
