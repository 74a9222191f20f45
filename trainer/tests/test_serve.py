"""The OpenAI-compatible server (serve.py) as a real process on 127.0.0.1, called over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import LiveCli, run_cli, write_json, write_jsonl

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def server(tiny_model: Path) -> Iterator[tuple[LiveCli, str]]:
    cli = LiveCli("serve", "--model", str(tiny_model), "--port", "0", "--name", "tiny-twin", "--device", "cpu", "--max-new-tokens", "16")
    try:
        ev = cli.wait_for("listening", timeout=120)
        assert ev["model"] == "tiny-twin" and ev["device"] == "cpu" and ev["context"] == 2048
        yield cli, ev["url"]
    finally:
        cli.kill()


def _post(url: str, body: dict[str, Any]) -> tuple[int, bytes, str]:
    req = urllib.request.Request(f"{url}/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, res.read(), res.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def _sse(raw: bytes) -> list[Any]:
    events = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: "):]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def test_models_lists_the_served_name(server: tuple[LiveCli, str]) -> None:
    _, url = server
    with urllib.request.urlopen(f"{url}/models", timeout=10) as res:
        body = json.loads(res.read())
    assert [m["id"] for m in body["data"]] == ["tiny-twin"]


def test_completion_and_stream_give_the_greedy_answer_of_generate(server: tuple[LiveCli, str], work: Path, tiny_model: Path) -> None:
    cli, url = server
    status, raw, _ = _post(url, {"model": "tiny-twin", "messages": QUESTION, "temperature": 0, "max_tokens": 12})
    assert status == 200, raw
    body = json.loads(raw)
    text = body["choices"][0]["message"]["content"]
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] in {"stop", "length"}
    assert body["usage"]["prompt_tokens"] > 0 and 0 < body["usage"]["completion_tokens"] <= 12
    done = cli.wait_for("completion", timeout=10)
    assert done["id"] == body["id"] and done["text"] == text and done["stream"] is False

    status, raw, ctype = _post(url, {"model": "tiny-twin", "messages": QUESTION, "temperature": 0, "max_tokens": 12,
                                     "stream": True, "stream_options": {"include_usage": True}})
    assert status == 200 and ctype.startswith("text/event-stream")
    events = _sse(raw)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert streamed == text
    assert chunks[-1]["usage"] == body["usage"]  # the usage chunk comes last, with no choices
    assert cli.wait_for("completion", timeout=10)["stream"] is True

    # The batch generator (generate.py) answers the same prompt with the same greedy text.
    prompts = write_jsonl(work / "serve-prompt.jsonl", [{"id": "q", "messages": QUESTION}])
    cfg = {"base_model": str(tiny_model), "input_file": str(prompts), "output_file": str(work / "serve-gen.jsonl"),
           "max_new_tokens": 12, "temperature": 0, "device": "cpu"}
    res = run_cli("generate", "--config", str(write_json(work / "serve-gen.json", cfg)))
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads((work / "serve-gen.jsonl").read_text())["output"] == text.strip()


def test_a_long_prompt_keeps_its_last_tokens(server: tuple[LiveCli, str]) -> None:
    _, url = server
    long = [{"role": "user", "content": "rivers and mountains " * 900}]  # well over the 2,048-token context
    status, raw, _ = _post(url, {"model": "tiny-twin", "messages": long, "temperature": 0, "max_tokens": 4})
    assert status == 200, raw
    usage = json.loads(raw)["usage"]
    assert usage["prompt_tokens"] == 2048 - 4


def test_bad_requests_name_the_problem(server: tuple[LiveCli, str]) -> None:
    _, url = server
    status, raw, _ = _post(url, {"model": "gpt-4o", "messages": QUESTION})
    assert status == 404
    assert "set LLM_MODEL=tiny-twin" in json.loads(raw)["error"]["message"]
    status, raw, _ = _post(url, {"model": "tiny-twin", "messages": []})
    assert status == 400 and "messages" in json.loads(raw)["error"]["message"]


def test_a_busy_port_is_a_config_error(server: tuple[LiveCli, str], tiny_model: Path) -> None:
    _, url = server
    port = url.rsplit(":", 1)[1].split("/")[0]
    res = run_cli("serve", "--model", str(tiny_model), "--port", port, "--device", "cpu", timeout=120)
    assert res.returncode == 2
    assert "--port" in res.one("error")["message"]
