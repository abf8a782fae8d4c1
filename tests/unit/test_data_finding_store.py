"""The Data screen's bounded finding store: detail for the first N, rows for all."""

from __future__ import annotations

from ftui.tui.screens.data_findings import FindingStore


def _f(check_id: str, severity: str, row: int | None, message: str = "m") -> dict:
    return {"id": check_id, "severity": severity, "row": row, "offset": 0, "message": message}


def test_marks_filters_and_navigation() -> None:
    store = FindingStore()
    kept = store.add([_f("W002", "warning", 5), _f("E002", "error", 5), _f("E002", "error", 2), _f("I001", "info", None)])
    assert len(kept) == 4 and store.total == 4 and not store.truncated
    assert store.mark(4) == ("error", "E002,W002")  # row 5 is 0-based 4; errors listed first
    assert store.mark(1) == ("error", "E002") and store.mark(0) is None
    assert list(store.rows_for("E002")) == [1, 4]  # arrived out of order, sorted on demand
    assert store.rows_with_severity("warning") == [4]
    assert store.ids() == ["E002", "W002", "I001"]
    assert store.next_row(-1, 1) == 1 and store.next_row(1, 1) == 4 and store.next_row(4, 1) == 1  # wraps
    assert store.next_row(1, -1) == 4 and store.next_row(4, -1, "E002") == 1
    assert store.next_row(0, 1, "W999") is None
    assert [f["id"] for f in store.findings_at(4)] == ["W002", "E002"]
    assert store.file_level[0]["id"] == "I001"


def test_detail_is_capped_but_every_row_counts() -> None:
    store = FindingStore(max_detailed=3)
    kept = store.add([_f("W002", "warning", r) for r in range(1, 11)] + [_f("I005", "info", None)])
    assert len(kept) == 4  # 3 detailed rows + the file-level finding, always kept
    store.add_rows("W002", "warning", [12, 11, 40])
    assert store.total == 14 and store.truncated
    assert store.count_by_id["W002"] == 13 and store.severity_counts["warning"] == 13
    assert list(store.rows_for("W002")) == [*range(10), 10, 11, 39]
    assert store.mark(39) == ("warning", "W002") and store.findings_at(39) == []
    assert store.next_row(11, 1) == 39


def test_rows_from_interleaved_halves_stay_findable() -> None:
    """The linter may stream two halves of the file interleaved: sorted runs, not one sorted list."""
    store = FindingStore(max_detailed=0)
    expected = []
    for step in range(50):
        low = list(range(step * 10 + 1, step * 10 + 11))
        high = [r + 100_000 for r in low]
        store.add_rows("W002", "warning", high)
        store.add_rows("W002", "warning", low)
        expected += low + high
    assert len(store._runs["W002"]) < 12  # runs are merged as they grow
    assert list(store.rows_for("W002")) == sorted(r - 1 for r in expected)
    assert store.mark(100_004) == ("warning", "W002") and store.mark(700) is None
    assert store.next_row(499, 1) == 100_000 and store.next_row(100_000, -1) == 499
    store.add_rows("W002", "warning", [5])  # a repeat of row 5
    assert list(store.rows_for("W002")).count(4) == 1
