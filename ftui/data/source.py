"""Open a dataset file safely: file-level checks, then raw rows as bytes.

Two layers of "bad input" exist, and this module draws the line between them:

- **File level** — the file cannot be read as a dataset at all (missing, a directory,
  no permission, empty, binary, a JSON array too big to parse whole). ``inspect_source``
  raises :class:`DatasetError` whose message is ONE line saying what is wrong and how to
  fix it. The CLI prints it (exit 2); the TUI shows it on screen.
- **Row level** — a row is bad but the file is usable (non-UTF-8 bytes, a line that is
  not JSON, a truncated last line, a 50 MB line). ``iter_raw_rows`` never raises for
  these: it yields the row's raw bytes with flags (``truncated``, ``no_newline``,
  ``crlf``) and the linter turns them into findings that point at the row.

Usage::

    info = inspect_source(path)            # raises DatasetError (file level)
    for raw in iter_raw_rows(path):        # bytes, never decoded here
        obj = orjson.loads(raw.data)       # may fail -> a row-level finding

Memory: JSONL is streamed in ``CHUNK_BYTES`` chunks; a line longer than
``max_row_bytes`` is cut (``truncated=True``, ``size`` still gives its full length) and
the rest of it is skipped without being held. A JSON-array file is read whole only up
to ``JSON_ARRAY_MAX_BYTES``; above that the fix is "convert to JSONL". Parquet files and
saved Hugging Face dataset directories are read with pyarrow, batch by batch.
"""

from __future__ import annotations

import difflib
import errno
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK_BYTES = 1 << 20
# A longer line is cut: nobody trains on a 16 MB example, and holding it costs memory.
DEFAULT_MAX_ROW_BYTES = 16 << 20
# JSON arrays must be read whole to find element boundaries; above this, ask for JSONL.
JSON_ARRAY_MAX_BYTES = 256 << 20
SNIFF_BYTES = 64 << 10
BOM = b"\xef\xbb\xbf"

_MAGIC = {
    b"\x1f\x8b": ("gzip-compressed", "decompress it first: gunzip -k {path}"),
    b"PK\x03\x04": ("a zip archive", "unzip it and open the .jsonl inside"),
    b"BZh": ("bzip2-compressed", "decompress it first: bunzip2 -k {path}"),
    b"\xfd7zXZ\x00": ("xz-compressed", "decompress it first: unxz -k {path}"),
    b"\x28\xb5\x2f\xfd": ("zstd-compressed", "decompress it first: unzstd {path}"),
    b"SQLite format 3\x00": ("an SQLite database", "export the table to JSONL first"),
    b"ARROW1": ("an Arrow IPC file", "convert it to JSONL or Parquet first"),
    b"\xff\xfe": ("UTF-16 text (little-endian)", "convert it to UTF-8: iconv -f UTF-16 -t UTF-8 {path} > {path}.utf8.jsonl"),
    b"\xfe\xff": ("UTF-16 text (big-endian)", "convert it to UTF-8: iconv -f UTF-16 -t UTF-8 {path} > {path}.utf8.jsonl"),
}


class DatasetError(Exception):
    """The file cannot be read as a dataset. ``str(err)`` is one line: what is wrong, then the fix."""


@dataclass(frozen=True)
class SourceInfo:
    """What ``inspect_source`` learned about a dataset path without reading all of it.

    kind: ``"jsonl"`` (one JSON value per line; also the fallback for any text file —
    rows that are not JSON become findings), ``"json-array"`` (the file is one ``[...]``),
    ``"parquet"``, or ``"hf-dir"`` (a directory written by ``datasets.save_to_disk``).
    has_bom / crlf / truncated_last_line describe text files (False otherwise):
    ``truncated_last_line`` means the file does not end with a newline — whether that
    last line is also cut mid-record is for the parser (the linter) to say.
    """

    path: Path
    kind: str
    size: int
    has_bom: bool = False
    crlf: bool = False
    truncated_last_line: bool = False
    data_start: int = 0  # offset of the first non-blank byte when over 64 KB of blank lines come first


