"""The eval/test file a training set must not leak into (W005): exact keys of its rows, MinHash bands for near copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftui.data import formats


def norm(text: str) -> str:
    """The text two rows must share to count as the same input or answer."""
    return text.strip().lower()


class EvalSet:
    """The eval file's documents (all turns but the system prompt), read once through ``formats``."""

    def __init__(self, path: str | Path, near: bool) -> None:
        self.path = Path(path)
        self.docs: list[str] = []
        self.doc_rows: list[int] = []
        self.rows = 0
        self.exact: dict[int, int] = {}
        for row, _off, conv, _err in formats.iter_conversations(self.path):
            self.rows += 1
            if conv is None:
                continue
            doc = "\n".join(m.content for m in conv.messages if m.role != "system")
            self.exact.setdefault(hash(norm(doc)), row)
            self.docs.append(doc)
            self.doc_rows.append(row)
        self.lsh: Any = None
        if near and self.docs:
            from ftui.data.dedup import MinHashLSH

            self.lsh = MinHashLSH()
            for i in range(0, len(self.docs), 1000):
                self.lsh.add(self.docs[i : i + 1000])

    def exact_message(self, doc: str) -> str | None:
        """The W005 message when ``doc`` is also in the eval file, else None."""
        row = self.exact.get(hash(norm(doc)))
        return None if row is None else f"also in the eval file {self.path.name} (row {row}, exact)"

    def near_copies(
        self, near: Any, doc_text: Callable[[int], str], near_seq: Any, threshold: float, leaked: set[int]
    ) -> list[tuple[int, str]]:
        """(row seq, W005 message) for each training row, not already leaked, that nearly copies an eval row."""
        if self.lsh is None or near is None:
            return []
        from ftui.data.dedup import verified_pairs

        pairs = verified_pairs(near.query(self.lsh), doc_text, self.docs.__getitem__, threshold)
        best: dict[int, tuple[int, float]] = {}
        for i, j, jac in pairs:
            seq = near_seq[i]
            if seq in leaked:
                continue
            if seq not in best or jac > best[seq][1]:
                best[seq] = (j, jac)
        return [(seq, f"near copy of eval row {self.doc_rows[j]} in {self.path.name} (Jaccard {jac:.2f})")
                for seq, (j, jac) in sorted(best.items())]
