"""Training data for the HF backend: any supported file -> a ``datasets.Dataset`` of chats.

Every format is converted to chat ``messages`` first, so the loss can be restricted to
the assistant turns (TRL ``assistant_only_loss``) whatever the file looked like:
chat (``messages``), ShareGPT (``conversations`` with from/value), Alpaca
(instruction/input/output) and prompt-completion. Plain ``text`` rows stay language
modelling (loss on every token). Rows that cannot be read are skipped and counted; a
file with no usable row is a ``TrainError`` naming the file.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.config import RunConfig, resolve_data_path

SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system",
                  "model": "assistant", "bot": "assistant"}
CHAT_ROLES = ("system", "user", "assistant")


class DataError(Exception):
    """The dataset cannot be used; the message names the file and the fix."""


@dataclass
class LoadedData:
    rows: list[dict]  # {"messages": [...]} or {"text": ...}
    kind: str  # "chat" or "text"
    skipped: int
    source_format: str
    eval_rows: int = 0  # rows in the eval set actually used
    eval_capped_from: int = 0  # > 0: the eval set had this many rows before eval_max_rows capped it


def read_rows(path: Path) -> list[Any]:
    """Rows of a JSONL file (or a JSON array file); undecodable lines become ``None``."""
    text = path.read_text(encoding="utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError:
            raise DataError(f"{path.name} starts like a JSON array but is not valid JSON; fix it or use JSONL.") from None
        return list(data)
    rows: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            rows.append(None)
    return rows


def detect_format(rows: list[Any]) -> str:
    for row in rows[:50]:
        if not isinstance(row, dict):
            continue
        if isinstance(row.get("messages"), list):
            return "chat"
        if isinstance(row.get("conversations"), list):
            return "sharegpt"
        if "instruction" in row and "output" in row:
            return "alpaca"
        if "prompt" in row and "completion" in row:
            return "prompt-completion"
        if isinstance(row.get("text"), str):
            return "text"
    raise DataError("cannot tell the dataset format from its first rows; set data_format (chat, alpaca, sharegpt, prompt-completion, text).")


def _content(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # OpenAI content parts
        texts = [p.get("text") for p in value if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "".join(texts) if texts else None
    return None


def to_example(row: Any, fmt: str) -> dict | None:
    """One training example in TRL's conversational (or text) shape, or None if unusable."""
    if not isinstance(row, dict):
        return None
    messages: list[dict[str, str]] = []
    if fmt == "chat":
        for m in row.get("messages") or []:
            if not isinstance(m, dict) or m.get("role") not in CHAT_ROLES:
                continue
            content = _content(m.get("content"))
            if content is None:
                continue
            messages.append({"role": m["role"], "content": content})
    elif fmt == "sharegpt":
        for m in row.get("conversations") or []:
            if not isinstance(m, dict):
                continue
            role = SHAREGPT_ROLES.get(str(m.get("from", "")).lower())
            content = _content(m.get("value"))
            if role and content is not None:
                messages.append({"role": role, "content": content})
    elif fmt == "alpaca":
        instruction, extra, output = row.get("instruction"), row.get("input"), row.get("output")
        if not isinstance(instruction, str) or not isinstance(output, str):
            return None
        if row.get("system"):
            messages.append({"role": "system", "content": str(row["system"])})
        prompt = instruction if not extra else f"{instruction}\n\n{extra}"
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    elif fmt == "prompt-completion":
        prompt, completion = row.get("prompt"), row.get("completion")
        if isinstance(prompt, list) and isinstance(completion, list):  # conversational prompt-completion
            return to_example({"messages": prompt + completion}, "chat")
        if not isinstance(prompt, str) or not isinstance(completion, str):
            return None
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    elif fmt == "text":
        text = row.get("text")
        return {"text": text} if isinstance(text, str) and text.strip() else None
    else:
        raise DataError(f"unknown data_format '{fmt}'; use chat, alpaca, sharegpt, prompt-completion or text.")
    if not any(m["role"] == "assistant" and m["content"].strip() for m in messages):
        return None
    return {"messages": messages}


_SHARED_FORMATS = {"chat": "chat", "sharegpt": "sharegpt", "alpaca": "alpaca", "prompt-completion": "prompt_completion"}


def _from_conversation(conversation: Any) -> dict | None:
    messages = [
        {"role": m.role, "content": m.content}
        for m in conversation.messages
        if m.role in CHAT_ROLES and isinstance(m.content, str)
    ]
    if not any(m["role"] == "assistant" and m["content"].strip() for m in messages):
        return None
    return {"messages": messages}


def _load_with_shared_normaliser(path: Path, data_format: str) -> LoadedData | None:
    """Use ftui.data.formats (the same normaliser as the linter and the Data screen) for chat-like formats."""
    try:
        from ftui.data import formats as shared
    except ImportError:
        return None
    try:
        fmt = _SHARED_FORMATS.get(data_format) if data_format != "auto" else shared.detect_format(path).format
    except Exception:  # noqa: BLE001 - fall back to the local reader, which reports its own errors
        return None
    if fmt not in _SHARED_FORMATS.values():
        return None
    rows: list[dict] = []
    skipped = 0
    for _row, _offset, conversation, _error in shared.iter_conversations(path, fmt):
        example = _from_conversation(conversation) if conversation is not None else None
        if example is None:
            skipped += 1
        else:
            rows.append(example)
    if not rows:
        raise DataError(f"no usable {fmt} rows in {path.name} (each needs an assistant answer); check data_format or run 'ftui lint'.")
    label = next(k for k, v in _SHARED_FORMATS.items() if v == fmt)
    return LoadedData(rows=rows, kind="chat", skipped=skipped, source_format=label)


