"""Assistant-only masking, packing and the collator (in-process unit tests)."""

from __future__ import annotations

import copy

import pytest

from twinflow_trainer.config import ConfigError
from twinflow_trainer.data import (
    IGNORE_INDEX,
    ChatCollator,
    TokenizedExample,
    build_dataset_rows,
    load_conversations,
    pack_examples,
    tokenize_conversation,
)

MULTI_TURN = [
    {"role": "system", "content": "You are a terse twin."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "Capital of Italy?"},
    {"role": "assistant", "content": "Rome, since 1871."},
]


def _segments(tokenizer, ids, mask):
    """Decode maximal runs of masked / unmasked tokens."""
    runs, cur, flag = [], [], None
    for t, m in zip(ids, mask):
        if flag is not None and m != flag:
            runs.append((flag, tokenizer.decode(cur)))
            cur = []
        cur.append(t)
        flag = m
    if cur:
        runs.append((flag, tokenizer.decode(cur)))
    return runs


def test_mask_covers_exactly_the_assistant_turns(tiny_tokenizer) -> None:
    ex = tokenize_conversation(tiny_tokenizer, MULTI_TURN, 10_000)
    assert len(ex.input_ids) == len(ex.assistant_mask)
    full = tiny_tokenizer.apply_chat_template(MULTI_TURN, tokenize=False)
    assert tiny_tokenizer.decode(ex.input_ids) == full
    runs = _segments(tiny_tokenizer, ex.input_ids, ex.assistant_mask)
    assistant_runs = [text for flag, text in runs if flag == 1]
    # Each assistant turn: its content plus the end-of-turn marker (so the model learns to stop), nothing else.
    assert assistant_runs == ["Hello! How can I help?<|end|>\n", "Rome, since 1871.<|end|>\n"]
    other = "".join(text for flag, text in runs if flag == 0)
    assert "Hello" not in other and "Rome" not in other
    assert other.startswith("<s><|system|>\nYou are a terse twin.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\n")


def test_collator_labels_are_minus_100_outside_assistant_tokens(tiny_tokenizer) -> None:
    a = tokenize_conversation(tiny_tokenizer, MULTI_TURN, 10_000)
    b = tokenize_conversation(tiny_tokenizer, MULTI_TURN[1:3], 10_000)
    rows = [
        {"input_ids": a.input_ids, "assistant_mask": a.assistant_mask, "seq_lengths": [len(a.input_ids)]},
        {"input_ids": b.input_ids, "assistant_mask": b.assistant_mask, "seq_lengths": [len(b.input_ids)]},
    ]
    pad = tiny_tokenizer.pad_token_id
    batch = ChatCollator(pad_token_id=pad)(rows)
    assert int(batch["num_tokens"]) == len(a.input_ids) + len(b.input_ids)
    ids, labels, attn = batch["input_ids"].tolist(), batch["labels"].tolist(), batch["attention_mask"].tolist()
    for r, row in enumerate(rows):
        n = len(row["input_ids"])
        assert ids[r][:n] == row["input_ids"] and all(t == pad for t in ids[r][n:])
        assert attn[r] == [1] * n + [0] * (len(ids[r]) - n)
        for j, lab in enumerate(labels[r]):
            if j < n and row["assistant_mask"][j]:
                assert lab == ids[r][j]
            else:
                assert lab == IGNORE_INDEX
        assert any(lab != IGNORE_INDEX for lab in labels[r])