@dataclass(slots=True)
class RawRow:
    """One row as bytes, before any decoding.

    row: 1-based line number (JSONL), 1-based element index (JSON array) or 1-based
    record number (Parquet / HF dir).
    offset: byte offset where ``data`` starts in the file (after a BOM on line 1), so
    ``os.pread(fd, len(data), offset)`` gives the bytes back; for Parquet / HF dirs, the
    0-based record index.
    data: the line without ``\\n`` / ``\\r\\n`` (cut to ``max_row_bytes`` if ``truncated``).
    size: the full length of the row in bytes (equals ``len(data)`` unless truncated).
    truncated: the row was longer than ``max_row_bytes``; ``data`` is its head only.
    no_newline: the last line of the file had no terminating newline (often a file cut
    off mid-write: if it does not parse, say so).
    crlf: the line ended with ``\\r\\n``.
    """

    row: int
    offset: int
    data: bytes
    size: int
    truncated: bool = False
    no_newline: bool = False
    crlf: bool = False


def _fail(message: str) -> DatasetError:
    return DatasetError(message)


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _read_head_tail(path: Path, size: int) -> tuple[bytes, bytes]:
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
            if size > SNIFF_BYTES:
                f.seek(max(size - 4096, SNIFF_BYTES))
                tail = f.read()
            else:
                tail = head[-4096:]
    except PermissionError:
        raise _fail(f"permission denied reading {path}: make it readable (chmod u+r {path}) or copy it somewhere you can read") from None
    except IsADirectoryError:
        raise _fail(f"{path} is a directory: open a .jsonl file inside it") from None
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}; check the path and the disk") from None
    return head, tail


