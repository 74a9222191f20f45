"""Chat data: JSONL loading, tokenization with an assistant-token mask, packing and the training collator.

Assistant-only loss does not rely on ``{% generation %}`` markers in the chat template. The conversation is
rendered once; the character span of each assistant turn is found by rendering the conversation up to that turn
(with and without the generation prompt); tokens whose first character falls in an assistant span are
assistant tokens. Templates that are not prefix-stable (e.g. ones that rewrite earlier turns) fall back to
locating the assistant content in the rendered text. Labels are -100 everywhere else.
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .config import ConfigError

log = logging.getLogger("twinflow_trainer.data")

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant")


# --------------------------------------------------------------------------------------------------- loading


def _check_messages(messages: Any, where: str, *, need_assistant: bool) -> list[dict[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise ConfigError(f"{where}: messages must be a non-empty list")
    out = []
    for j, m in enumerate(messages):
        if not isinstance(m, dict):
            raise ConfigError(f"{where}: messages[{j}] must be an object")
        extra = set(m) - {"role", "content"}
        if extra:
            raise ConfigError(f"{where}: messages[{j}] has unknown key {sorted(extra)[0]!r}")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise ConfigError(f"{where}: messages[{j}].role must be one of {', '.join(ROLES)} (got {role!r})")
        if not isinstance(content, str):
            raise ConfigError(f"{where}: messages[{j}].content must be a string")
        out.append({"role": role, "content": content})
    if need_assistant and not any(m["role"] == "assistant" for m in out):
        raise ConfigError(f"{where}: the conversation has no assistant turn to learn from")
    return out


def read_jsonl(path: str | Path, field_name: str) -> Iterable[tuple[int, dict[str, Any]]]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{field_name}: file not found: {path}")
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{field_name}: {path}:{lineno}: invalid JSON ({err.msg})") from None
            if not isinstance(obj, dict):
                raise ConfigError(f"{field_name}: {path}:{lineno}: each line must be a JSON object")
            yield lineno, obj


def load_conversations(path: str | Path, field_name: str = "train_file") -> list[list[dict[str, str]]]:
    convs = []
    for lineno, obj in read_jsonl(path, field_name):
        if "messages" not in obj:
            raise ConfigError(f"{field_name}: {path}:{lineno}: missing key 'messages'")
        convs.append(_check_messages(obj["messages"], f"{field_name}: {path}:{lineno}", need_assistant=True))
    if not convs:
        raise ConfigError(f"{field_name}: {path} holds no examples")
    return convs


def load_prompts(path: str | Path, field_name: str = "input_file") -> list[tuple[str, list[dict[str, str]]]]:
    rows: list[tuple[str, list[dict[str, str]]]] = []
    seen: set[str] = set()
    for lineno, obj in read_jsonl(path, field_name):
        where = f"{field_name}: {path}:{lineno}"
        rid = obj.get("id")
        if not isinstance(rid, str) or not rid:
            raise ConfigError(f"{where}: 'id' must be a non-empty string")
        if rid in seen:
            raise ConfigError(f"{where}: duplicate id {rid!r}")
        seen.add(rid)
        if "messages" not in obj:
            raise ConfigError(f"{where}: missing key 'messages'")
        rows.append((rid, _check_messages(obj["messages"], where, need_assistant=False)))
    return rows


# ---------------------------------------------------------------------------------------------- templating


def render(tokenizer: Any, messages: Sequence[dict[str, str]], *, add_generation_prompt: bool) -> str:
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=add_generation_prompt)
    if not isinstance(text, str):  # some versions return a list for batched input
        text = text[0]
    return text


def _end_markers(tokenizer: Any) -> list[str]:
    marks = []
    for tok in (getattr(tokenizer, "eos_token", None),):
        if isinstance(tok, str) and tok:
            marks.append(tok)
    return marks


def assistant_char_spans(tokenizer: Any, messages: Sequence[dict[str, str]], full: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of each assistant turn (content + end-of-turn marker) in ``full``."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prefix = upto = None
        try:
            prefix = render(tokenizer, messages[:i], add_generation_prompt=True) if i > 0 else None
            upto = render(tokenizer, messages[: i + 1], add_generation_prompt=False)
            if prefix is None:  # a conversation starting with an assistant turn
                prefix = render(tokenizer, [], add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - templates may reject partial conversations; use the fallback
            prefix = upto = None
        if (
            prefix is not None
            and upto is not None
            and upto.startswith(prefix)
            and full.startswith(upto)
            and len(prefix) >= cursor
            and m["content"] in upto[len(prefix) :]
        ):
            start, end = len(prefix), len(upto)
        else:
            start = full.find(m["content"], cursor) if m["content"] else -1
            if start < 0:
                raise ConfigError(
                    "chat_template: cannot locate assistant turn in the rendered conversation "
                    "(the template drops or rewrites assistant content)"
                )
            end = start + len(m["content"])
            for mark in _end_markers(tokenizer):
                if full.startswith(mark, end):
                    end += len(mark)
                    break
        spans.append((start, end))
        cursor = end
    return spans


@dataclass
class TokenizedExample:
    input_ids: list[int]
    assistant_mask: list[int]


def tokenize_conversation(tokenizer: Any, messages: Sequence[dict[str, str]], max_seq_length: int) -> TokenizedExample:
    full = render(tokenizer, messages, add_generation_prompt=False)
    spans = assistant_char_spans(tokenizer, messages, full)
    ids: list[int]
    mask: list[int]
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        mask = []
        k = 0
        for s, _e in enc["offset_mapping"]:
            while k < len(spans) and spans[k][1] <= s:
                k += 1
            mask.append(1 if k < len(spans) and spans[k][0] <= s < spans[k][1] else 0)
    else:  # slow tokenizers have no offsets: tokenize the segments separately
        ids, mask = [], []
        pos = 0
        for s, e in spans:
            for text, flag in ((full[pos:s], 0), (full[s:e], 1)):
                if text:
                    t = tokenizer(text, add_special_tokens=False)["input_ids"]
                    ids.extend(t)
                    mask.extend([flag] * len(t))
            pos = e
        if full[pos:]:
            t = tokenizer(full[pos:], add_special_tokens=False)["input_ids"]
            ids.extend(t)
            mask.extend([0] * len(t))
    return TokenizedExample(ids[:max_seq_length], mask[:max_seq_length])


def build_dataset_rows(
    tokenizer: Any,
    conversations: Sequence[Sequence[dict[str, str]]],
    max_seq_length: int,
    *,
    assistant_only_loss: bool,
    packing: bool,
) -> tuple[list[dict[str, list[int]]], dict[str, int]]:
    """Tokenize conversations into training rows (one per example, or packed bins).

    Returns the rows and stats: examples, dropped (no assistant token left after truncation), truncated, tokens.
    """
    examples: list[TokenizedExample] = []
    dropped = truncated = 0
    for conv in conversations:
        ex = tokenize_conversation(tokenizer, conv, max_seq_length + 1)
        if len(ex.input_ids) > max_seq_length:
            truncated += 1
            ex = TokenizedExample(ex.input_ids[:max_seq_length], ex.assistant_mask[:max_seq_length])
        if not assistant_only_loss:
            ex = TokenizedExample(ex.input_ids, [1] * len(ex.input_ids))
        if sum(ex.assistant_mask[1:]) == 0:  # nothing to learn once labels are shifted
            dropped += 1
            continue
        examples.append(ex)
    if truncated:
        log.warning("%d example(s) longer than max_seq_length=%d were truncated", truncated, max_seq_length)
    if dropped:
        log.warning("%d example(s) had no assistant token within max_seq_length and were dropped", dropped)
    stats = {
        "examples": len(examples),
        "dropped": dropped,
        "truncated": truncated,
        "tokens": sum(len(e.input_ids) for e in examples),
    }
    if packing:
        rows = pack_examples(examples, max_seq_length)
    else:
        rows = [
            {"input_ids": e.input_ids, "assistant_mask": e.assistant_mask, "seq_lengths": [len(e.input_ids)]}
            for e in examples
        ]
    return rows, stats


def pack_examples(examples: Sequence[TokenizedExample], capacity: int) -> list[dict[str, list[int]]]:
    """Best-fit-decreasing bin packing of whole examples into rows of at most ``capacity`` tokens."""
    order = sorted(range(len(examples)), key=lambda i: -len(examples[i].input_ids))
    bins: list[list[int]] = []
    free: list[tuple[int, int]] = []  # sorted (remaining capacity, bin index)
    for i in order:
        n = len(examples[i].input_ids)
        k = bisect.bisect_left(free, (n, -1))
        if k < len(free):
            rem, b = free.pop(k)
            bins[b].append(i)
            rem -= n
        else:
            b = len(bins)
            bins.append([i])
            rem = capacity - n
        if rem > 0:
            bisect.insort(free, (rem, b))
    rows = []
    for members in bins:
        members.sort()  # keep the original order inside a bin (deterministic, readable)
        ids: list[int] = []
        mask: list[int] = []
        lens: list[int] = []
        for i in members:
            ids.extend(examples[i].input_ids)
            mask.extend(examples[i].assistant_mask)
            lens.append(len(examples[i].input_ids))
        rows.append({"input_ids": ids, "assistant_mask": mask, "seq_lengths": lens})
    return rows


# ---------------------------------------------------------------------------------------------- collation


def labels_from_mask(input_ids: Sequence[int], mask: Sequence[int], seq_lengths: Sequence[int] | None = None) -> list[int]:
    """Labels for one row: the token id where mask is 1, -100 elsewhere.

    With several packed sequences in the row, the first token of each sequence is also -100 so that no sequence
    is trained to predict the start of the next one.
    """
    labels = [t if m else IGNORE_INDEX for t, m in zip(input_ids, mask)]
    if seq_lengths:
        pos = 0
        for n in seq_lengths:
            if pos < len(labels):
                labels[pos] = IGNORE_INDEX
            pos += n
    return labels


@dataclass
class ChatCollator:
    """Pads rows into a batch and builds labels from the assistant mask.

    Unpacked rows: right padding with ``attention_mask``. Packed rows: no ``attention_mask``; ``position_ids``
    restart at 0 for every packed sequence (and for the padding tail), which transformers turns into a
    block-diagonal causal mask so packed sequences do not attend to each other.

    Each batch also carries ``num_tokens`` (the real, non-padding tokens), which the trainer pops before the
    forward pass for throughput accounting.
    """

    pad_token_id: int
    packing: bool = False
    pad_to_multiple_of: int | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"batches": 0, "real_tokens": 0, "padded_tokens": 0})

    def __call__(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(r["input_ids"]) for r in rows)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            longest = ((longest + m - 1) // m) * m
        input_ids, labels, attn, pos = [], [], [], []
        real = 0
        for r in rows:
            ids = list(r["input_ids"])
            n = len(ids)
            real += n
            pad = longest - n
            lens = list(r.get("seq_lengths") or [n])
            lab = labels_from_mask(ids, r["assistant_mask"], lens if self.packing else None)
            input_ids.append(ids + [self.pad_token_id] * pad)
            labels.append(lab + [IGNORE_INDEX] * pad)
            if self.packing:
                p: list[int] = []
                for k in lens:
                    p.extend(range(k))
                p.extend(range(pad))
                pos.append(p)
            else:
                attn.append([1] * n + [0] * pad)
        batch: dict[str, Any] = {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
        }
        if self.packing:
            batch["position_ids"] = torch.tensor(pos, dtype=torch.long)
        else:
            batch["attention_mask"] = torch.tensor(attn, dtype=torch.long)
        batch["num_tokens"] = torch.tensor(real, dtype=torch.long)
        self.stats["batches"] += 1
        self.stats["real_tokens"] += real
        self.stats["padded_tokens"] += len(rows) * longest
        return batch
