"""Generate the bad-input corpus (issue 18) into a directory: every kind of hostile or broken
dataset file we know of, small enough to write in well under a second (the 60 MB line aside).

    python -m tests.corpus.make_corpus OUT_DIR      # prints one line per entry: name, path, expect

Nothing large is committed: this script is the corpus. Each entry says what a user must see:
``expect`` is "usable" (lint and train --check may warn but the file can be trained on) or
"unusable" (every command exits 2 with one readable message). ``words`` lists text that message
must contain (any of them), so a test fails when a file gets a generic or wrong message.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    name: str
    path: Path
    expect: str  # "usable" | "unusable"
    words: tuple[str, ...] = ()  # one of these appears in the message (case-insensitive)
    kinds: set[str] = field(default_factory=lambda: {"lint", "check", "stats"})  # commands it runs through


def _row(user: str = "What is 2+2?", assistant: str = "4") -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def _jsonl(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)


GOOD = [_row(f"question {k}: what is {k}+{k}?", str(2 * k)) for k in range(12)]


def make(out: Path, big: bool = True, write: bool = True) -> list[Entry]:
    """Write the corpus under ``out`` and return its entries. ``big``: include the 60 MB line.
    ``write=False``: only the entries of a corpus written before (nothing touches the disk)."""
    if not write:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:  # build the list against a throw-away copy
            return [Entry(e.name, e.path if e.path.is_absolute() and not str(e.path).startswith(scratch)
                          else out / e.name, e.expect, e.words, e.kinds) for e in make(Path(scratch), big=False)] + \
                ([Entry("line_60mb.jsonl", out / "line_60mb.jsonl", "usable")] if big else [])
    out.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []

    def add(name: str, data: bytes | None, expect: str, *words: str, kinds: set[str] | None = None) -> Path:
        path = out / name
        if data is not None:
            path.write_bytes(data)
        entries.append(Entry(name, path, expect, words, kinds or {"lint", "check", "stats"}))
        return path

    good = _jsonl(GOOD)
    # --- what the file system can hand us -----------------------------------------------------
    add("missing.jsonl", None, "unusable", "does not exist")
    (out / "a_directory").mkdir(exist_ok=True)
    add("a_directory", None, "unusable", "directory")
    add("empty.jsonl", b"", "unusable", "empty")
    add("blank_only.jsonl", b"\n \n\t\n" * 10, "unusable", "empty", "blank", "whitespace")
    os.mkfifo(out / "fifo.jsonl")
    add("fifo.jsonl", None, "unusable", "fifo", "pipe", "not a regular file")
    entries.append(Entry("dev_zero", Path("/dev/zero"), "unusable", ("device", "not a regular file")))
    loop = out / "loop.jsonl"
    loop2 = out / "loop2.jsonl"
    loop.symlink_to(loop2)
    loop2.symlink_to(loop)
    add("loop.jsonl", None, "unusable", "symlink", "loop", "link")
    (out / "dangling.jsonl").symlink_to(out / "nowhere.jsonl")
    add("dangling.jsonl", None, "unusable", "dangling", "link", "points to")
    if os.geteuid() != 0:  # root reads a chmod 000 file: tests/corpus/test_corpus.py refuses open() instead
        unreadable = add("unreadable.jsonl", good, "unusable", "permission", "cannot read", "not readable")
        unreadable.chmod(0)
    # --- bytes that are not UTF-8 JSON lines -------------------------------------------------------
    add("binary.jsonl", bytes(range(256)) * 64, "unusable", "binary", "not text", "utf-8", "not valid json")
    add("gzipped.jsonl", gzip.compress(good), "unusable", "gzip", "compressed")
    add("utf16.jsonl", good.decode().encode("utf-16"), "unusable", "utf-16")
    add("latin1.jsonl", _jsonl([_row("caf\u00e9 cr\u00e8me", "ja")] * 12).decode().encode("latin-1"), "unusable",
        "utf-8", "latin", "encoding")
    add("bom.jsonl", b"\xef\xbb\xbf" + good, "usable")
    add("crlf.jsonl", good.replace(b"\n", b"\r\n"), "usable")
    add("cr_only.jsonl", good.replace(b"\n", b"\r"), "unusable", "carriage return", "cr line", "\\r")
    add("nul.jsonl", good[:200] + b"\x00" * 64 + good[200:], "unusable", "nul", "binary")
    add("truncated.jsonl", good[: len(good) - 20], "usable")
    add("blank_64k_then_rows.jsonl", b"\n" * 70_000 + good, "usable")
    if big:
        add("line_60mb.jsonl", json.dumps(_row("x" * 60_000_000, "ok")).encode() + b"\n" + good, "usable")
    # --- JSON that is not rows -----------------------------------------------------------------
    add("deep_nesting.jsonl", b'{"messages": ' + b"[" * 10_000 + b"]" * 10_000 + b"}\n" + good, "usable")
    add("json_array.json", json.dumps(GOOD).encode(), "usable")
    add("scalar.jsonl", b"42\n" * 12, "unusable", "not a json object", "object", "rows")
    add("pretty_object.json", json.dumps({"data": GOOD}, indent=2).encode(), "unusable", "pretty-printed",
        "one json object", "single json object")
    add("huge_numbers.jsonl", good + b'{"messages": [], "n": ' + b"9" * 5000 + b"}\n", "usable")
    add("nan.jsonl", good + b'{"messages": NaN}\n', "usable")
    add("duplicate_keys.jsonl", good + b'{"messages": [], "messages": 3}\n', "usable")
    add("wrong_types.jsonl", _jsonl([{"messages": "hello"}, {"messages": [{"role": 1, "content": None}]}] * 6),
        "unusable", "messages", "role", "content")
    add("turns_100k.jsonl", _jsonl([{"messages": [{"role": r, "content": "hi"} for r in ("user", "assistant") * 50_000]}] + GOOD),
        "usable", kinds={"lint", "stats"})
    add("unicode_tricks.jsonl", _jsonl([_row("emoji \U0001f600 rtl \u202e\u05d0\u05d1 zero\u200bwidth", "ok \u2066x\u2069")] * 12),
        "usable")
    add("markup_escapes.jsonl", _jsonl([_row("[bold red]x[/] \x1b]0;pwned\x07 \x1b[31mred", "[link=http://x]y[/link]")] * 12),
        "usable")
    # --- containers ------------------------------------------------------------------------------
    add("corrupt.parquet", b"PAR1" + os.urandom(500) + b"PAR1", "unusable", "parquet")
    dd_list = out / "dd_list"
    dd_list.mkdir(exist_ok=True)
    (dd_list / "dataset_dict.json").write_text('["train", "test"]')
    add("dd_list", None, "unusable", "dataset_dict.json")
    dd_str = out / "dd_str"
    dd_str.mkdir(exist_ok=True)
    (dd_str / "dataset_dict.json").write_text('{"splits": "train"}')
    add("dd_str", None, "unusable", "dataset_dict.json", "DatasetDict")
    return entries


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus_out")
    for e in make(target, big="--no-big" not in sys.argv):
        print(f"{e.name}\t{e.path}\t{e.expect}")
