"""A byte-offset row index for browsing datasets of any size, built in the background.

Why: a browser must show the first rows of a 1.5 GB JSONL at once and jump to row
2,000,000 without reading the rows in between. A thread scans the file in chunks for
newlines and appends each row's start/end offsets to two ``array('Q')``; the UI can use
the index while it grows (``rows_known``, ``progress``), and row k is one ``os.pread``.
The file's content is never held (only 16 bytes per row), so files larger than RAM work.

Display: a row longer than ``display_cap`` is cut BEFORE parsing (a 50 MB line must not
stall the UI); parsed rows sit in a small LRU cache. Parsing uses orjson; a row that
does not parse is shown as raw text with the parse error.

JSON-array files are indexed from :func:`ftui.data.source.iter_raw_rows` (element
offsets); Parquet / HF dataset dirs keep each row's (capped) JSON bytes in memory.
"""

from __future__ import annotations

import os
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ftui.data.source import BOM, DatasetError, SourceInfo, inspect_source, iter_raw_rows

INDEX_CHUNK_BYTES = 16 << 20
FIRST_CHUNK_BYTES = 256 << 10
DISPLAY_CAP = 64 << 10
CACHE_ROWS = 2048
SEARCH_CHUNK_BYTES = 8 << 20
COLUMNAR_BROWSE_BYTES = 512 << 20


def _numpy() -> Any:
    """numpy, which finds newlines ~10x faster than a bytes.find loop, or None (it is optional).

    Imported by the index thread on a file's second chunk, not with this module: its ~150 ms
    import would hold up the first switch to the Data screen, and a small file never needs it."""
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy ships with torch
        return None
    return numpy


@dataclass(frozen=True)
class DisplayRow:
    """One row ready for display. ``value`` is the parsed JSON (None when it did not parse
    or was cut); ``error`` says why, in one line; ``text`` is the raw (possibly cut) text,
    decoded with replacement characters."""

    row: int
    offset: int
    size: int
    text: str
    value: Any = None
    error: str | None = None
    truncated: bool = False
    note: str | None = None  # parsed, but with a caveat (e.g. invalid UTF-8 shown as U+FFFD)

    @property
    def parsed(self) -> bool:
        return self.error is None


