"""Command line: ``python -m twinflow_trainer {train,dpo,generate,validate-config} --config CONFIG.json`` and
``python -m twinflow_trainer serve --model M [--adapter A] [--port N]`` (an OpenAI-compatible server, serve.py).

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
    for name in ("train", "dpo", "generate"):
        s = sub.add_parser(name)
        s.add_argument("--config", required=True, help="path to the JSON config")
    v = sub.add_parser("validate-config")
    v.add_argument("--kind", required=True, choices=["train", "dpo", "generate"])
    v.add_argument("--config", required=True)
    c = sub.add_parser("validate-card", help="check a model card's metadata with huggingface_hub")
    c.add_argument("--card", required=True, help="the README.md to check")
    s = sub.add_parser("serve", help="serve a model through an OpenAI-compatible HTTP API")
    s.add_argument("--model", required=True, help="base or merged model: a folder or a Hub id")
    s.add_argument("--adapter", help="a PEFT adapter folder applied on top of --model")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8001, help="0: any free port (the listening event says which)")
    s.add_argument("--name", help="the model id clients send (default: the adapter's or model's folder name)")
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    s.add_argument("--chat-template", help="a Jinja chat template, when the tokenizer has none")
    s.add_argument("--max-new-tokens", type=int, default=512, help="answer length when a request sets no max_tokens")
    s.add_argument("--api-key-env", help="name of an environment variable holding a bearer token to require")
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
            return _invalid(err)
        log.info("%s config %s is valid", args.kind, args.config)
        return 0
    if args.command == "validate-card":
        from .card import run_validate_card

        try:
            run_validate_card(args.card)
        except ConfigError as err:
            return _invalid(err)
        return 0

    install_signal_handlers()
    _exit_with_parent()
    _quiet_libraries()
    if args.command == "serve":
        return _serve(args)
    try:
        cfg = load_config(args.command, args.config)
        if args.command == "train":
            from .train import run_train

            run_train(cfg)  # type: ignore[arg-type]
        elif args.command == "dpo":
            from .dpo import run_dpo

            run_dpo(cfg)  # type: ignore[arg-type]
        else:
            from .generate import run_generate

            run_generate(cfg)  # type: ignore[arg-type]
        return 0
    except Interrupted as err:
        log.warning("%s: stopping", err)
        emit("error", message=str(err), type="runtime")
        return 128 + err.signum
    except Exception as err:  # noqa: BLE001 - every failure must become an error event
        return _failed(err)


def _invalid(err: ConfigError) -> int:
    """A validate-* command's answer to a bad config or card: the message on stderr and as an error event, exit 2."""
    print(str(err), file=sys.stderr)
    emit("error", message=str(err), type="config")
    return 2


def _failed(err: Exception) -> int:
    """The error event and exit code of a command that failed: 2 for a bad config or input, else 1 (with the
    traceback on stderr). Called from the ``except`` block, so the traceback is the one being handled."""
    if isinstance(err, ConfigError):
        log.error("%s", err)
        emit("error", message=str(err), type="config")
        return 2
    traceback.print_exc(file=sys.stderr)
    emit("error", message=f"{type(err).__name__}: {err}", type="runtime")
    return 1


def _serve(args: argparse.Namespace) -> int:
    from .serve import run_serve, validate_serve_args

    try:
        validate_serve_args(args.max_new_tokens, args.port)
        api_key = None
        if args.api_key_env:
            api_key = os.environ.get(args.api_key_env)
            if not api_key:
                raise ConfigError(f"--api-key-env: the environment variable {args.api_key_env} is not set")
        run_serve(args.model, args.adapter, args.host, args.port, args.name, args.device, args.chat_template,
                  args.max_new_tokens, api_key)
        return 0
    except Interrupted as err:
        # Stopping a server is its normal end.
        log.info("%s: server stopped", err)
        return 0
    except Exception as err:  # noqa: BLE001
        return _failed(err)


def entrypoint() -> None:
    code = main()
    sys.stderr.flush()
    # Skip interpreter teardown (CUDA/NCCL/thread joins can hang or be slow); everything is written already.
    os._exit(code)
