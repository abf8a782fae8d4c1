"""Training data for the HF backend: any supported file -> a ``datasets.Dataset`` of chats.

Rows are read by ``ftui.data.formats`` (the same reader as the linter's format detection,
the fixes and evaluation), and every conversational format -- chat (``messages``),
ShareGPT, Alpaca, prompt-completion -- becomes chat ``messages``, so the loss can be
restricted to the assistant turns (TRL ``assistant_only_loss``) whatever the file looked
like. Plain ``text`` rows stay language modelling (loss on every token). Rows that cannot
be read are skipped and counted; a file with no usable row is a ``DataError`` naming the file.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.config import RunConfig
from ftui.data import formats
from ftui.data.conversation import Conversation
from ftui.data.source import DatasetError
from ftui.paths import resolve_data_path
from ftui.train.bad_rows import BadRow, scan_file, skips

CHAT_ROLES = ("system", "user", "assistant", "tool")
TRAINABLE = (*formats.CONVERSATIONAL, formats.TEXT)


class DataError(Exception):
    """The dataset cannot be used; the message names the file and the fix."""


@dataclass
class LoadedData:
    rows: list[dict]  # {"messages": [...]} or {"text": ...}
    kind: str  # "chat" or "text"
    skipped: int
    source_format: str  # a ``formats`` name: chat, sharegpt, alpaca, prompt_completion, text
    eval_rows: int = 0  # rows in the eval set actually used
    eval_capped_from: int = 0  # > 0: the eval set had this many rows before eval_max_rows capped it
    lines: list[int] = field(default_factory=list)  # each row's number in the file ('ftui lint' numbering)
    eval_lines: list[int] = field(default_factory=list)  # the same for the eval rows build_datasets kept
    bad_rows: list[BadRow] = field(default_factory=list)  # rows on_bad_rows: skip left out, with why


def example_from(conversation: Conversation, keep_reasoning: bool = True) -> dict | None:
    """One training example in TRL's conversational (or text) shape, or None when it trains nothing.

    ``keep_reasoning`` (``reasoning: keep``, as ``ftui data convert --reasoning``): an assistant
    turn's reasoning travels as ``reasoning_content`` and the chat template decides how it renders
    (Qwen3's in ``<think>``, one without a reasoning branch not at all); False drops it.

    Tool calls, ``tool`` turns and the ``tools`` declarations are kept in the form HF chat
    templates take (``ftui.data.fix.to_chat``), so a tool-calling dataset trains on its calls;
    ``tool_calls`` and ``tools`` travel as JSON text (``chat_template.template_messages``
    decodes them), since an Arrow table would merge every call's arguments into one struct.
    """
    if conversation.source_format == formats.TEXT:
        text = conversation.messages[0].content if conversation.messages else ""
        return {"text": text} if text.strip() else None
    if not any(m.tool_calls or m.role == "tool" for m in conversation.messages) and not conversation.extras.get("tools"):
        messages = [_plain_message(m, keep_reasoning) for m in conversation.messages if m.role in CHAT_ROLES]
        if not any(m["role"] == "assistant" and m["content"].strip() for m in messages):
            return None
        return {"messages": messages}
    return _tool_example(conversation, keep_reasoning)


def _plain_message(m: Any, keep_reasoning: bool) -> dict[str, Any]:
    message = {"role": m.role, "content": m.content}
    if keep_reasoning and m.reasoning and m.role == "assistant":
        message["reasoning_content"] = m.reasoning  # the field chat templates read (ftui.data.fix.to_chat's)
    return message


def _tool_example(conversation: Conversation, keep_reasoning: bool = True) -> dict | None:
    import json

    from ftui.data.fix import to_chat

    row = to_chat(conversation, keep_reasoning=keep_reasoning)
    messages = []
    for out, original in zip(row["messages"], conversation.messages, strict=True):
        if original.role not in CHAT_ROLES:
            continue
        content = out.get("content")
        message: dict[str, Any] = {"role": original.role, "content": content if isinstance(content, str) else
                                   ("" if content is None else original.content)}
        calls = out.get("tool_calls")
        message["tool_calls"] = json.dumps([_hf_call(c) for c in calls]) if calls else None
        message["name"] = out.get("name")
        message["tool_call_id"] = out.get("tool_call_id")
        if out.get("reasoning_content"):
            message["reasoning_content"] = out["reasoning_content"]
        messages.append(message)
    if not any(m["role"] == "assistant" and (m["content"].strip() or m["tool_calls"]) for m in messages):
        return None
    tools = row.get("tools")
    return {"messages": messages, "tools": json.dumps(tools) if tools else None}


def _hf_call(call: Any) -> Any:
    """A tool call as HF templates read it: ``{"type": "function", "function": {"name", "arguments": {...}}}``."""
    import json

    if not isinstance(call, dict):
        return call
    function = call.get("function") if isinstance(call.get("function"), dict) else call
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass  # the linter names arguments that are not JSON (E011)
    return {"type": "function", "function": {"name": function.get("name"), "arguments": arguments}}


def to_example(row: Any, fmt: str, keep_reasoning: bool = True) -> dict | None:
    """One parsed row of format ``fmt`` as a training example, or None if unusable."""
    fmt = formats.canonical_format(fmt)
    if fmt not in TRAINABLE:
        raise DataError(f"unknown data_format '{fmt}'; use {_format_names()}.")
    try:
        return example_from(formats.normalize(row, fmt, 0, 0), keep_reasoning)
    except formats.FormatError:
        return None


def _format_names() -> str:
    return ", ".join(TRAINABLE[:-1]) + f" or {TRAINABLE[-1]}"


def _file_format(path: Path, data_format: str) -> str:
    """The format to read ``path`` as: ``data_format``, or the file's own by vote when ``auto``."""
    if data_format != "auto":
        fmt = formats.canonical_format(data_format)
        if fmt not in TRAINABLE:
            raise DataError(f"unknown data_format '{data_format}'; use auto, {_format_names()}.")
        return fmt
    try:
        fmt = formats.detect_format(path).format
    except DatasetError as exc:
        raise DataError(str(exc)) from None
    if fmt == formats.PREFERENCE:
        raise DataError(f"{path.name} holds preference data (prompt/chosen/rejected), not SFT rows; "
                        "give chat, Alpaca, ShareGPT, prompt-completion or text rows.")
    if fmt not in TRAINABLE:
        raise DataError(f"cannot tell the format of {path.name} from its rows; set data_format ({_format_names()}).")
    return fmt


def _examples(path: Path, fmt: str, keep_reasoning: bool = True) -> Iterator[tuple[int, dict | None]]:
    """Each row of ``path`` as (row number, example), the example None for a row that cannot be used."""
    try:
        for row, _offset, conversation, _error in formats.iter_conversations(path, fmt):
            yield row, example_from(conversation, keep_reasoning) if conversation is not None else None
    except DatasetError as exc:
        raise DataError(str(exc)) from None


def _existing(path_value: str) -> Path:
    path = resolve_data_path(path_value)
    if path is None or not path.is_file():
        raise DataError(f"dataset {path_value} does not exist; fix train_path/eval_path.")
    return path


def load_examples(path_value: str, data_format: str = "auto", skip_bad: bool = False, dataset: str = "train",
                  keep_reasoning: bool = True, max_seq_len: int | None = None) -> LoadedData:
    """Every usable example of a file (rows without an assistant answer are skipped and counted).

    ``skip_bad`` (``on_bad_rows: skip``): the rows the linter finds an error in are left out
    too, and every row left out is listed in ``bad_rows`` with its number and why.
    """
    path = _existing(path_value)
    fmt = _file_format(path, data_format)
    bad = _lint_bad_rows(path, max_seq_len) if skip_bad else {}
    loaded = LoadedData(rows=[], kind="text" if fmt == formats.TEXT else "chat", skipped=0, source_format=fmt)
    for row, example in _examples(path, fmt, keep_reasoning):
        if example is None or row in bad:
            loaded.skipped += 1
            if skip_bad:
                loaded.bad_rows.append(BadRow(row, bad.get(row) or "no usable assistant answer", dataset))
            continue
        loaded.rows.append(example)
        loaded.lines.append(row)
    if not loaded.rows and bad:
        first = loaded.bad_rows[0]
        raise DataError(f"every row of {path.name} would be skipped (on_bad_rows: skip), nothing is left to train: "
                        f"row {first.row}: {first.reason}; fix the rows (see 'ftui lint') or pick another file.")
    if not loaded.rows:
        raise DataError(f"no usable {fmt} rows in {path.name} (each needs an assistant answer); check data_format or run 'ftui lint'.")
    if any("tools" in row for row in loaded.rows):  # one shape for every row: an Arrow table takes its columns from the first
        for row in loaded.rows:
            row.setdefault("tools", None)
    return loaded


def _lint_bad_rows(path: Path, max_seq_len: int | None = None) -> dict[int, str]:
    """Row number -> the linter's first error in it (empty when the linter cannot read the file: the loader reports it)."""
    try:
        return scan_file(path, max_seq_len).rows
    except Exception:  # noqa: BLE001 - the reader below names an unreadable file in its own words
        return {}


def sample_examples(path_value: str, data_format: str = "auto", limit: int = 64, keep_reasoning: bool = True) -> LoadedData:
    """The first ``limit`` usable examples of a file, read from its head only (validation's masking check).

    Same reader as ``load_examples``, so the sample is what training will see.
    """
    path = _existing(path_value)
    fmt = _file_format(path, data_format)
    rows: list[dict] = []
    seen = 0
    for _row, example in itertools.islice(_examples(path, fmt, keep_reasoning), limit * 4):
        seen += 1
        if example is not None:
            rows.append(example)
        if len(rows) >= limit:
            break
    return LoadedData(rows=rows, kind="text" if fmt == formats.TEXT else "chat", skipped=seen - len(rows), source_format=fmt)


def keeps_reasoning(config: RunConfig) -> bool:
    """``reasoning: keep`` (the default, as ``ftui data convert``'s): reasoning reaches the chat template."""
    return getattr(config, "reasoning", "keep") != "drop"


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
    """(train Dataset, eval Dataset or None, what was loaded); eval is held out when no eval_path is set.

    ``loaded.lines`` / ``loaded.eval_lines`` keep each kept row's number in its file, in the
    Datasets' order, so a row refused later (by the chat template) is named by its real row.
    """
    from datasets import Dataset

    skip = skips(config)
    keep = keeps_reasoning(config)
    train = load_examples(config.train_path, config.data_format, skip_bad=skip, keep_reasoning=keep,
                          max_seq_len=config.max_seq_len)
    train_rows, train_lines = train.rows, train.lines
    cap = max(0, int(getattr(config, "eval_max_rows", 0) or 0))  # 0 = evaluate on every row
    eval_rows: list[dict] | None = None
    eval_lines: list[int] = []
    if config.eval_path:
        evaluation = load_examples(config.eval_path, config.data_format, skip_bad=skip, dataset="eval", keep_reasoning=keep,
                                   max_seq_len=config.max_seq_len)
        if evaluation.kind != train.kind:
            raise DataError("train and eval files have different formats (chat vs text); convert one of them.")
        train.bad_rows.extend(evaluation.bad_rows)
        eval_rows, eval_lines = evaluation.rows, evaluation.lines
        if cap and len(eval_rows) > cap:
            train.eval_capped_from = len(eval_rows)
            keep = sorted(random.Random(config.seed).sample(range(len(eval_rows)), cap))  # file order kept
            eval_rows, eval_lines = [eval_rows[i] for i in keep], [eval_lines[i] for i in keep]
    elif config.eval_fraction > 0 and len(train_rows) >= 10:
        order = list(range(len(train_rows)))
        random.Random(config.seed).shuffle(order)
        n_eval = max(1, int(len(order) * config.eval_fraction))
        if cap and n_eval > cap:
            # the rows past the cap stay in training rather than being held out for nothing
            train.eval_capped_from, n_eval = n_eval, cap
        eval_rows, eval_lines = [train_rows[i] for i in order[:n_eval]], [train_lines[i] for i in order[:n_eval]]
        train_rows, train_lines = [train_rows[i] for i in order[n_eval:]], [train_lines[i] for i in order[n_eval:]]
    train.eval_rows = len(eval_rows or ())
    train.lines, train.eval_lines = train_lines, eval_lines
    train_ds = Dataset.from_list(train_rows)
    eval_ds = Dataset.from_list(eval_rows) if eval_rows else None
    return train_ds, eval_ds, train
