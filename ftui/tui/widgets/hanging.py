"""Hanging indents: a label, then text whose wrapped lines start under the text, not at the left edge.

A ``Text`` that wraps in a narrow panel sends its continuation lines back to column 0, under
the label ("memory   needs about 0.8 GB ... / memory (bf16 ...") and the label column stops
reading as one. A two-column grid keeps them apart: the label never wraps, the text wraps in
its own column, and a word longer than the column (a path) is folded rather than cut.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text


def hanging(rows: Iterable[tuple[Text | str, RenderableType]], *, label_width: int | None = None) -> Table:
    """Rows of (label, text): each text wraps under itself; ``label_width`` lines up several grids."""
    grid = Table.grid(padding=0, collapse_padding=True)
    grid.add_column(no_wrap=True, min_width=label_width)
    grid.add_column(overflow="fold")
    for label, body in rows:
        grid.add_row(Text(label) if isinstance(label, str) else label,
                     Text(body) if isinstance(body, str) else body)
    return grid


def indented(body: Text | str, indent: int) -> Table:
    """``body`` with every line, wrapped ones too, ``indent`` columns in."""
    return hanging([(" " * indent, body)])
