"""File-level and row-level bad input for the dataset source layer (issue #3)."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import orjson
import pytest

from ftui.data.source import (
    DatasetError,
    RowBlock,
    inspect_source,
    iter_jsonl_blocks,
    iter_raw_rows,
)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _one_line_error(exc: pytest.ExceptionInfo[DatasetError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as exc:
        inspect_source(tmp_path / "nope.jsonl")
    assert "does not exist" in _one_line_error(exc)


def test_missing_file_suggests_near_name(tmp_path: Path) -> None:
    _write(tmp_path / "train.jsonl", b"{}\n")
    with pytest.raises(DatasetError, match="did you mean train.jsonl"):
        inspect_source(tmp_path / "trian.jsonl")


def test_directory(tmp_path: Path) -> None:
    _write(tmp_path / "a.jsonl", b"{}\n")
    with pytest.raises(DatasetError) as exc:
        inspect_source(tmp_path)
    message = _one_line_error(exc)
    assert "is a directory" in message and "a.jsonl" in message


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "secret.jsonl", b'{"a": 1}\n')
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root ignores file modes: simulate the kernel's answer
        real_open = builtins.open

        def deny(file, *args, **kwargs):
            if str(file) == str(path):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(DatasetError) as exc:
        inspect_source(path)
    assert "permission denied" in _one_line_error(exc)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as exc:
        inspect_source(_write(tmp_path / "e.jsonl", b""))
    assert "empty" in _one_line_error(exc)


def test_whitespace_only_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="only whitespace"):
        inspect_source(_write(tmp_path / "w.jsonl", b"\n\n  \n"))


def test_binary_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as exc:
        inspect_source(_write(tmp_path / "b.jsonl", bytes(range(256)) * 50))
    assert "binary" in _one_line_error(exc)


def test_gzip_file_names_the_fix(tmp_path: Path) -> None:
    import gzip

    path = _write(tmp_path / "d.jsonl.gz", gzip.compress(b'{"a": 1}\n'))
    with pytest.raises(DatasetError, match="gunzip"):
        inspect_source(path)


def test_non_utf8_bytes_are_a_row_problem(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin.jsonl", b'{"text": "ok"}\n{"text": "caf\xe9"}\n{"text": "fine"}\n')
    assert inspect_source(path).kind == "jsonl"
    rows = list(iter_raw_rows(path))
    assert [r.row for r in rows] == [1, 2, 3]
    with pytest.raises(UnicodeDecodeError):
        rows[1].data.decode("utf-8")
    assert rows[1].data == b'{"text": "caf\xe9"}'


def test_bom_is_reported_and_stripped(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.jsonl", b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n')
    info = inspect_source(path)
    assert info.has_bom and info.kind == "jsonl"
    rows = list(iter_raw_rows(path))
    assert rows[0].data == b'{"a": 1}' and rows[0].offset == 3
    assert orjson.loads(rows[1].data) == {"a": 2}


def test_crlf_line_ends(tmp_path: Path) -> None:
    path = _write(tmp_path / "crlf.jsonl", b'{"a": 1}\r\n{"a": 22}\r\n')
    assert inspect_source(path).crlf
    rows = list(iter_raw_rows(path))
    assert [r.data for r in rows] == [b'{"a": 1}', b'{"a": 22}']
    assert all(r.crlf for r in rows)
    with open(path, "rb") as f:
        assert os.pread(f.fileno(), rows[1].size, rows[1].offset) == b'{"a": 22}'


def test_truncated_last_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "cut.jsonl", b'{"a": 1}\n{"a": 2}\n{"a": ')
    assert inspect_source(path).truncated_last_line
    rows = list(iter_raw_rows(path))
    assert len(rows) == 3
    assert rows[-1].no_newline and rows[-1].data == b'{"a": '
    assert not rows[0].no_newline
    assert not inspect_source(_write(tmp_path / "ok.jsonl", b"{}\n")).truncated_last_line


def test_offsets_allow_pread(tmp_path: Path) -> None:
    lines = [orjson.dumps({"i": i, "pad": "x" * (i * 37 % 500)}) for i in range(3000)]
    path = _write(tmp_path / "many.jsonl", b"\n".join(lines) + b"\n")
    rows = list(iter_raw_rows(path))
    assert len(rows) == 3000
    fd = os.open(path, os.O_RDONLY)
    try:
        for raw in rows[::97]:
            assert os.pread(fd, raw.size, raw.offset) == lines[raw.row - 1]
    finally:
        os.close(fd)


def test_resume_from_offset(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.jsonl", b"{}\n[1]\n[2]\n")
    rows = list(iter_raw_rows(path))
    resumed = list(iter_raw_rows(path, rows[1].offset, start_row=2))
    assert [(r.row, r.data) for r in resumed] == [(2, b"[1]"), (3, b"[2]")]


def test_empty_lines_are_yielded(tmp_path: Path) -> None:
    rows = list(iter_raw_rows(_write(tmp_path / "gap.jsonl", b"{}\n\n{}\n")))
    assert [r.data for r in rows] == [b"{}", b"", b"{}"]


def test_fifty_megabyte_line_is_truncated_not_held(tmp_path: Path) -> None:
    big = b'{"text": "' + b"y" * (50 << 20) + b'"}'
    path = _write(tmp_path / "huge.jsonl", b'{"a": 1}\n' + big + b'\n{"a": 3}\n')
    del big
    rows = list(iter_raw_rows(path, max_row_bytes=1 << 20))
    assert [r.row for r in rows] == [1, 2, 3]
    assert rows[1].truncated and len(rows[1].data) == 1 << 20 and rows[1].size == (50 << 20) + 12
    assert rows[1].data.startswith(b'{"text": "yyy')
    assert rows[2].data == b'{"a": 3}' and rows[2].offset == rows[1].offset + rows[1].size + 1
    assert not rows[0].truncated and not rows[2].truncated


def test_deeply_nested_json_is_yielded(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    path = _write(tmp_path / "deep.jsonl", b'{"a": 1}\n' + deep + b"\n")
    rows = list(iter_raw_rows(path))
    assert rows[1].data == deep
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(rows[1].data)


def test_json_array(tmp_path: Path) -> None:
    items = [{"messages": [{"role": "user", "content": "a, [b] {c}"}]}, {"x": [1, 2, {"y": "\\\""}]}, "s"]
    data = b"\xef\xbb\xbf[\n  " + b",\n  ".join(orjson.dumps(i) for i in items) + b"\n]\n"
    path = _write(tmp_path / "arr.json", data)
    info = inspect_source(path)
    assert info.kind == "json-array" and info.has_bom
    rows = list(iter_raw_rows(path))
    assert [r.row for r in rows] == [1, 2, 3]
    assert [orjson.loads(r.data) for r in rows] == items
    assert all(data[r.offset : r.offset + r.size] == r.data for r in rows)


def test_json_array_deeply_nested_element(tmp_path: Path) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    rows = list(iter_raw_rows(_write(tmp_path / "d.json", b"[{}, " + deep + b", {}]")))
    assert len(rows) == 3 and rows[1].data == deep


def test_json_array_truncated(tmp_path: Path) -> None:
    rows = list(iter_raw_rows(_write(tmp_path / "t.json", b'[{"a": 1}, {"a": ')))
    assert rows[-1].no_newline and rows[-1].data == b'{"a":'


def test_empty_json_array(tmp_path: Path) -> None:
    assert list(iter_raw_rows(_write(tmp_path / "e.json", b"[ ]\n"))) == []


def test_json_array_too_big_says_convert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ftui.data.source as source

    monkeypatch.setattr(source, "JSON_ARRAY_MAX_BYTES", 10)
    with pytest.raises(DatasetError, match="convert it to JSONL"):
        inspect_source(_write(tmp_path / "big.json", b'[{"a": 1}, {"a": 2}]'))


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"prompt": ["a", "b"], "completion": ["x", "y"]}), path)
    assert inspect_source(path).kind == "parquet"
    rows = list(iter_raw_rows(path))
    assert [orjson.loads(r.data) for r in rows] == [{"prompt": "a", "completion": "x"}, {"prompt": "b", "completion": "y"}]


def test_saved_hf_dataset_dir(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    saved = tmp_path / "saved"
    datasets.Dataset.from_dict({"prompt": ["a", "b", "c"], "completion": ["x", "y", "z"]}).save_to_disk(str(saved))
    info = inspect_source(saved)
    assert info.kind == "hf-dir"
    rows = list(iter_raw_rows(saved))
    assert [orjson.loads(r.data) for r in rows][2] == {"prompt": "c", "completion": "z"}
    assert [r.row for r in rows] == [1, 2, 3]
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["t"]})}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(DatasetError, match="open one split"):
        inspect_source(tmp_path / "dd")


def _rows_from_blocks(path: Path, start: int = 0, end: int | None = None, start_row: int = 1, **kw: int) -> list:
    out = []
    for item in iter_jsonl_blocks(inspect_source(path), start, end, start_row=start_row, **kw):
        out.extend(item.raw_rows(kw.get("max_row_bytes", 16 << 20)) if isinstance(item, RowBlock) else [item])
    return out


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}\n{"b": 2}\n',
        b'\xef\xbb\xbf{"a": 1}\r\n{"b": 2}\r\n',
        b'{"a": 1}\n\n\n{"b": 22222222222222222222222222222222222222}\n{"c"',
        b"x" * 300 + b"\n" + b"y\r\n" + b"z" * 130,
        b"{}\n\n",
        b"a\nb\nc\nd\ne\n" * 20,
    ],
)
def test_blocks_give_the_same_rows_as_the_line_iterator(tmp_path: Path, data: bytes, block: int) -> None:
    path = _write(tmp_path / "b.jsonl", data)
    want = list(iter_raw_rows(path, max_row_bytes=100))
    assert _rows_from_blocks(path, block_bytes=block, max_row_bytes=100) == want


def test_blocks_stop_at_a_range_end_and_resume(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.jsonl", b"".join(b'{"i": %d}\n' % i for i in range(100)))
    rows = list(iter_raw_rows(path))
    cut = rows[40]
    head = _rows_from_blocks(path, 0, cut.offset, block_bytes=50)
    tail = _rows_from_blocks(path, cut.offset, None, start_row=cut.row, block_bytes=50)
    assert head == rows[:40] and tail == rows[40:]