def _skip_blank(path: Path, size: int) -> tuple[int, bytes]:
    """(offset of the first non-blank byte, up to 64 KB from there) for a file that opens with blank lines."""
    try:
        with open(path, "rb") as f:
            offset = 0
            while offset < size:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                stripped = chunk.lstrip()
                if stripped:
                    offset += len(chunk) - len(stripped)
                    f.seek(offset)
                    return offset, f.read(SNIFF_BYTES)
                offset += len(chunk)
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}; check the path and the disk") from None
    return size, b""


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes, or most of the sample not UTF-8, means this is not a text dataset."""
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    text = sample.decode("utf-8", errors="replace")
    # The sample may end mid-character; a few replacements at the edge are not "binary".
    bad = text.count("\ufffd")
    return bad > 8 and bad > len(text) * 0.3


def _hf_dir_kind(path: Path) -> str | None:
    if (path / "dataset_dict.json").is_file():
        try:
            meta = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if not isinstance(meta, dict):
            raise _fail(f"{path / 'dataset_dict.json'} is not a DatasetDict description (a JSON object with \"splits\"): "
                        "re-save it with DatasetDict.save_to_disk, or open one split's folder")
        splits = meta.get("splits", [])
        if isinstance(splits, str):  # "splits": "train" is one split, not five letters
            splits = [splits]
        if not isinstance(splits, list):
            splits = []
        names = ", ".join(str(s) for s in splits) or "its split folders"
        first = str(splits[0]) if splits else "train"
        raise _fail(f"{path} is a saved DatasetDict with splits {names}: open one split, e.g. {path / first}")
    if (path / "state.json").is_file() and any(path.glob("*.arrow")):
        return "hf-dir"
    return None


def inspect_source(path: str | Path) -> SourceInfo:
    """Check that ``path`` is a readable dataset and say what kind; raise DatasetError if not.

    Reads at most the first 64 KB and the last 4 KB, so it is instant on any size.
    """
    path = Path(path).expanduser()
    if path.is_symlink() and not path.exists():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        try:
            path.resolve(strict=True)
        except RuntimeError:  # Python < 3.13 raises RuntimeError for a loop
            raise _fail(f"{path} is a symbolic link loop ({path.name} -> {target} -> ...): point it at a real file") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _fail(f"{path} is a symbolic link loop ({path.name} -> {target} -> ...): point it at a real file") from None
        raise _fail(f"{path} is a dangling symbolic link: it points to {target}, which does not exist; "
                    "fix the link or open the real file")
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            names = [p.name for p in itertools.islice(path.parent.iterdir(), 2000)]
            near = difflib.get_close_matches(path.name, names, n=1, cutoff=0.75)
            if near:
                hint = f" (did you mean {near[0]}?)"
        raise _fail(f"{path} does not exist{hint}: check the path")
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise _fail(f"permission denied reading the directory {path}: fix its permissions")
        kind = _hf_dir_kind(path)
        if kind:
            return SourceInfo(path=path, kind=kind, size=sum(p.stat().st_size for p in path.glob("*.arrow")))
        inside = sorted(p.name for p in path.iterdir() if p.suffix in {".jsonl", ".json", ".parquet"})[:3]
        listing = f" (it holds {', '.join(inside)})" if inside else ""
        raise _fail(f"{path} is a directory{listing}: open a dataset file inside it, e.g. a .jsonl file")
    if not path.is_file():
        what = "a named pipe (FIFO)" if path.is_fifo() else "a device" if path.is_char_device() or path.is_block_device() else "not a regular file"
        raise _fail(f"{path} is {what}, not a regular file: save the data to a .jsonl file and open that")
    size = path.stat().st_size
    head, tail = _read_head_tail(path, size)
    skipped = 0
    if size > SNIFF_BYTES and not head.strip():  # more than 64 KB of blank lines before the rows: look past them
        skipped, head = _skip_blank(path, size)
    if size == 0:
        raise _fail(f"{path} is empty (0 bytes): point ftui at a JSONL file with one JSON object per line")
    if head.startswith(b"PAR1"):
        return SourceInfo(path=path, kind="parquet", size=size)
    for magic, (what, fix) in _MAGIC.items():
        if head.startswith(magic):
            raise _fail(f"{path} is {what}, not a JSONL dataset: {fix.format(path=path)}")
    if _looks_binary(head):
        raise _fail(f"{path} looks binary (NUL bytes or mostly non-UTF-8), not a JSONL dataset: export your data as UTF-8 JSONL")
    has_bom = head.startswith(BOM) and not skipped
    body = head[3:] if has_bom else head
    if not body.strip():
        raise _fail(f"{path} contains only whitespace: point ftui at a JSONL file with one JSON object per line")
    if b"\n" not in body and b"\r" in body.strip():
        raise _fail(f"{path} has CR-only line endings (classic Mac), so it reads as one line: "
                    f"convert them to newlines, e.g. tr '\\r' '\\n' < {path} > {path.with_suffix('.lf.jsonl')}")
    first_line = body.lstrip().split(b"\n", 1)[0].strip()
    if first_line == b"{" or (first_line.startswith(b"{") and first_line.endswith(b"[")):
        raise _fail(f"{path} is one pretty-printed JSON object, not JSONL (one object per line): if its rows are in a list "
                    f"under a key such as \"data\", write them one per line, e.g. jq -c '.data[]' {path} > {path.with_suffix('.jsonl')}")
    first_nl = body.find(b"\n")
    crlf = first_nl > 0 and body[first_nl - 1 : first_nl] == b"\r"
    kind = "json-array" if body.lstrip().startswith(b"[") else "jsonl"
    if kind == "json-array" and size > JSON_ARRAY_MAX_BYTES:
        raise _fail(
            f"{path} is a {_human_size(size)} JSON array; ftui reads arrays up to {_human_size(JSON_ARRAY_MAX_BYTES)}: "
            f"convert it to JSONL, e.g. jq -c '.[]' {path} > {path.with_suffix('.jsonl')}"
        )
    return SourceInfo(
        path=path, kind=kind, size=size, has_bom=has_bom, crlf=crlf, truncated_last_line=not tail.endswith(b"\n"),
        data_start=skipped,
    )


def iter_raw_rows(
    path: str | Path,
    start: int = 0,
    *,
    start_row: int = 1,
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES,
    info: SourceInfo | None = None,
) -> Iterator[RawRow]:
    """Yield every row of ``path`` as :class:`RawRow`, streaming.

    ``start`` is a byte offset where a JSONL line begins (e.g. from the row index) and
    ``start_row`` that line's 1-based number, to resume mid-file; for other kinds
    ``start`` is a 0-based record/element index to skip to. Calls ``inspect_source``
    first unless ``info`` is given, so file-level problems raise DatasetError.
    Empty lines are yielded too (``data == b""``): the linter reports them.
    """
    info = info or inspect_source(path)
    if info.kind == "jsonl":
        yield from _iter_jsonl(info, start, start_row, max_row_bytes)
    elif info.kind == "json-array":
        yield from _iter_json_array(info, start, max_row_bytes)
    else:
        yield from _iter_columnar(info, start, max_row_bytes)


@dataclass(frozen=True)
class RowBlock:
    """Whole lines of a JSONL file read as one buffer, for consumers that work a block at a time.

    ``blob`` is the lines joined by ``\\n`` (no trailing newline), exactly as in the file, so
    a line may still end in ``\\r``, be empty, or be longer than a row cap: ``raw_rows`` turns
    it into the :class:`RawRow` objects :func:`iter_raw_rows` would give. ``row`` is the number
    of its first line and ``offset`` the file offset of ``blob[0]``.
    """

    row: int
    offset: int
    blob: bytes
    newlines: Any = field(default=None, compare=False, repr=False)  # numpy int64 positions of the b"\\n" in ``blob`` (the reader finds them anyway)

    def raw_rows(self, max_row_bytes: int = DEFAULT_MAX_ROW_BYTES) -> list[RawRow]:
        out = []
        row, offset = self.row, self.offset
        for line in self.blob.split(b"\n"):
            size = len(line)
            crlf = line[-1:] == b"\r"
            if crlf:
                size -= 1
            if size > max_row_bytes:
                out.append(RawRow(row, offset, line[:max_row_bytes], size, True, False, crlf))
            elif crlf:
                out.append(RawRow(row, offset, line[:-1], size, False, False, True))
            else:
                out.append(RawRow(row, offset, line, size))
            offset += len(line) + 1
            row += 1
        return out


def iter_jsonl_blocks(
    info: SourceInfo,
    start: int = 0,
    end: int | None = None,
    *,
    start_row: int = 1,
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES,
    block_bytes: int = CHUNK_BYTES,
) -> Iterator[RowBlock | RawRow]:
    """The lines of a JSONL file from byte ``start`` (a line start) up to ``end``, as
    :class:`RowBlock` s of about ``block_bytes``.

    Why: a consumer that hands whole blocks to C code (pyarrow, RE2) should not pay for one
    Python object per line. A line longer than a block, and an unterminated last line, come
    as a single :class:`RawRow` from :func:`iter_raw_rows` (which caps and flags them).
    A line that starts before ``end`` is read whole.
    """
    import numpy as np

    f = _open_for_rows(info.path)
    with f:
        if start == 0 and info.has_bom:
            start = len(BOM)
        stop = info.size if end is None else min(end, info.size)
        pos, row = start, start_row
        f.seek(pos)
        carry = b""
        while pos < stop:
            want = min(block_bytes, stop - pos - len(carry))
            chunk = f.read(want) if want > 0 else b""
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"\n")
            if cut < 0:
                if chunk and len(buf) <= block_bytes:
                    carry = buf
                    continue
                raw = next(_iter_jsonl(info, pos, row, max_row_bytes), None)
                if raw is None:  # the file shrank under us
                    return
                yield raw
                pos = raw.offset + raw.size + (2 if raw.crlf else 1)
                row += 1
                carry = b""
                f.seek(pos)
                continue
            blob = buf[:cut]
            carry = buf[cut + 1 :]
            newlines = np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == 10)  # 2x faster than bytes.count
            yield RowBlock(row, pos, blob, newlines)
            row += len(newlines) + 1
            pos += cut + 1


def _open_for_rows(path: Path):
    try:
        return open(path, "rb", buffering=0)
    except PermissionError:
        raise _fail(f"permission denied reading {path}: make it readable (chmod u+r {path})") from None
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}; check the path and the disk") from None


def _iter_jsonl(info: SourceInfo, start: int, start_row: int, max_row_bytes: int) -> Iterator[RawRow]:
    keep = max_row_bytes + 1  # one spare byte so a "\r" at the cap is still seen
    f = _open_for_rows(info.path)
    with f:
        if start == 0 and info.has_bom:
            start = len(BOM)
        f.seek(start)
        row, offset = start_row, start
        pending: list[bytes] = []  # kept head of a line that spans chunks (<= keep bytes)
        pending_len = 0
        line_len = 0  # full length of that line so far
        tail_end = b""  # last byte seen of that line

        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                break
            lines = chunk.split(b"\n")
            tail = lines.pop()
            for line in lines:
                if not line_len and len(line) <= max_row_bytes:  # the hot path: a whole line in this chunk
                    if line[-1:] == b"\r":
                        yield RawRow(row, offset, line[:-1], len(line) - 1, False, False, True)
                    else:
                        yield RawRow(row, offset, line, len(line))
                    offset += len(line) + 1
                else:
                    raw = _finish_line(row, offset, pending, pending_len, line_len, tail_end, line, keep, max_row_bytes, False)
                    yield raw
                    offset += raw.size + (2 if raw.crlf else 1)
                    pending, pending_len, line_len, tail_end = [], 0, 0, b""
                row += 1
            if tail:
                if pending_len < keep:
                    piece = tail[: keep - pending_len]
                    pending.append(piece)
                    pending_len += len(piece)
                line_len += len(tail)
                tail_end = tail[-1:]
        if line_len:
            yield _finish_line(row, offset, pending, pending_len, line_len, tail_end, b"", keep, max_row_bytes, True)


def _finish_line(
    row: int,
    offset: int,
    pending: list[bytes],
    pending_len: int,
    line_len: int,
    tail_end: bytes,
    last: bytes,
    keep: int,
    max_row_bytes: int,
    no_newline: bool,
) -> RawRow:
    size = line_len + len(last)
    crlf = (last[-1:] if last else tail_end) == b"\r"
    if crlf:
        size -= 1
    head = b"".join([*pending, last[: max(0, keep - pending_len)]]) if pending else last[:keep]
    truncated = size > max_row_bytes
    data = head[:max_row_bytes] if truncated else head[:size]
    return RawRow(row, offset, data, size, truncated, no_newline, crlf)


# A JSON string (unrolled loop, C speed in re) or a structural character.
_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_WS = b" \t\r\n"


def _iter_json_array(info: SourceInfo, start: int, max_row_bytes: int) -> Iterator[RawRow]:
    """Split a top-level ``[...]`` into its elements' bytes without parsing them (no recursion
    limit, so a deeply nested element is still yielded and the linter reports it)."""
    f = _open_for_rows(info.path)
    with f:
        text = f.read()
    base = len(BOM) if info.has_bom else 0
    open_at = text.index(b"[", base)
    depth, elem_start, index = 0, open_at + 1, 0
    closed = False
    for match in _JSON_TOKENS.finditer(text, open_at):
        tok = match.group()
        if tok[0] == 0x22:  # string
            continue
        if tok in (b"[", b"{"):
            depth += 1
        elif tok in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                if tok == b"]":
                    if index == 0 and not text[elem_start : match.start()].strip():
                        closed = True  # "[]": no rows
                        break
                    index = yield from _emit_element(text, elem_start, match.start(), index, start, max_row_bytes, False)
                    closed = True
                    break
        elif depth == 1:  # a comma between elements
            index = yield from _emit_element(text, elem_start, match.start(), index, start, max_row_bytes, False)
            elem_start = match.end()
    if not closed:
        yield from _emit_element(text, elem_start, len(text), index, start, max_row_bytes, True)


def _emit_element(text: bytes, begin: int, end: int, index: int, skip: int, max_row_bytes: int, unterminated: bool):
    while begin < end and text[begin] in _WS:
        begin += 1
    while end > begin and text[end - 1] in _WS:
        end -= 1
    if begin == end:
        if unterminated:
            return index
        index += 1  # an empty element ("[1,,2]" or a trailing comma): yielded so the linter reports it
        if index > skip:
            yield RawRow(index, begin, b"", 0)
        return index
    index += 1
    if index > skip:
        size = end - begin
        yield RawRow(index, begin, text[begin : begin + min(size, max_row_bytes)], size, size > max_row_bytes, unterminated)
    return index


def _iter_columnar(info: SourceInfo, start: int, max_row_bytes: int) -> Iterator[RawRow]:
    """Parquet and saved HF datasets: records re-serialised as JSON, one batch at a time."""
    import orjson

    try:
        import pyarrow.ipc as ipc
        import pyarrow.parquet as pq
    except ImportError:
        raise _fail(f"reading {info.kind} needs pyarrow: pip install pyarrow, or convert {info.path} to JSONL") from None
    try:
        if info.kind == "parquet":
            batches = pq.ParquetFile(info.path).iter_batches(batch_size=1024)
        else:
            state = json.loads((info.path / "state.json").read_text())
            files = [info.path / d["filename"] for d in state.get("_data_files", [])] or sorted(info.path.glob("*.arrow"))
            batches = (b for p in files for b in ipc.open_stream(str(p)))
        index = 0
        for batch in batches:
            for record in batch.to_pylist():
                index += 1
                if index <= start:
                    continue
                data = orjson.dumps(record, default=str)
                yield RawRow(index, index - 1, data[:max_row_bytes], len(data), len(data) > max_row_bytes)
    except DatasetError:
        raise
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise _fail(f"cannot read {info.path} as {info.kind}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; re-export the file") from None
