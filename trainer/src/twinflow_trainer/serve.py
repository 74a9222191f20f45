"""A small OpenAI-compatible chat server for the fine-tuned twin on CPU (and for tests): transformers + PEFT.

    python -m twinflow_trainer serve --model BASE_OR_MERGED [--adapter ADAPTER_DIR] [--port 8001] [--name twin]

It answers ``GET /v1/models``, ``POST /v1/chat/completions`` (JSON, or Server-Sent Events with ``"stream": true``,
including the final usage chunk when ``stream_options.include_usage`` is set) and ``GET /health``: the subset that
lib/llm's client and the `ask` command use. On a GPU, vLLM serves the same API much faster (docs/training.md); this
server exists so that the twin can answer where vLLM cannot run.

Requests are answered one at a time (one model, one lock): the server is for one user, not for throughput. Prompts
longer than the model's context keep their last tokens (the question and the newest context), and the answer is
cut at ``max_tokens``. stdout carries JSON events like the other commands: ``listening`` once the port is bound,
then one ``completion`` per answered request (ids, token counts, seconds, the text) so that a supervisor can log
what was served.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import ConfigError
from .pydantic_errors import format_validation_error
from .events import emit
from .runtime import check_base_model, load_tokenizer, resolve_device

log = logging.getLogger("twinflow_trainer.serve")


# ------------------------------------------------------------------------------------------------ request schema


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    # OpenAI allows content parts ([{type: "text", text}]); only text parts are understood here.
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # Unknown OpenAI parameters (presence_penalty, logprobs, ...) are accepted and ignored, as vLLM does for most.
    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[_Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, gt=0)
    max_completion_tokens: int | None = Field(None, gt=0)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None


# ------------------------------------------------------------------------------------------------ the model


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class ChatModel:
    """The model and tokenizer, loaded once; ``generate`` yields text pieces as they are decoded."""

    def __init__(self, model: str, adapter: str | None, device: str, chat_template: str | None, max_new_tokens: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        base = check_base_model(model, "--model")
        if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
            raise ConfigError(f"--adapter: {adapter} has no adapter_config.json (not a PEFT adapter folder)")
        self.device = resolve_device(device)
        # The adapter folder carries the tokenizer it was trained with (and its chat template).
        tok_source = adapter if adapter and (Path(adapter) / "tokenizer_config.json").is_file() else base
        self.tokenizer = load_tokenizer(tok_source, chat_template, padding_side="left")
        dtype = torch.float32
        if self.device == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        m = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
        if adapter:
            from peft import PeftModel

            m = PeftModel.from_pretrained(m, adapter).merge_and_unload()  # same answers, faster decoding
        m.to(self.device)
        m.eval()
        m.config.use_cache = True
        self.model = m
        self.max_new_tokens = max_new_tokens
        self.context = int(getattr(m.config, "max_position_embeddings", 0) or 4096)
        self.lock = threading.Lock()
        ids: list[int] = []
        for v in (getattr(m.generation_config, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(v, int):
                ids.append(v)
            elif isinstance(v, (list, tuple)):
                ids.extend(int(x) for x in v)
        self.stop_ids = sorted(set(ids))

    def prompt_ids(self, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
        from .data import render

        text = render(self.tokenizer, messages, add_generation_prompt=True)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        room = max(self.context - max_tokens, 1)
        if len(ids) > room:
            log.info("prompt of %d tokens is longer than the context allows (%d): keeping the last %d", len(ids), self.context, room)
            ids = ids[-room:]
        return ids

    def generate(self, req: ChatRequest, counts: dict[str, Any]) -> Iterator[str]:
        """Yields text pieces; fills ``counts`` (prompt_tokens, completion_tokens, finish_reason) as it goes."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        max_tokens = min(req.max_completion_tokens or req.max_tokens or self.max_new_tokens, self.context - 1)
        messages = [{"role": m.role, "content": m.text()} for m in req.messages]
        ids = self.prompt_ids(messages, max_tokens)
        counts.update(prompt_tokens=len(ids), completion_tokens=0, finish_reason="stop")
        stops = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])

        with self.lock:
            streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
            kwargs: dict[str, Any] = {
                "input_ids": torch.tensor([ids], device=self.device),
                "attention_mask": torch.ones(1, len(ids), dtype=torch.long, device=self.device),
                "max_new_tokens": max_tokens,
                "pad_token_id": self.tokenizer.pad_token_id,
                "eos_token_id": self.stop_ids or None,
                "streamer": streamer,
            }
            if req.temperature > 0:
                if req.seed is not None:
                    torch.manual_seed(req.seed)
                kwargs.update(do_sample=True, temperature=req.temperature, top_p=req.top_p)
            else:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            # A client that goes away mid-stream (or a stop string) ends the generation, so the lock is free again.
            cancel = threading.Event()

            class _Cancelled(StoppingCriteria):
                def __call__(self, input_ids: Any, scores: Any, **_kw: Any) -> bool:  # type: ignore[override]
                    return cancel.is_set()

            kwargs["stopping_criteria"] = StoppingCriteriaList([_Cancelled()])
            result: dict[str, Any] = {}

            def run() -> None:
                try:
                    with torch.inference_mode():
                        result["seqs"] = self.model.generate(**kwargs)
                except BaseException as err:  # noqa: BLE001 - re-raised in the request thread below
                    result["error"] = err
                    streamer.end()

            worker = threading.Thread(target=run, name="generate", daemon=True)
            worker.start()
            sent = ""
            stopped = False
            try:
                for piece in streamer:
                    if stopped or not piece:
                        continue
                    candidate = sent + piece
                    cut = min((i for i in (candidate.find(s) for s in stops if s) if i >= 0), default=-1)
                    if cut >= 0:
                        piece = candidate[:cut][len(sent):]
                        stopped = True
                        cancel.set()
                    if piece:
                        sent += piece
                        yield piece
            finally:
                cancel.set()
                worker.join()
            if "error" in result:
                raise result["error"]
            new = int(result["seqs"].shape[1]) - len(ids)
            counts["completion_tokens"] = new
            if not stopped and new >= max_tokens:
                counts["finish_reason"] = "length"