def test_fallback_for_templates_that_are_not_prefix_stable(tiny_tokenizer) -> None:
    tok = copy.deepcopy(tiny_tokenizer)
    # The header depends on the number of messages, so rendering a prefix of the conversation does not give a prefix
    # of the full rendering: the span search must fall back to locating the assistant content.
    tok.chat_template = (
        "[{{ messages|length }} turns]\n"
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    ex = tokenize_conversation(tok, MULTI_TURN, 10_000)
    runs = [text for flag, text in _segments(tok, ex.input_ids, ex.assistant_mask) if flag == 1]
    assert runs == ["Hello! How can I help?<|end|>", "Rome, since 1871.<|end|>"]


def test_full_sequence_loss_when_assistant_only_is_off(tiny_tokenizer) -> None:
    rows, stats = build_dataset_rows(tiny_tokenizer, [MULTI_TURN], 10_000, assistant_only_loss=False, packing=False)
    assert stats["examples"] == 1 and all(rows[0]["assistant_mask"])


def test_truncation_and_dropping(tiny_tokenizer) -> None:
    prompt_len = len(tokenize_conversation(tiny_tokenizer, MULTI_TURN[:2] + [MULTI_TURN[2]], 10_000).input_ids)
    rows, stats = build_dataset_rows(tiny_tokenizer, [MULTI_TURN], 8, assistant_only_loss=True, packing=False)
    assert rows == [] and stats["dropped"] == 1  # nothing of the assistant survives 8 tokens
    rows, stats = build_dataset_rows(tiny_tokenizer, [MULTI_TURN], prompt_len, assistant_only_loss=True, packing=False)
    assert stats["truncated"] == 1 and len(rows[0]["input_ids"]) == prompt_len


def test_packing_is_complete_and_within_capacity() -> None:
    lengths = [5, 9, 3, 7, 1, 10, 2, 8, 4, 6]
    examples = [TokenizedExample(list(range(100 * i, 100 * i + n)), [1] * n) for i, n in enumerate(lengths)]
    rows = pack_examples(examples, 12)
    assert all(len(r["input_ids"]) <= 12 for r in rows)
    assert sorted(n for r in rows for n in r["seq_lengths"]) == sorted(lengths)
    assert sorted(t for r in rows for t in r["input_ids"]) == sorted(t for e in examples for t in e.input_ids)
    assert len(rows) == 5  # 55 tokens in bins of 12: best fit reaches the lower bound


def test_packed_collator_resets_positions_and_masks_boundaries() -> None:
    row = {"input_ids": [11, 12, 13, 21, 22, 31], "assistant_mask": [0, 1, 1, 1, 1, 1], "seq_lengths": [3, 2, 1]}
    other = {"input_ids": [41, 42], "assistant_mask": [0, 1], "seq_lengths": [2]}
    batch = ChatCollator(pad_token_id=0, packing=True)([row, other])
    assert "attention_mask" not in batch
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0], [0, 1, 0, 1, 2, 3]]
    assert batch["labels"].tolist() == [[-100, 12, 13, -100, 22, -100], [-100, 42, -100, -100, -100, -100]]
    assert int(batch["num_tokens"]) == 8


def test_packed_sequences_do_not_attend_to_each_other(tiny_model, tiny_tokenizer) -> None:
    """The packed forward pass gives the same logits as running each sequence alone."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    model.config.use_cache = False
    a = tokenize_conversation(tiny_tokenizer, MULTI_TURN, 10_000)
    b = tokenize_conversation(tiny_tokenizer, MULTI_TURN[1:3], 10_000)
    rows = pack_examples([a, b], len(a.input_ids) + len(b.input_ids))
    assert len(rows) == 1
    batch = ChatCollator(pad_token_id=tiny_tokenizer.pad_token_id, packing=True)(rows)
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits[0]
        alone_a = model(input_ids=torch.tensor([a.input_ids]), use_cache=False).logits[0]
        alone_b = model(input_ids=torch.tensor([b.input_ids]), use_cache=False).logits[0]
    torch.testing.assert_close(packed, torch.cat([alone_a, alone_b]), atol=1e-4, rtol=1e-4)


def test_bad_training_lines_name_the_file_and_line(tmp_path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
                 '{"messages": [{"role": "robot", "content": "x"}]}\n')
    with pytest.raises(ConfigError, match=r"t.jsonl:2: messages\[0\].role"):
        load_conversations(p)
    p.write_text('{"messages": [{"role": "user", "content": "no answer"}]}\n')
    with pytest.raises(ConfigError, match="no assistant turn"):
        load_conversations(p)
