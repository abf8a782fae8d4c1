"""Test items: the prompt a system answers and the reference it is scored against.

A test file is read by ``ftui.data.formats``, the reader training and the linter use: JSONL
or a JSON array, each row chat ``messages``, ShareGPT ``conversations``, ``prompt``/``completion``
or Alpaca ``instruction``/``input``/``output`` (rows may mix shapes). The last assistant turn,
when it ends the row, is the reference and everything before it the prompt; a row without an
answer may give its reference as ``reference`` (or ``completion``/``response``/``output``). An
``id`` field is used when present, otherwise ``row-N`` (1-based line number).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ftui.data import formats
from ftui.data.conversation import Conversation
from ftui.data.source import DatasetError


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


REFERENCE_KEYS = ("reference", "completion", "response", "output")
ITEM_FORMATS = formats.CONVERSATIONAL


def item_from_conversation(conversation: Conversation) -> EvalItem:
    """An item from one row as ``formats`` reads it (see the module docstring)."""
    raw = conversation.raw if isinstance(conversation.raw, dict) else {}
    item_id = str(raw.get("id", f"row-{conversation.row}"))
    msgs = [{"role": m.role, "content": m.content} for m in conversation.messages]
    if msgs and msgs[-1]["role"] == "assistant":
        return EvalItem(item_id, tuple(msgs[:-1]), msgs[-1]["content"])
    ref = next((raw[k] for k in REFERENCE_KEYS if raw.get(k) is not None), None)
    return EvalItem(item_id, tuple(msgs), None if ref is None else formats.flatten_content(ref) if isinstance(ref, (str, list)) else str(ref))


def _row_error(name: str, row: int, error: formats.FormatError) -> ItemsError:
    if error.check_id == "E002":
        return ItemsError(f"{name} line {row} is not valid JSON ({error}). Fix or remove that line.")
    if error.check_id == "E003":
        return ItemsError(f"{name} line {row} is not a JSON object. Each line must be one object.")
    if error.check_id == "E004":
        return ItemsError(f"{name} line {row}: no 'messages', 'conversations', 'prompt' or 'instruction' field. "
                          "Give chat rows ({\"messages\": [...]}) or prompt/completion rows.")
    return ItemsError(f"{name} line {row}: {error}. Fix or remove that line.")


def _preference_error(path: Path) -> ItemsError | None:
    """A preference file given as a test split: say so, not "no 'messages' field" on its first line."""
    try:
        if formats.detect_format(path).format != formats.PREFERENCE:
            return None
    except DatasetError:
        return None
    return ItemsError(f"{path.name} holds preference data (chosen/rejected pairs or labelled answers), not test items "
                      "with one reference answer. Give a test split of chat or prompt/completion rows; for a DPO, ORPO "
                      "or KTO run, the SFT test split of the same task (the demo pairs: sample_data/support_tickets_test.jsonl).")


def load_items(path: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Read a test file into items; raises ItemsError with the line number on a bad row."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise ItemsError(f"test file {p} is a directory. Give the path of a .jsonl file inside it.")
    if not p.is_file():
        raise ItemsError(f"test file {p} does not exist. Give the path of a .jsonl test split.")
    items: list[EvalItem] = []
    seen: set[str] = set()
    try:
        for row, _offset, conversation, error in formats.iter_conversations(p, each_row=True, open_ended=True):
            if conversation is None:
                assert error is not None
                if str(error) == formats.BLANK_LINE:
                    continue
                raise _preference_error(p) or _row_error(p.name, row, error)
            if conversation.source_format not in ITEM_FORMATS:
                raise _preference_error(p) or _row_error(p.name, row, formats.FormatError("E004", "not a test item"))
            item = item_from_conversation(conversation)
            if item.id in seen:
                raise ItemsError(f"{p.name} line {row}: duplicate id {item.id!r}. Ids must be unique.")
            seen.add(item.id)
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
    except DatasetError as exc:
        raise ItemsError(str(exc)) from None
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