def _fmt_bytes(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KB"
    return f"{n} B"


class RowIndex:
    """Row offsets of one dataset file. Call :meth:`start` (background) or :meth:`build` (blocking).

    Rows are addressed 0-based here (``k``); the 1-based row number the linter reports is
    ``k + 1`` (every line counts, blank ones too, so the numbers agree with the linter's).
    """

    def __init__(
        self,
        path: str | Path,
        info: SourceInfo | None = None,
        *,
        chunk_bytes: int = INDEX_CHUNK_BYTES,
        display_cap: int = DISPLAY_CAP,
        cache_rows: int = CACHE_ROWS,
    ) -> None:
        self.info = info or inspect_source(path)  # raises DatasetError: file-level problems surface here
        self.path = self.info.path
        self.size = self.info.size
        self.chunk_bytes = chunk_bytes
        self.display_cap = display_cap
        self._starts = array("Q")
        self._ends = array("Q")
        self._blobs: list[bytes] | None = None  # columnar kinds: row bytes (capped)
        self._count = 0  # rows visible to readers; bumped after both arrays grew
        self._scanned = 0
        self._done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.after_chunk: Callable[[], None] | None = None  # test hook: called in the thread after each chunk
        self._cache: OrderedDict[int, DisplayRow] = OrderedDict()
        self._cache_rows = cache_rows
        self._cache_lock = threading.Lock()
        self._fd: int | None = None
        if self.info.kind in ("jsonl", "json-array"):
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError as exc:  # the file changed hands (or vanished) since it was sniffed
                raise DatasetError(
                    f"cannot open {self.path} for browsing: {exc.strerror or exc}; check its permissions and open it again"
                ) from None

    # -- building ---------------------------------------------------------------------

    def start(self) -> RowIndex:
        """Build the index in a daemon thread; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.build, name=f"row-index:{self.path.name}", daemon=True)
            self._thread.start()
        return self

    def build(self) -> None:
        """Scan the whole file (blocking). Safe to call once; errors land in ``self.error``."""
        try:
            if self.info.kind == "jsonl":
                self._build_jsonl()
            else:
                self._build_from_rows()
        except DatasetError as exc:
            self.error = str(exc)
        except OSError as exc:
            self.error = f"reading {self.path} failed: {exc.strerror or exc}; check the disk and try again"
        finally:
            self._done.set()

    def _build_jsonl(self) -> None:
        base = len(BOM) if self.info.has_bom else 0
        line_start = base
        pos = base
        # no bigger than the file: zero-filling 16 MB holds the GIL (~7 ms of the UI thread as the Data screen opens)
        buf = bytearray(min(self.chunk_bytes, max(self.size - base + 1, FIRST_CHUNK_BYTES)))
        # A small first read: the first screen of rows is known in about a millisecond.
        first = memoryview(buf)[: min(FIRST_CHUNK_BYTES, self.chunk_bytes)]
        with open(self.path, "rb", buffering=0) as f:
            f.seek(pos)
            while not self._stop.is_set():
                n = f.readinto(first if pos == base else buf)
                if not n:
                    break
                _np = _numpy() if pos != base else None  # the first chunk is small: bytes.find is quick enough
                if _np is not None:
                    newlines = _np.flatnonzero(_np.frombuffer(buf, _np.uint8, n) == 10)
                    if len(newlines):
                        ends = newlines.astype(_np.uint64) + _np.uint64(pos)
                        starts = _np.empty_like(ends)
                        starts[0] = line_start
                        starts[1:] = ends[:-1] + _np.uint64(1)
                        self._starts.frombytes(starts.tobytes())
                        self._ends.frombytes(ends.tobytes())
                        line_start = int(ends[-1]) + 1
                        self._count += len(ends)
                else:
                    chunk = bytes(buf[:n])
                    i = chunk.find(b"\n")
                    while i >= 0:
                        self._starts.append(line_start)
                        self._ends.append(pos + i)
                        line_start = pos + i + 1
                        self._count += 1
                        i = chunk.find(b"\n", i + 1)
                pos += n
                self._scanned = pos
                if self.after_chunk is not None:
                    self.after_chunk()
        if line_start < pos and not self._stop.is_set():  # last line without a newline
            self._starts.append(line_start)
            self._ends.append(pos)
            self._count += 1
        self._scanned = self.size

    def _build_from_rows(self) -> None:
        if self.info.kind != "json-array":
            self._blobs = []
        held = 0
        for raw in iter_raw_rows(self.path, info=self.info, max_row_bytes=self.display_cap + 1):
            if self._stop.is_set():
                return
            if self._blobs is not None:
                held += len(raw.data)
                if held > COLUMNAR_BROWSE_BYTES:  # Parquet rows are held in memory: stop before it hurts
                    self.error = (
                        f"{self.path.name} is too large to browse as {self.info.kind} (over "
                        f"{COLUMNAR_BROWSE_BYTES >> 20} MB of rows): convert it to JSONL with "
                        f"ftui data convert {self.path} — the rows so far are shown"
                    )
                    return
                self._blobs.append(raw.data)
            self._starts.append(raw.offset)
            self._ends.append(raw.offset + raw.size)
            self._count += 1
            self._scanned = raw.offset if self.info.kind == "json-array" else 0
        self._scanned = self.size

    # -- state --------------------------------------------------------------------------

    @property
    def rows_known(self) -> int:
        """Rows indexed so far (all rows once ``done``)."""
        return self._count

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def progress(self) -> float:
        """Fraction of the file scanned, 0..1."""
        if self.done:
            return 1.0
        return min(1.0, self._scanned / self.size) if self.size else 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the index is complete (or ``timeout``); True if complete."""
        return self._done.wait(timeout)

    def wait_for_rows(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least ``n`` rows are known or the index is done."""
        deadline = _now() + timeout
        while self._count < n and not self._done.is_set():
            if _now() > deadline:
                return False
            self._done.wait(0.002)
        return self._count >= n

    def close(self) -> None:
        """Stop the scan and release the file descriptor."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RowIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------

    def span(self, k: int) -> tuple[int, int]:
        """(offset, size) of row ``k`` (0-based) in bytes; a trailing ``\\r`` is included."""
        if not 0 <= k < self._count:
            raise IndexError(f"row {k + 1} is not indexed (rows known: {self._count})")
        start = self._starts[k]
        return start, self._ends[k] - start

    def read_raw(self, k: int, cap: int | None = None) -> tuple[bytes, int, bool]:
        """The bytes of row ``k`` (at most ``cap``, default ``display_cap``), its full size, and
        whether it was cut. One ``pread``, whatever the file size."""
        cap = self.display_cap if cap is None else cap
        offset, size = self.span(k)
        if self._blobs is not None:
            data = self._blobs[k][:cap]
        else:
            assert self._fd is not None, "index is closed"
            data = os.pread(self._fd, min(size, cap), offset)
        if size <= cap and data.endswith(b"\r"):
            data, size = data[:-1], size - 1
        return data, size, size > cap

    def display_row(self, k: int) -> DisplayRow:
        """Row ``k`` parsed for display, from the LRU cache when possible."""
        with self._cache_lock:
            hit = self._cache.get(k)
            if hit is not None:
                self._cache.move_to_end(k)
                return hit
        offset, _ = self.span(k)
        data, size, truncated = self.read_raw(k)
        row = parse_for_display(k + 1, offset, data, size, truncated)
        with self._cache_lock:
            self._cache[k] = row
            if len(self._cache) > self._cache_rows:
                self._cache.popitem(last=False)
        return row

    def search(
        self,
        needle: str,
        *,
        progress: Callable[[float], None] | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[int]:
        """Yield 0-based rows whose raw text contains ``needle`` (ASCII case-insensitive), streaming.

        On a complete JSONL index the scan is chunk-wise in C (``bytes.find``, rows found by
        bisecting the offsets): fast, and it leaves the GIL to the UI between chunks.
        """
        target = needle.lower().encode("utf-8")
        if not target:
            return
        if self.info.kind == "jsonl" and self.done and self._fd is not None and not self.error:
            yield from self._search_chunks(target, progress, stop)
            return
        done_bytes = 0
        last_report = 0
        for raw in iter_raw_rows(self.path, info=self.info):
            if stop is not None and stop.is_set():
                return
            if target in raw.data.lower():
                yield raw.row - 1
            done_bytes += raw.size + 1
            if progress is not None and done_bytes - last_report > (8 << 20):
                last_report = done_bytes
                progress(min(1.0, done_bytes / max(1, self.size)))
        if progress is not None:
            progress(1.0)


    def _search_chunks(
        self, target: bytes, progress: Callable[[float], None] | None, stop: threading.Event | None
    ) -> Iterator[int]:
        import bisect

        assert self._fd is not None
        chunk = SEARCH_CHUNK_BYTES
        pos = self._starts[0] if self._count else 0
        last_row = -1
        while pos < self.size:
            if stop is not None and stop.is_set():
                return
            low = os.pread(self._fd, chunk + len(target) - 1, pos).lower()
            i = low.find(target)
            while 0 <= i < chunk:  # a match starting in the overlap is found by the next chunk
                k = bisect.bisect_right(self._starts, pos + i) - 1
                if k != last_row and 0 <= k < self._count:
                    last_row = k
                    yield k
                i = low.find(target, max(i + 1, self._ends[k] + 1 - pos) if k >= 0 else i + 1)
            pos += chunk
            if progress is not None:
                progress(min(1.0, pos / max(1, self.size)))
        if progress is not None:
            progress(1.0)


def _now() -> float:
    import time

    return time.monotonic()


def parse_for_display(row: int, offset: int, data: bytes, size: int, truncated: bool) -> DisplayRow:
    """Parse a (possibly cut) row; never raises."""
    text = data.decode("utf-8", errors="replace")
    if truncated:
        return DisplayRow(
            row, offset, size, text, None,
            f"row is {_fmt_bytes(size)}: showing the first {_fmt_bytes(len(data))} as text (too long to parse for display)",
            True,
        )
    if not data.strip():
        return DisplayRow(row, offset, size, text, None, "blank line")
    try:
        return DisplayRow(row, offset, size, text, orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        if "\ufffd" in text:  # invalid UTF-8: show the row anyway, bad bytes as U+FFFD
            try:
                return DisplayRow(row, offset, size, text, orjson.loads(text), note=_utf8_note(data))
            except orjson.JSONDecodeError:
                pass
        return DisplayRow(row, offset, size, text, None, f"not valid JSON: {exc}")
    except RecursionError:  # pragma: no cover - orjson limits depth itself
        return DisplayRow(row, offset, size, text, None, "not valid JSON: nested too deeply")


def _utf8_note(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte {exc.start}): shown as \ufffd"
    return "not valid UTF-8: shown as \ufffd"


def row_preview(row: DisplayRow, limit: int = 400) -> str:
    """A one-line summary of a row for the row list (not neutralised: the caller does that)."""
    if row.value is None:
        return row.text[:limit]
    return _preview_value(row.value)[:limit]


def row_preview_parts(row: DisplayRow) -> tuple[str, str]:
    """(input, answer) previews of a row, so the list can show the answer in its own column.
    ``answer`` is empty when the row has no recognisable target."""
    value = row.value
    if isinstance(value, dict):
        turns = value.get("messages", value.get("conversations"))
        if isinstance(turns, list) and turns:
            def role(t: Any) -> Any:
                return t.get("role", t.get("from")) if isinstance(t, dict) else None

            answers = [t for t in turns if role(t) in ("assistant", "gpt")]
            asks = [t for t in turns if role(t) in ("user", "human")]
            if answers and asks:
                return _flat(_content(asks[-1])), _flat(_content(answers[-1])) or "(empty)"
        for ask, answer in (("instruction", "output"), ("prompt", "completion"), ("prompt", "chosen")):
            if ask in value and answer in value:
                return _flat(value[ask]), _flat(value[answer]) or "(empty)"
    return row_preview(row), ""


def _content(turn: Any) -> Any:
    if not isinstance(turn, dict):
        return turn
    content = turn.get("content", turn.get("value", ""))
    if not content and turn.get("tool_calls"):
        return "⚙ tool call"
    return content


def _preview_value(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("messages", "conversations", "conversation"):
            turns = value.get(key)
            if isinstance(turns, list):
                # the system prompt is usually the same on every row: lead with what differs
                shown = [t for t in turns if not (isinstance(t, dict) and t.get("role", t.get("from")) == "system")]
                return "  ".join(_preview_turn(t) for t in (shown or turns)[:6])
        parts = []
        for key in ("instruction", "input", "prompt", "output", "completion", "response", "chosen", "rejected", "text"):
            if key in value:
                parts.append(f"{key}: {_flat(value[key])}")
        if parts:
            return "  ".join(parts)
    return orjson.dumps(value, default=str).decode("utf-8", errors="replace")


def _preview_turn(turn: Any) -> str:
    if not isinstance(turn, dict):
        return _flat(turn)
    role = turn.get("role", turn.get("from", "?"))
    content = turn.get("content", turn.get("value", ""))
    if not content and turn.get("tool_calls"):
        content = "⚙ tool call"
    return f"{role}: {_flat(content)}"


def _flat(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value):  # a messages list
        text = " ".join(f"{m['role']}: {_flat(m.get('content', ''))}" for m in value)
    elif isinstance(value, list):  # content parts
        text = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in value)
    else:
        text = orjson.dumps(value, default=str).decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:119] + "…"
