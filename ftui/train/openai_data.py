"""Turn a training / validation file into OpenAI chat fine-tuning JSONL, or say why not.

OpenAI rejects a file only after the upload and a queue wait, with a terse message;
checking here first turns that into an immediate, row-precise message. Rows that are
already chat ``{"messages": [...]}`` pass through (only the keys OpenAI accepts are
kept); Alpaca, ShareGPT and prompt-completion rows are converted to chat with the
obvious role mapping. Anything else stops the run with the row number.
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
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "model": "assistant", "tool": "tool", "function_response": "tool"}


@dataclass
class PreparedFile:
    source: Path
    path: Path  # the chat JSONL written into the run directory (what gets uploaded)
    examples: int
    converted_from: str  # "chat", "alpaca", "sharegpt", "prompt-completion" or "mixed"
    sha256: str  # of the source file, for reproducibility


class _RowError(Exception):
    pass


def _rows(src: Path, field: str) -> Iterator[tuple[int, str]]:
    try:
        fh = open(src, encoding="utf-8-sig")
    except FileNotFoundError:
        raise OpenAIBackendError(f"{field}: file not found: {src}", f"point {field} at a JSONL file of chat rows") from None
    except IsADirectoryError:
        raise OpenAIBackendError(f"{field}: {src} is a directory", f"point {field} at a JSONL file") from None
    except PermissionError:
        raise OpenAIBackendError(f"{field}: permission denied reading {src}", "make the file readable") from None
    with fh:
        try:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield number, line
        except UnicodeDecodeError:
            raise OpenAIBackendError(f"{field}: {src} is not UTF-8 text", "save the file as UTF-8 JSONL") from None


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise _RowError("`messages` must be a non-empty list")
    for i, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            raise _RowError(f"message {i} is not an object")
        if message.get("role") not in CHAT_ROLES:
            raise _RowError(f"message {i} has role {message.get('role')!r}; expected one of {', '.join(CHAT_ROLES)}")
        content = message.get("content")
        if content is None and not message.get("tool_calls"):
            raise _RowError(f"message {i} has no content")
        if content is not None and not isinstance(content, (str, list)):
            raise _RowError(f"message {i} content must be text or a list of parts")
    if not any(m["role"] == "assistant" for m in messages):
        raise _RowError("no assistant message to learn from")
    return messages


def _to_chat(row: Any) -> tuple[dict[str, Any], str]:
    """One row as an OpenAI chat row, and the format it came in."""
    if not isinstance(row, dict):
        raise _RowError("not a JSON object")
    if "messages" in row:
        return {k: row[k] for k in KEPT_ROW_KEYS if k in row} | {"messages": _check_messages(row["messages"])}, "chat"
    if "instruction" in row and "output" in row:
        prompt = str(row["instruction"])
        if row.get("input"):
            prompt = f"{prompt}\n\n{row['input']}"
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": str(row["output"])}]
        if row.get("system"):
            messages.insert(0, {"role": "system", "content": str(row["system"])})
        return {"messages": messages}, "alpaca"
    if "prompt" in row and "completion" in row and isinstance(row["prompt"], str):
        messages = [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": str(row["completion"])}]
        return {"messages": _check_messages(messages)}, "prompt-completion"
    if isinstance(row.get("conversations"), list):
        messages = []
        for turn in row["conversations"]:
            if not isinstance(turn, dict) or turn.get("from") not in SHAREGPT_ROLES:
                raise _RowError("a ShareGPT turn has an unknown `from`")
            messages.append({"role": SHAREGPT_ROLES[turn["from"]], "content": str(turn.get("value", ""))})
        return {"messages": _check_messages(messages)}, "sharegpt"
    raise _RowError("not chat `messages` (nor Alpaca, ShareGPT or prompt-completion)")


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
    src = Path(src).expanduser()
    formats: set[str] = set()
    count = 0
    tmp = dest.with_name(dest.name + ".tmp")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as out:
        for number, line in _rows(src, field):
            try:
                chat, fmt = _to_chat(json.loads(line))
            except ValueError:
                raise OpenAIBackendError(f"{field}: row {number} of {src.name} is not valid JSON",
                                         f"fix row {number} (run `ftui lint {src}`)") from None
            except _RowError as exc:
                raise OpenAIBackendError(f"{field}: row {number} of {src.name}: {exc}",
                                         f"fix row {number} or convert the file to chat JSONL (run `ftui lint {src}`)"
                                         ) from None
            text = json.dumps(chat, ensure_ascii=False)
            if scrub and scrub in text:
                text = text.replace(scrub, "[redacted key]")
            out.write(text + "\n")
            formats.add(fmt)
            count += 1
    if count < min_examples:
        tmp.unlink(missing_ok=True)
        raise OpenAIBackendError(
            f"{field}: OpenAI needs at least {min_examples} examples; {src.name} has {count}",
            "add examples (50 to 100 good ones is the usual start) or train locally with method lora",
        )
    tmp.replace(dest)
    fmt = formats.pop() if len(formats) == 1 else ("mixed" if formats else "chat")
    return PreparedFile(source=src, path=dest, examples=count, converted_from=fmt, sha256=_sha256(src))
