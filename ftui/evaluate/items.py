"""Test items: the prompt a system answers and the reference it is scored against.

A test file is JSONL in any of the shapes ftui reads elsewhere: chat ``messages`` (the last
assistant turn is the reference, everything before it the prompt), ``prompt``/``completion``
(or ``reference``/``response``), or Alpaca ``instruction``/``input``/``output``. An ``id``
field is used when present, otherwise ``row-N`` (1-based line number).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


class ItemsError(ValueError):
    """A test file cannot be read; the message says which line and how to fix it."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    messages: tuple[dict[str, str], ...]  # the prompt: system/user(/assistant few-shot) turns, no final answer
    reference: str | None = None

    @property
    def prompt_text(self) -> str:
        """The last user turn (what a rater reads as "the prompt")."""
        for m in reversed(self.messages):
            if m["role"] == "user":
                return m["content"]
        return self.messages[-1]["content"] if self.messages else ""

    @property
    def system_text(self) -> str | None:
        return next((m["content"] for m in self.messages if m["role"] == "system"), None)

    def key(self) -> str:
        """Content hash of the prompt: the cache key of a generation (ids can be renumbered, content can't lie)."""
        blob = json.dumps(self.messages, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"id": self.id, "messages": list(self.messages), "reference": self.reference}

    @classmethod
    def from_dict(cls, data: dict) -> EvalItem:
        return cls(str(data["id"]), tuple(dict(m) for m in data["messages"]), data.get("reference"))


def item_from_row(row: dict, number: int) -> EvalItem:
    """Build an item from one parsed JSONL row (see the module docstring for accepted shapes)."""
    item_id = str(row.get("id", f"row-{number}"))
    if isinstance(row.get("messages"), list):
        msgs = [{"role": str(m.get("role", "")), "content": _text(m.get("content"))}
                for m in row["messages"] if isinstance(m, dict)]
        last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
        if last is not None and last == len(msgs) - 1:
            return EvalItem(item_id, tuple(msgs[:last]), msgs[last]["content"])
        return EvalItem(item_id, tuple(msgs), row.get("reference"))
    if "instruction" in row:
        prompt = str(row["instruction"])
        if row.get("input"):
            prompt += "\n\n" + str(row["input"])
        return EvalItem(item_id, ({"role": "user", "content": prompt},), row.get("output"))
    if "prompt" in row:
        ref = row.get("completion", row.get("reference", row.get("response")))
        return EvalItem(item_id, ({"role": "user", "content": _text(row["prompt"])},), None if ref is None else _text(ref))
    raise ItemsError(f"line {number}: no 'messages', 'prompt' or 'instruction' field. "
                     "Give chat rows ({\"messages\": [...]}) or prompt/completion rows.")


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def load_items(path: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Read a test file into items; raises ItemsError with the line number on a bad row."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise ItemsError(f"test file {p} is a directory. Give the path of a .jsonl file inside it.")
    if not p.is_file():
        raise ItemsError(f"test file {p} does not exist. Give the path of a .jsonl test split.")
    items: list[EvalItem] = []
    seen: set[str] = set()
    with p.open("r", encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ItemsError(f"{p.name} line {number} is not valid JSON ({exc.msg}). Fix or remove that line.") from None
            if not isinstance(row, dict):
                raise ItemsError(f"{p.name} line {number} is not a JSON object. Each line must be one object.")
            item = item_from_row(row, number)
            if item.id in seen:
                raise ItemsError(f"{p.name} line {number}: duplicate id {item.id!r}. Ids must be unique.")
            seen.add(item.id)
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
    if not items:
        raise ItemsError(f"{p.name} has no rows. Give a non-empty test split.")
    return items


def file_hash(path: str | Path) -> str:
    """sha256 (16 hex) of a file's bytes: part of the generation cache key."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]
