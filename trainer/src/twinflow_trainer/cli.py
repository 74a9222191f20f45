"""Command line: ``python -m twinflow_trainer {train,generate,validate-config} --config CONFIG.json``.

stdout carries only JSON event lines; logs go to stderr. Exit codes: 0 ok, 2 bad config/input, 1 runtime failure,
128+signal when stopped by SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import traceback
import warnings

from .config import ConfigError, load_config
from .events import Interrupted, claim_stdout, emit, install_signal_handlers, setup_logging

log = logging.getLogger("twinflow_trainer")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors are config errors too: JSON line + exit 2
        emit("error", message=f"usage: {message}", type="config")
        self.print_usage(sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m twinflow_trainer", description="twinflow fine-tuning and generation")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in ("train", "generate"):
        s = sub.add_parser(name)
        s.add_argument("--config", required=True, help="path to the JSON config")
    v = sub.add_parser("validate-config")
    v.add_argument("--kind", required=True, choices=["train", "generate"])
    v.add_argument("--config", required=True)
    return p


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("DISABLE_TQDM", "1")
    # Deprecation notices from the libraries (e.g. gradient_checkpointing -> activation_checkpointing renames) are
    # noise for the worker's logs; real warnings still come through.
    warnings.filterwarnings("ignore", category=FutureWarning)


def _exit_with_parent() -> None:
    """Stops the trainer when the worker that started it dies (kill -9 included).

    The worker starts it in a process group of its own, so nothing else would: it would keep training, holding the
    GPU's memory, beside the next attempt that a new worker runs in the same work folder. A daemon thread watches the
    parent pid (reparenting means the parent is gone) and exits at once, like a SIGKILL would; the checkpoints already
    uploaded are what the next attempt resumes from.
    """
    parent = os.getppid()
    if parent <= 1:
        return

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                log.warning("the worker that started this trainer (pid %d) is gone: stopping", parent)
                os._exit(137)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    claim_stdout()
    setup_logging()
    args = build_parser().parse_args(argv)

    if args.command == "validate-config":
        try:
            load_config(args.kind, args.config)
        except ConfigError as err:
            print(str(err), file=sys.stderr)
            emit("error", message=str(err), type="config")
            return 2
        log.info("%s config %s is valid", args.kind, args.config)
        return 0

    install_signal_handlers()
    _exit_with_parent()
    _quiet_libraries()
    try:
        cfg = load_config(args.command, args.config)
        if args.command == "train":
            from .train import run_train

            run_train(cfg)  # type: ignore[arg-type]
        else:
            from .generate import run_generate

            run_generate(cfg)  # type: ignore[arg-type]
        return 0
    except ConfigError as err:
        log.error("%s", err)
        emit("error", message=str(err), type="config")
        return 2
    except Interrupted as err:
        log.warning("%s: stopping", err)
        emit("error", message=str(err), type="runtime")
        return 128 + err.signum
    except Exception as err:  # noqa: BLE001 - every failure must become an error event
        traceback.print_exc(file=sys.stderr)
        emit("error", message=f"{type(err).__name__}: {err}", type="runtime")
        return 1


def entrypoint() -> None:
    code = main()
    sys.stderr.flush()
    # Skip interpreter teardown (CUDA/NCCL/thread joins can hang or be slow); everything is written already.
    os._exit(code)
