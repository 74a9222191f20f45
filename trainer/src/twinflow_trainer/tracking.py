"""Experiment tracking: per-step scalars to TensorBoard event files, tokens/s accounting, and the loss curve as SVG.

Every logged number of the trainer (loss, learning_rate, grad_norm, tokens_per_second, and for DPO the rewards and
log-probabilities) goes to ``<output_dir>/tensorboard`` under ``train/<name>`` (``eval/<name>`` for evaluations), at
the optimizer step it belongs to. A resumed attempt starts in an empty work folder, so it first writes again what the
checkpoint's ``log_history`` holds of the earlier steps: the event files of the last attempt hold the whole run. The
activity uploads the folder with the run's artifacts; ``tensorboard --logdir`` opens it (docs/training.md).

The loss curve (``loss-curve.svg``) is drawn from the same ``log_history`` when training ends; no plotting library
is needed for one polyline per series.
"""

from __future__ import annotations

import html
import logging
import math
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("twinflow_trainer.tracking")

# Keys of the trainer's logs that are bookkeeping, not metrics.
_SKIP = {"epoch", "step", "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second"}


class TokenAccountingMixin:
    """For a transformers Trainer subclass: counts real tokens per step and logs ``tokens_per_second``.

    ``count_tokens(inputs)`` returns the non-padding tokens of one micro-batch (and may remove bookkeeping keys from
    the inputs); the rate covers the optimizer steps since the previous log line.
    """

    run_tokens = 0
    _tps_tokens = 0
    _tps_t: float | None = None

    def count_tokens(self, inputs: dict[str, Any]) -> int | None:  # pragma: no cover - overridden
        return None

    def training_step(self, model, inputs, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self._tps_t is None:
            self._tps_t = time.monotonic()
        n = self.count_tokens(inputs)
        if n is not None:
            self.run_tokens += n
            self.state.num_input_tokens_seen = int(self.state.num_input_tokens_seen or 0) + n  # type: ignore[attr-defined]
        return super().training_step(model, inputs, *args, **kwargs)  # type: ignore[misc]

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        if "loss" in logs and self._tps_t is not None:
            now = time.monotonic()
            logs["tokens_per_second"] = round((self.run_tokens - self._tps_tokens) / max(now - self._tps_t, 1e-9), 2)
            self._tps_t, self._tps_tokens = now, self.run_tokens
        super().log(logs, *args, **kwargs)  # type: ignore[misc]


def scalars_of(entry: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """The TensorBoard tag prefix and the numeric metrics of one log entry."""
    is_eval = any(k.startswith("eval_") for k in entry)
    out: dict[str, float] = {}
    for k, v in entry.items():
        if k in _SKIP or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            continue
        name = k[len("eval_") :] if is_eval and k.startswith("eval_") else k
        if is_eval and name in {"runtime", "samples_per_second", "steps_per_second"}:
            continue
        out[name] = float(v)
    return ("eval" if is_eval else "train"), out


def make_tensorboard_callback(log_dir: Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter
    from transformers import TrainerCallback

    class TensorBoardScalars(TrainerCallback):
        def __init__(self) -> None:
            self.writer: SummaryWriter | None = None

        def _write(self, entry: dict[str, Any], step: int) -> None:
            assert self.writer is not None
            prefix, values = scalars_of(entry)
            for name, value in values.items():
                self.writer.add_scalar(f"{prefix}/{name}", value, global_step=step)

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            log_dir.mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(log_dir=str(log_dir))
            # A resumed run: the earlier steps' numbers come from the checkpoint (not tokens/s, which it does not keep).
            for entry in state.log_history:
                if isinstance(entry.get("step"), int):
                    self._write(entry, entry["step"])
            self.writer.flush()

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if self.writer is not None and logs:
                self._write(logs, state.global_step)
                self.writer.flush()

        def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if self.writer is not None:
                self.writer.close()
                self.writer = None

    return TensorBoardScalars()


def loss_curve_svg(log_history: list[dict[str, Any]], title: str, width: int = 640, height: int = 320) -> str:
    """An SVG line chart of training loss (and eval loss when present) against the optimizer step."""
    series: dict[str, list[tuple[float, float]]] = {"train loss": [], "eval loss": []}
    for e in log_history:
        step = e.get("step")
        if not isinstance(step, (int, float)):
            continue
        for key, label in (("loss", "train loss"), ("eval_loss", "eval loss")):
            v = e.get(key)
            if isinstance(v, (int, float)) and math.isfinite(v):
                series[label].append((float(step), float(v)))
    series = {k: v for k, v in series.items() if v}
    pad_l, pad_r, pad_t, pad_b = 56, 16, 32, 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad_l}" y="20" font-size="14">{html.escape(title)}</text>',
    ]
    if not series:
        out.append(f'<text x="{pad_l}" y="{height // 2}">no loss was logged</text></svg>')
        return "\n".join(out)
    points = [p for s in series.values() for p in s]
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pw, ph = width - pad_l - pad_r, height - pad_t - pad_b

    def sx(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return pad_t + (1 - (y - y0) / (y1 - y0)) * ph

    out.append(f'<line x1="{pad_l}" y1="{pad_t + ph}" x2="{pad_l + pw}" y2="{pad_t + ph}" stroke="#444"/>')
    out.append(f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + ph}" stroke="#444"/>')
    for i in range(5):
        yv = y0 + (y1 - y0) * i / 4
        out.append(f'<text x="{pad_l - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.3g}</text>')
        out.append(f'<line x1="{pad_l}" y1="{sy(yv):.1f}" x2="{pad_l + pw}" y2="{sy(yv):.1f}" stroke="#eee"/>')
    for xv in (x0, (x0 + x1) / 2, x1):
        out.append(f'<text x="{sx(xv):.1f}" y="{pad_t + ph + 16}" text-anchor="middle">{xv:.0f}</text>')
    out.append(f'<text x="{pad_l + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">optimizer step</text>')
    colors = {"train loss": "#1f77b4", "eval loss": "#d62728"}
    for i, (label, pts) in enumerate(series.items()):
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        out.append(f'<polyline class="series" data-label="{label}" fill="none" stroke="{colors[label]}" stroke-width="2" points="{path}"/>')
        if len(pts) == 1:
            out.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{colors[label]}"/>')
        lx = pad_l + pw - 110
        out.append(f'<line x1="{lx}" y1="{pad_t + 10 + i * 16}" x2="{lx + 20}" y2="{pad_t + 10 + i * 16}" stroke="{colors[label]}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 26}" y="{pad_t + 14 + i * 16}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)


def write_loss_curve(log_history: list[dict[str, Any]], path: Path, title: str) -> Path:
    path.write_text(loss_curve_svg(log_history, title), encoding="utf-8")
    log.info("loss curve written to %s", path)
    return path
