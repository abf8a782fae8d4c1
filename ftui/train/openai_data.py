"""Turn a training / validation file into OpenAI chat fine-tuning JSONL, or say why not.

OpenAI rejects a file only after the upload and a queue wait, with a terse message;
checking here first turns that into an immediate, row-precise message. Reading and
format detection are the data package's (``ftui.data.source`` / ``ftui.data.formats``:
JSONL, JSON arrays, Parquet; the format by vote), so a row fails here exactly when
``ftui lint`` flags it. Chat rows pass through (only the keys OpenAI accepts are kept);
Alpaca, ShareGPT and prompt-completion rows are converted to chat; preference and
plain-text files are refused with the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.train.openai_client import OpenAIBackendError

MIN_TRAIN_EXAMPLES = 10  # OpenAI refuses fewer
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool")
KEPT_ROW_KEYS = ("messages", "tools", "parallel_tool_calls", "functions")


@dataclass
class PreparedFile:
    source: Path
    path: Path  # the chat JSONL written into the run directory (what gets uploaded)
    examples: int
    converted_from: str  # the detected format: "chat", "alpaca", "sharegpt", "prompt_completion"
    sha256: str  # of the source file, for reproducibility


class _RowError(Exception):
    pass


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise _RowError("`messages` must be a non-empty list")
    for i, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            raise _RowError(f"message {i} is not an object")
        if message.get("role") not in CHAT_ROLES:
            raise _RowError(f"message {i} has role {message.get('role')!r}; OpenAI accepts {', '.join(CHAT_ROLES)}")
        content = message.get("content")
        if content is None and not message.get("tool_calls"):
            raise _RowError(f"message {i} has no content")
        if content is not None and not isinstance(content, (str, list)):
            raise _RowError(f"message {i} content must be text or a list of parts")
    if not any(m["role"] == "assistant" for m in messages):
        raise _RowError("no assistant message to learn from")
    return messages


def _openai_row(conversation: Any, fmt: str) -> dict[str, Any]:
    """A normalised ``Conversation`` as an OpenAI chat row."""
    raw = conversation.raw
    if fmt == "chat" and isinstance(raw, dict):
        # keep the original messages: tool calls, weights and content parts survive untouched
        row = {k: raw[k] for k in KEPT_ROW_KEYS if k in raw}
    else:
        row = {"messages": []}
        for m in conversation.messages:
            message: dict[str, Any] = {"role": m.role, "content": m.content}
            if m.tool_calls:
                message["tool_calls"] = m.tool_calls
            if m.name:
                message["name"] = m.name
            if m.weight is not None:
                message["weight"] = m.weight
            row["messages"].append(message)
    row["messages"] = _check_messages(row.get("messages"))
    return row


def _rows_of(src: Path, info: Any) -> tuple[str, dict[str, str], Iterator[tuple[int, int, Any, Any]]]:
    """The detected format, its labels, and ``(row, offset, conversation, error)`` for every row."""
    from ftui.data.formats import FORMAT_LABELS, detect_format, iter_conversations

    fmt = detect_format(src, info).format
    return fmt, FORMAT_LABELS, iter_conversations(src, fmt)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_openai_file(src: str | Path, dest: Path, field: str, *, min_examples: int = 0,
                        scrub: str | None = None) -> PreparedFile:
    """Validate ``src`` row by row and write its chat form to ``dest``.

    ``scrub`` is a secret (the API key) that must not be copied into the run directory
    even if the data happens to contain it. Raises :class:`OpenAIBackendError` naming
    ``field``, the row and the fix.
    """
    from ftui.data.source import DatasetError, inspect_source

    src = Path(src).expanduser()
    try:
        info = inspect_source(src)
        fmt, labels, rows = _rows_of(src, info)
    except DatasetError as exc:
        raise OpenAIBackendError(f"{field}: {exc}", f"point {field} at a JSONL file of chat rows") from None
    if fmt not in ("chat", "alpaca", "sharegpt", "prompt_completion"):
        raise OpenAIBackendError(
            f"{field}: {src.name} is {labels.get(fmt, fmt)}; OpenAI supervised fine-tuning needs chat rows",
            "give chat `messages` rows (or Alpaca, ShareGPT, prompt-completion, which ftui converts)")
    count = 0
    tmp = dest.with_name(dest.name + ".tmp")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            for row, _offset, conversation, error in rows:
                if error is not None and str(error) == "blank line":
                    continue  # harmless; the uploaded copy has none
                try:
                    if error is not None:
                        raise _RowError(f"{error} ({error.check_id})")
                    text = json.dumps(_openai_row(conversation, fmt), ensure_ascii=False)
                except _RowError as exc:
                    raise OpenAIBackendError(
                        f"{field}: row {row} of {src.name}: {exc}",
                        f"fix row {row} (`ftui lint {src}` lists every problem), or clean the file first") from None
                if scrub and scrub in text:
                    text = text.replace(scrub, "[redacted key]")
                out.write(text + "\n")
                count += 1
    except DatasetError as exc:
        raise OpenAIBackendError(f"{field}: {exc}", f"fix {field}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if count < min_examples:
        tmp.unlink(missing_ok=True)
        raise OpenAIBackendError(
            f"{field}: OpenAI needs at least {min_examples} examples; {src.name} has {count}",
            "add examples (50 to 100 good ones is the usual start) or train locally with method lora",
        )
    tmp.replace(dest)
    return PreparedFile(source=src, path=dest, examples=count, converted_from=fmt, sha256=_sha256(src))
