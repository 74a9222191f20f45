"""JSON-lines event channel and process plumbing.

stdout carries only JSON event lines. At start-up :func:`claim_stdout` duplicates the real stdout to a private
file descriptor for events and points fd 1 (and ``sys.stdout``) at stderr, so a stray ``print`` in any library, or
output from native code, can never corrupt the event stream.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import threading
import time
from typing import Any

log = logging.getLogger("twinflow_trainer")

_lock = threading.Lock()
_event_fd: int | None = None
_error_sent = False


def claim_stdout() -> None:
    """Reserve the real stdout for events; everything else written to fd 1 goes to stderr."""
    global _event_fd
    if _event_fd is not None:
        return
    sys.stdout.flush()
    _event_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/Infinity
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emit(event: str, **fields: Any) -> None:
    """Write one event as a single flushed JSON line on the event channel."""
    global _error_sent
    line = json.dumps({"event": event, **_clean(fields)}, ensure_ascii=False, allow_nan=False) + "\n"
    data = line.encode("utf-8")
    with _lock:
        if event == "error":
            if _error_sent:
                return
            _error_sent = True
        fd = _event_fd if _event_fd is not None else 1
        while data:
            n = os.write(fd, data)
            data = data[n:]


def setup_logging() -> None:
    level = os.environ.get("TWINFLOW_TRAINER_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


class Interrupted(BaseException):
    """Raised in the main thread when SIGTERM/SIGINT arrives (BaseException: library code must not swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


GRACE_SECONDS = float(os.environ.get("TWINFLOW_TRAINER_KILL_GRACE", "5"))


def install_signal_handlers() -> None:
    """SIGTERM/SIGINT stop the run promptly with a non-zero exit code.

    The Python-level handler raises :class:`Interrupted` in the main thread as soon as the interpreter regains
    control. Python runs that handler only between bytecodes, so a main thread stuck inside one long native call
    would not see it: a watchdog thread, woken through ``signal.set_wakeup_fd`` the moment the signal lands,
    ends the process with ``os._exit`` if it is still alive after a short grace period.
    """

    def handler(signum: int, _frame: Any) -> None:
        # A second signal while unwinding: leave at once.
        if getattr(handler, "fired", False):
            os._exit(128 + signum)
        handler.fired = True  # type: ignore[attr-defined]
        raise Interrupted(signum)

    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)

    def watchdog() -> None:
        data = os.read(r, 1)
        signum = data[0] if data else signal.SIGTERM
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            emit("error", message=f"interrupted by {signal.Signals(signum).name}", type="runtime")
        finally:
            os._exit(128 + signum)

    threading.Thread(target=watchdog, name="twinflow-signal-watchdog", daemon=True).start()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