def load_examples(path_value: str, data_format: str = "auto") -> LoadedData:
    path = resolve_data_path(path_value)
    if path is None or not path.is_file():
        raise DataError(f"dataset {path_value} does not exist; fix train_path/eval_path.")
    if data_format != "text":
        shared = _load_with_shared_normaliser(path, data_format)
        if shared is not None:
            return shared
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path.name} has no rows; point the config at a dataset with examples.")
    fmt = detect_format(rows) if data_format == "auto" else data_format
    examples = [to_example(r, fmt) for r in rows]
    usable = [e for e in examples if e is not None]
    if not usable:
        raise DataError(f"no usable {fmt} rows in {path.name} (each needs an assistant answer); check data_format or run 'ftui lint'.")
    return LoadedData(rows=usable, kind="text" if fmt == "text" else "chat", skipped=len(rows) - len(usable), source_format=fmt)


def sample_examples(path_value: str, data_format: str = "auto", limit: int = 64) -> LoadedData:
    """The first ``limit`` usable examples of a file, read from its head only (validation's masking check).

    Same normalisation as ``load_examples``, so the sample is what training will see.
    """
    import itertools

    path = resolve_data_path(path_value)
    if path is None or not path.is_file():
        raise DataError(f"dataset {path_value} does not exist; fix train_path/eval_path.")
    if data_format != "text":
        try:
            from ftui.data import formats as shared

            fmt = _SHARED_FORMATS.get(data_format) if data_format != "auto" else shared.detect_format(path).format
        except Exception:  # noqa: BLE001 - fall back to the local reader below
            fmt = None
        if fmt in _SHARED_FORMATS.values():
            rows: list[dict] = []
            seen = 0
            for _row, _offset, conversation, _error in itertools.islice(shared.iter_conversations(path, fmt), limit * 4):
                seen += 1
                example = _from_conversation(conversation) if conversation is not None else None
                if example is not None:
                    rows.append(example)
                if len(rows) >= limit:
                    break
            label = next(k for k, v in _SHARED_FORMATS.items() if v == fmt)
            return LoadedData(rows=rows, kind="chat", skipped=seen - len(rows), source_format=label)
    head: list[Any] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.read(1 << 20)
    if first.lstrip().startswith("["):
        head = read_rows(path)[: limit * 4]
    else:
        for line in first.splitlines()[: limit * 4]:
            try:
                head.append(json.loads(line) if line.strip() else None)
            except ValueError:
                head.append(None)
    fmt = detect_format(head) if data_format == "auto" else data_format
    usable = [e for e in (to_example(r, fmt) for r in head) if e is not None][:limit]
    return LoadedData(rows=usable, kind="text" if fmt == "text" else "chat", skipped=len(head) - len(usable), source_format=fmt)


def eval_cap_note(config: RunConfig, loaded: LoadedData) -> str | None:
    """The run-log line when ``eval_max_rows`` capped the eval set, else None."""
    if not loaded.eval_capped_from:
        return None
    if config.eval_path:
        return f"eval on {loaded.eval_rows:,} of {loaded.eval_capped_from:,} rows (a seeded sample); set eval_max_rows to change"
    back = loaded.eval_capped_from - loaded.eval_rows
    return (f"eval on {loaded.eval_rows:,} of the {loaded.eval_capped_from:,} rows eval_fraction would hold out; "
            f"the other {back:,} stay in training; set eval_max_rows to change")


def build_datasets(config: RunConfig) -> tuple[Any, Any | None, LoadedData]:
    """(train Dataset, eval Dataset or None, what was loaded); eval is held out when no eval_path is set."""
    from datasets import Dataset

    train = load_examples(config.train_path, config.data_format)
    train_rows = train.rows
    cap = max(0, int(getattr(config, "eval_max_rows", 0) or 0))  # 0 = evaluate on every row
    eval_rows: list[dict] | None = None
    if config.eval_path:
        evaluation = load_examples(config.eval_path, config.data_format)
        if evaluation.kind != train.kind:
            raise DataError("train and eval files have different formats (chat vs text); convert one of them.")
        eval_rows = evaluation.rows
        if cap and len(eval_rows) > cap:
            train.eval_capped_from = len(eval_rows)
            keep = sorted(random.Random(config.seed).sample(range(len(eval_rows)), cap))  # file order kept
            eval_rows = [eval_rows[i] for i in keep]
    elif config.eval_fraction > 0 and len(train_rows) >= 10:
        shuffled = list(train_rows)
        random.Random(config.seed).shuffle(shuffled)
        n_eval = max(1, int(len(shuffled) * config.eval_fraction))
        if cap and n_eval > cap:
            # the rows past the cap stay in training rather than being held out for nothing
            train.eval_capped_from, n_eval = n_eval, cap
        eval_rows, train_rows = shuffled[:n_eval], shuffled[n_eval:]
    train.eval_rows = len(eval_rows or ())
    train_ds = Dataset.from_list(train_rows)
    eval_ds = Dataset.from_list(eval_rows) if eval_rows else None
    return train_ds, eval_ds, train
