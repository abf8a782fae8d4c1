"""Teach the demo base model to reply like a generic assistant, offline, in seconds.

A random-weight base answers "Plus Plus Plus…" or nothing, so a blind A/B of base vs
fine-tune is trivial. Before it is saved, the demo model is trained (every weight but the
tied embeddings, which stay random so a fine-tune can still reach tokens the replies never use) to answer
any prompt with one of the polite, generic replies in ``sample_data/general_replies.jsonl``.
The prompts it sees are long and mixed (our own general texts, several at once, behind a few
system prompts) so a support ticket it has never seen still gets a fluent reply: generic but
fluent, where the fine-tuned model is on-task. The tickets themselves are never used here.

Why a 30-line loop and not TRL: this is part of *building* a 1M-parameter fixture (like its
tokenizer), not a user's training run; it must be deterministic (one thread, fixed seeds)
and fast, and only the reply tokens pass through the LM head (left padding +
``logits_to_keep``), which halves the time on a 2-core CPU.
"""

from __future__ import annotations

import json
import random
from typing import Any

from ftui import paths

REPLIES_FILE = "general_replies.jsonl"  # (user prompt, generic reply) pairs we wrote
PROMPT_FILES = ("alpaca_small.jsonl", "sharegpt_small.jsonl")  # extra prompt text only, never their answers
SYSTEM_PROMPTS = (
    None,
    "You are a helpful assistant.",
    "You are a friendly support agent. Answer the customer in a few sentences.",
    "You are an assistant for a software company. Be polite and concise.",
)
# Measured (embeddings frozen, final-norm gain 8): the last batch's loss on the replies is 0.02 at step 180.
PRETRAIN: dict[str, Any] = {"examples": 240, "steps": 180, "batch": 12, "lr": 3e-3, "max_prompt_tokens": 160,
                            "seed": 7}


def _rows(name: str) -> list[dict[str, Any]]:
    path = paths.sample_data(name)
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def reply_pairs() -> list[tuple[str, str]]:
    """(prompt, generic reply) pairs; empty when sample_data/ is not shipped (then no pretraining)."""
    pairs = []
    for row in _rows(REPLIES_FILE):
        messages = row.get("messages") or []
        user = next((m["content"] for m in messages if m.get("role") == "user"), None)
        reply = next((m["content"] for m in messages if m.get("role") == "assistant"), None)
        if user and reply:
            pairs.append((user, reply))
    return pairs


def _prompt_texts(pairs: list[tuple[str, str]]) -> list[str]:
    texts = [user for user, _ in pairs]
    for row in _rows(PROMPT_FILES[0]):
        texts.append(" ".join(str(row.get(k) or "") for k in ("instruction", "input")).strip())
    for row in _rows(PROMPT_FILES[1]):
        texts += [t.get("value", "") for t in row.get("conversations") or [] if t.get("from") == "human"]
    return [t for t in texts if t]


def examples(tokenizer: Any, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """(prompt ids ending in the assistant header, reply ids ending in end-of-turn), deterministic."""
    rng = random.Random(PRETRAIN["seed"])
    texts = _prompt_texts(pairs)
    out = []
    for k in range(PRETRAIN["examples"]):
        user, reply = pairs[k % len(pairs)]
        parts = [user, *rng.sample(texts, min(len(texts), rng.randint(0, 2)))]
        rng.shuffle(parts)
        system = SYSTEM_PROMPTS[k % len(SYSTEM_PROMPTS)]
        conversation = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": " ".join(parts)}]
        prompt = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True,
                                               return_dict=True)["input_ids"]
        answer = tokenizer(reply + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        out.append((list(prompt)[-PRETRAIN["max_prompt_tokens"]:], list(answer)))
    return out


def pretrain(model: Any, tokenizer: Any) -> float | None:
    """Train ``model`` in place on the generic replies; returns the last batch's loss (None: no data)."""
    import torch
    import torch.nn.functional as F

    pairs = reply_pairs()
    if not pairs:
        return None
    data = examples(tokenizer, pairs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # deterministic, and faster than two spinning threads for a model this small
    # The (tied) embeddings stay random: trained here, every token the replies never use (the ticket
    # labels among them) was pushed to a loss of ~15 and LoRA, which cannot touch embeddings, never
    # recovered (test accuracy 0.22 = the label prior). Frozen, those tokens stay at ~ln(vocab).
    embeddings = model.get_input_embeddings().weight
    embeddings.requires_grad_(False)
    try:
        generator = torch.Generator().manual_seed(PRETRAIN["seed"])
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=PRETRAIN["lr"],
                                      weight_decay=0.0)
        pad, batch_size, loss = tokenizer.pad_token_id, PRETRAIN["batch"], None
        model.train()
        for _ in range(PRETRAIN["steps"]):
            batch = [data[i] for i in torch.randint(len(data), (batch_size,), generator=generator).tolist()]
            length = max(len(p) + len(a) for p, a in batch)
            keep = max(len(a) for _, a in batch)
            ids = torch.full((batch_size, length), pad)
            mask = torch.zeros((batch_size, length), dtype=torch.long)
            labels = torch.full((batch_size, keep), -100)
            for row, (prompt, answer) in enumerate(batch):  # left padding: every reply ends at the last position
                seq = prompt + answer
                ids[row, length - len(seq):] = torch.tensor(seq)
                mask[row, length - len(seq):] = 1
                labels[row, keep - len(answer):] = torch.tensor(answer)
            logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep + 1).logits[:, :-1]
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        model.eval()
    finally:
        embeddings.requires_grad_(True)
        torch.set_num_threads(threads)
    return float(loss.detach()) if loss is not None else None
