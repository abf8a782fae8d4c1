"""The background row index: O(1) reads while it grows, huge lines cut before parsing."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from ftui.data.index import RowIndex, row_preview
from ftui.data.source import DatasetError


def _jsonl(path: Path, rows: list[object], tail: bytes = b"\n") -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + tail)
    return path


def _chat(i: int) -> dict:
    return {"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]}


def test_index_matches_every_row(tmp_path: Path) -> None:
    rows = [_chat(i) for i in range(5000)]
    with RowIndex(_jsonl(tmp_path / "a.jsonl", rows), chunk_bytes=4096) as index:
        index.build()
        assert index.done and index.rows_known == 5000 and index.progress == 1.0
        for k in (0, 1, 2499, 4999):
            assert index.display_row(k).value == rows[k]
            assert index.display_row(k).row == k + 1


def test_pread_of_last_row_without_newline(tmp_path: Path) -> None:
    rows = [_chat(i) for i in range(100)]
    with RowIndex(_jsonl(tmp_path / "a.jsonl", rows, tail=b"")) as index:
        index.build()
        assert index.rows_known == 100
        data, size, truncated = index.read_raw(99)
        assert orjson.loads(data) == rows[99] and size == len(data) and not truncated


def test_rows_readable_while_index_grows(tmp_path: Path) -> None:
    rows = [_chat(i) for i in range(20_000)]
    path = _jsonl(tmp_path / "big.jsonl", rows)
    index = RowIndex(path, chunk_bytes=64 << 10)
    step = threading.Semaphore(0)
    index.after_chunk = lambda: step.acquire(timeout=5)  # the scan advances one chunk per release
    index.start()
    assert index.wait_for_rows(1)
    known_before = index.rows_known
    assert not index.done and 0 < known_before < 20_000
    assert 0 < index.progress < 1
    assert index.display_row(known_before - 1).value == rows[known_before - 1]
    with pytest.raises(IndexError):
        index.span(known_before)
    step.release()
    assert index.wait_for_rows(known_before + 1)
    assert index.rows_known > known_before
    for _ in range(1000):
        step.release()
    assert index.wait(10)
    assert index.rows_known == 20_000
    assert index.display_row(19_999).value == rows[19_999]
    index.close()


def test_blank_lines_count_like_the_linter(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"a": 3}\r\n')
    with RowIndex(path) as index:
        index.build()
        assert index.rows_known == 3
        assert index.display_row(1).error == "blank line"
        assert index.display_row(2).value == {"a": 3} and index.display_row(2).row == 3


def test_huge_line_is_cut_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.write(b'{"a": 1}\n{"text": "')
        f.write(b"z" * (8 << 20))
        f.write(b'"}\n{"a": 3}\n')
    with RowIndex(path, display_cap=4096) as index:
        index.build()
        row = index.display_row(1)
        assert row.truncated and row.value is None and len(row.text) == 4096
        assert "8.0 MB" in (row.error or "")
        assert index.display_row(2).value == {"a": 3}


def test_parse_error_shows_raw_text(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": \n\xff\xfe{}\n')
    with RowIndex(path) as index:
        index.build()
        bad = index.display_row(1)
        assert bad.value is None and bad.error.startswith("not valid JSON") and bad.text == '{"a": '
        assert index.display_row(2).error.startswith("not valid JSON")
        assert "\ufffd" in index.display_row(2).text


def test_non_utf8_row_is_shown_with_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'{"text": "caf\xe9 au lait"}\n')
    with RowIndex(path) as index:
        index.build()
        row = index.display_row(0)
        assert row.value == {"text": "caf\ufffd au lait"} and row.error is None
        assert "0xe9" in row.note


def test_lru_cache_is_bounded(tmp_path: Path) -> None:
    with RowIndex(_jsonl(tmp_path / "a.jsonl", [_chat(i) for i in range(50)]), cache_rows=10) as index:
        index.build()
        first = index.display_row(0)
        assert index.display_row(0) is first
        for k in range(1, 30):
            index.display_row(k)
        assert len(index._cache) == 10
        assert index.display_row(0) is not first


def test_json_array_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_bytes(b"\xef\xbb\xbf[" + b",".join(orjson.dumps(_chat(i)) for i in range(3)) + b"]")
    with RowIndex(path) as index:
        index.build()
        assert index.rows_known == 3 and index.display_row(2).value == _chat(2)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(_chat(0)) + b"\n")
    with RowIndex(bom) as index:
        index.build()
        assert index.display_row(0).value == _chat(0)


def test_file_level_error_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError):
        RowIndex(tmp_path / "missing.jsonl")


def test_search_and_preview(tmp_path: Path) -> None:
    with RowIndex(_jsonl(tmp_path / "a.jsonl", [_chat(i) for i in range(300)])) as index:
        index.build()
        assert list(index.search("QUESTION 29")) == [29] + list(range(290, 300))
        assert list(index.search("answer 1\"")) == [1]
        assert row_preview(index.display_row(3)) == "user: question 3  assistant: answer 3"


def test_search_across_chunk_borders_matches_the_row_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"text": ("needle " if i % 7 == 0 else "hay ") * (i % 50 + 1)} for i in range(3000)]
    path = _jsonl(tmp_path / "n.jsonl", rows)
    monkeypatch.setattr("ftui.data.index.SEARCH_CHUNK_BYTES", 1000)  # many chunk borders, some inside a match
    with RowIndex(path) as index:
        index.build()
        fast = list(index.search("NEEDLE"))
        index._done.clear()  # force the row-by-row scan for comparison
        slow = list(index.search("needle"))
        index._done.set()
    assert fast == slow == [i for i in range(3000) if i % 7 == 0]


def test_browse_bench_quick_runs() -> None:
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(root / "bench" / "browse.py"), "--quick", "--rows", "3000"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["bench"] == "browse" and result["rows"] == 3000 and result["ok"] is True


def test_parquet_rows_are_browsable_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"prompt": [f"p{i}" for i in range(100)], "completion": [f"c{i}" for i in range(100)]}), path)
    with RowIndex(path) as index:
        index.build()
        assert index.rows_known == 100 and index.display_row(99).value == {"prompt": "p99", "completion": "c99"}
    monkeypatch.setattr("ftui.data.index.COLUMNAR_BROWSE_BYTES", 500)
    with RowIndex(path) as index:
        index.build()
        assert 0 < index.rows_known < 100 and "convert it to JSONL" in index.error


def test_a_file_that_cannot_be_opened_for_browsing_is_one_dataset_error(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Sniffing succeeded but the row index's own open fails (permissions changed, file gone)."""
    import os

    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "a"}\n')
    from ftui.data import index as index_mod

    real_open = os.open

    def refuse(p, flags, *a):  # noqa: ANN001, ANN002, ANN202
        if str(p) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(p, flags, *a)

    monkeypatch.setattr(index_mod.os, "open", refuse)
    with pytest.raises(DatasetError) as err:
        RowIndex(path)
    assert "Permission denied" in str(err.value) and "\n" not in str(err.value)


def test_a_small_file_is_read_with_a_buffer_its_own_size(tmp_path: Path) -> None:
    """A 16 MB read buffer for a 10 kB file: zero-filling it held the GIL ~7 ms as the Data screen opened."""
    import tracemalloc

    path = _jsonl(tmp_path / "small.jsonl", [{"text": f"row {i}"} for i in range(500)])
    tracemalloc.start()
    try:
        with RowIndex(path) as index:
            index.build()
            assert index.rows_known == 500
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20, f"{peak:,} bytes allocated to index {path.stat().st_size:,} bytes"