# ------------------------------------------------------------------------------------------------ HTTP


def _error_body(status: int, message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}


def make_handler(chat: ChatModel, served_name: str, api_key: str | None) -> type[BaseHTTPRequestHandler]:
    created = int(time.time())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "twinflow-serve"

        def log_message(self, fmt: str, *args: Any) -> None:  # access log to stderr through logging
            log.info("%s %s", self.address_string(), fmt % args)

        def _send_json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if api_key is None:
                return True
            if self.headers.get("Authorization", "") == f"Bearer {api_key}":
                return True
            self._send_json(401, _error_body(401, "missing or wrong bearer token (the server was started with an API key)", "invalid_request_error"))
            return False

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            if self.path == "/health":
                self._send_json(200, {"status": "ok", "model": served_name})
                return
            if not self._authorized():
                return
            if self.path.rstrip("/") == "/v1/models":
                self._send_json(200, {"object": "list", "data": [{"id": served_name, "object": "model", "created": created, "owned_by": "twinflow"}]})
                return
            self._send_json(404, _error_body(404, f"no route GET {self.path}", "invalid_request_error"))

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, _error_body(404, f"no route POST {self.path}", "invalid_request_error"))
                return
            if not self._authorized():
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                req = ChatRequest.model_validate_json(raw)
            except ValidationError as err:
                self._send_json(400, _error_body(400, format_validation_error(err).replace("invalid config", "invalid request"), "invalid_request_error"))
                return
            if req.model != served_name:
                self._send_json(
                    404,
                    _error_body(404, f"model {req.model!r} is not served here; this server serves {served_name!r} (set LLM_MODEL={served_name})", "invalid_request_error", "model"),
                )
                return
            cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            t0 = time.monotonic()
            counts: dict[str, Any] = {}
            text = ""
            if req.stream:
                text = self._stream(req, cid, counts)
            else:
                try:
                    text = "".join(chat.generate(req, counts))
                except Exception as err:  # noqa: BLE001 - a failed generation is a 500 with its reason
                    log.exception("generation failed")
                    self._send_json(500, _error_body(500, f"generation failed: {type(err).__name__}: {err}", "server_error"))
                    return
                self._send_json(200, {
                    "id": cid, "object": "chat.completion", "created": int(time.time()), "model": served_name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": counts["finish_reason"]}],
                    "usage": _usage(counts),
                })
            emit("completion", id=cid, model=served_name, stream=req.stream, seconds=round(time.monotonic() - t0, 3), text=text, **_usage(counts))

        def _stream(self, req: ChatRequest, cid: str, counts: dict[str, Any]) -> str:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")  # the end of the stream is the end of the connection
            self.end_headers()
            self.close_connection = True
            created_at = int(time.time())

            def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> None:
                body: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created_at, "model": served_name,
                                        "choices": [] if usage is not None else [{"index": 0, "delta": delta, "finish_reason": finish}]}
                if usage is not None:
                    body["usage"] = usage
                self.wfile.write(f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode("utf-8"))
                self.wfile.flush()

            text = ""
            try:
                chunk({"role": "assistant", "content": ""})
                for piece in chat.generate(req, counts):
                    text += piece
                    chunk({"content": piece})
                chunk({}, counts.get("finish_reason", "stop"))
                if (req.stream_options or {}).get("include_usage"):
                    chunk({}, usage=_usage(counts))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                log.info("client went away during the stream of %s", cid)
            except Exception as err:  # noqa: BLE001 - headers are sent: report the failure in the stream
                log.exception("generation failed")
                err_body = {"error": {"message": f"generation failed: {type(err).__name__}: {err}", "type": "server_error"}}
                self.wfile.write(f"data: {json.dumps(err_body)}\n\n".encode("utf-8"))
            return text

    return Handler


def _usage(counts: dict[str, Any]) -> dict[str, int]:
    p, c = int(counts.get("prompt_tokens", 0)), int(counts.get("completion_tokens", 0))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def served_name_for(model: str, adapter: str | None) -> str:
    return Path(adapter or model).name or "twin"


def run_serve(model: str, adapter: str | None, host: str, port: int, name: str | None, device: str,
              chat_template: str | None, max_new_tokens: int, api_key: str | None) -> None:
    chat = ChatModel(model, adapter, device, chat_template, max_new_tokens)
    served = name or served_name_for(model, adapter)
    try:
        server = ThreadingHTTPServer((host, port), make_handler(chat, served, api_key))
    except OSError as err:
        raise ConfigError(f"--port: cannot listen on {host}:{port}: {err.strerror or err} (choose another --port)") from None
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host}:{bound_port}/v1"
    emit("listening", url=url, pid=os.getpid(), model=served, base_model=model, adapter=adapter, device=chat.device, context=chat.context)
    log.info("serving %s at %s (LLM_BASE_URL=%s LLM_MODEL=%s)", served, url, url, served)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def validate_serve_args(max_new_tokens: int, port: int) -> None:
    if max_new_tokens <= 0:
        raise ConfigError("--max-new-tokens: must be a positive number of tokens")
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port: expected 0-65535, got {port}")
