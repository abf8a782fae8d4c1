"""A lazily read list of dataset rows: one line per row, millions of rows, instant scroll.

Line API (``ScrollView`` + ``render_line``): the widget's virtual height is the row
count, and only the ~40 visible lines are ever read — each one from the
:class:`~ftui.data.index.RowIndex` (one ``pread``, parsed rows in its LRU cache). A
stock ``DataTable`` would hold every row in memory and build them all up front.

A *view* (a sorted list of 0-based rows) restricts the list to filtered rows; ``None``
shows every row. ``mark_of(row)`` gives (worst severity, "ID,ID") for a row with
findings, so they stand out; it is asked only for the visible rows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ftui.data.index import RowIndex, row_preview, row_preview_parts
from ftui.textsafe import one_line

SEVERITY_GLYPH = {"error": ("✖", "row-list--error"), "warning": ("▲", "row-list--warning"), "info": ("·", "row-list--info")}


class RowList(ScrollView, can_focus=True):
    """Rows of the open dataset, read on demand."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First row", show=False),
        Binding("end", "edge(1)", "Last row", show=False),
        Binding("enter", "select", "Show row", show=False),
    ]

    COMPONENT_CLASSES = {
        "row-list--cursor",
        "row-list--rownum",
        "row-list--error",
        "row-list--warning",
        "row-list--info",
        "row-list--ids",
        "row-list--bad",
        "row-list--answer",
    }

    DEFAULT_CSS = """
    RowList { background: $surface; }
    RowList > .row-list--cursor { background: $accent 40%; text-style: bold; }
    RowList:focus > .row-list--cursor { background: $accent 70%; }
    RowList > .row-list--rownum { color: $text-muted; }
    RowList > .row-list--error { color: $error; text-style: bold; }
    RowList > .row-list--warning { color: $warning; }
    RowList > .row-list--info { color: $text-muted; }
    RowList > .row-list--ids { color: $text-muted; }
    RowList > .row-list--bad { color: $error; }
    RowList > .row-list--answer { color: $success; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to ``row`` (0-based file row)."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    class Selected(Message):
        """Enter was pressed on ``row`` (0-based file row)."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.index: RowIndex | None = None
        self.view: Sequence[int] | None = None
        self.mark_of: Callable[[int], tuple[str, str] | None] = lambda row: None
        self.has_marks = False  # reserve the marks column once any row has findings
        self._marks_generation = 0
        self._last_count = -1
        # rendered lines by (row, width, cursor?, mark, focus, style generation): scrolling and
        # cursor moves re-render only what changed
        self._strips: OrderedDict[tuple[Any, ...], Strip] = OrderedDict()
        self._style_generation = 0
        self._base_style: tuple[int, Any] | None = None  # (style generation, rich_style) (see _row_style)

    # -- data ---------------------------------------------------------------------------

    def set_marks(self, mark_of: Callable[[int], tuple[str, str] | None], has_marks: bool) -> None:
        """New findings arrived: re-ask ``mark_of`` for the visible rows."""
        self.mark_of = mark_of
        self.has_marks = has_marks
        self._marks_generation += 1
        self.refresh()

    def set_index(self, index: RowIndex | None) -> None:
        self.index = index
        self.view = None
        self.mark_of = lambda row: None
        self.has_marks = False
        self._strips.clear()
        self.cursor = 0
        self.scroll_to(y=0, animate=False)
        self.sync_size()

    def set_view(self, view: Sequence[int] | None) -> None:
        """Show only ``view`` (0-based rows, ascending); keeps the cursor on the same row if it is in it."""
        current = self.current_row
        self.view = view
        self.sync_size()
        line = self.line_of(current) if current is not None else None
        self.move_to_line(line if line is not None else 0)
        self.refresh()

    @property
    def row_count(self) -> int:
        if self.view is not None:
            return len(self.view)
        return self.index.rows_known if self.index is not None else 0

    @property
    def current_row(self) -> int | None:
        """The 0-based file row under the cursor, or None when the list is empty."""
        return self.row_at(self.cursor)

    def row_at(self, line: int) -> int | None:
        if not 0 <= line < self.row_count:
            return None
        return self.view[line] if self.view is not None else line

    def line_of(self, row: int) -> int | None:
        """The list line showing 0-based ``row``, or None when it is filtered out / not indexed yet."""
        if self.view is None:
            return row if 0 <= row < self.row_count else None
        import bisect

        i = bisect.bisect_left(self.view, row)
        return i if i < len(self.view) and self.view[i] == row else None

    def sync_size(self) -> None:
        """Pick up rows the index found since the last call (cheap; called on a timer)."""
        count = self.row_count
        if count != self._last_count:
            self._last_count = count
            # no width: a row is cut to the list's width, never scrolled sideways. The width at this moment
            # (before the vertical scrollbar took its two columns) turned a horizontal scrollbar on.
            self.virtual_size = Size(0, count)
            # the scrollbar as it will be, in the next frame: Textual decides it in a layout, and a screen laid out
            # before it showed (ftui.tui.prebuild) is not laid out again as it shows
            self._scroll_update(self.virtual_size)
            self.refresh()

    # -- movement -----------------------------------------------------------------------

    def move_to_line(self, line: int) -> None:
        count = self.row_count
        line = max(0, min(line, count - 1)) if count else 0
        old = self.cursor
        self.cursor = line
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if line < top:
            self.scroll_to(y=line, animate=False)
            self.refresh()
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False)
            self.refresh()
        else:  # only the old and the new cursor line change
            self.refresh_line(old)
            self.refresh_line(line)
        row = self.current_row
        if row is not None:
            self.post_message(self.Highlighted(row))

    def go_to_row(self, row: int) -> bool:
        """Move the cursor to 0-based ``row``; False if it is not in the current view."""
        line = self.line_of(row)
        if line is None:
            return False
        self.move_to_line(line)
        height = max(1, self.scrollable_content_region.height)
        if not (self.scroll_y <= line < self.scroll_y + height - 2):  # centre a far jump
            self.scroll_to(y=max(0, line - height // 3), animate=False)
        return True

    def action_cursor(self, delta: int) -> None:
        self.move_to_line(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.move_to_line(self.cursor + direction * height)

    def action_edge(self, end: int) -> None:
        self.move_to_line(self.row_count - 1 if end else 0)

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(row))

    def on_click(self, event: events.Click) -> None:
        line = int(self.scroll_y) + event.y
        if 0 <= line < self.row_count:
            self.move_to_line(line)
            if event.chain >= 2:
                self.action_select()

    # -- rendering ----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        self._style_generation += 1  # theme, focus or CSS changed: cached lines are stale
        super().notify_style_update()

    def _row_style(self) -> Any:
        """``rich_style`` (which walks every ancestor's background: 1-2 ms a call) once per style generation,
        not twice per painted line: the first paint of the Data screen asked it ~90 times."""
        cached = self._base_style
        if cached is None or cached[0] != self._style_generation:
            cached = self._base_style = (self._style_generation, self.rich_style)
        return cached[1]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = int(self.scroll_y) + y
        row = self.row_at(line)
        if row is None or self.index is None:
            return Strip.blank(width, self._row_style())
        digits = len(str(self.index.rows_known))  # the number column widens as the index grows
        key = (row, width, line == self.cursor, digits, self._marks_generation, self._style_generation)
        strip = self._strips.get(key)
        if strip is not None:
            self._strips.move_to_end(key)
            return strip
        base = self._row_style()
        cursor = self.get_component_rich_style("row-list--cursor") if line == self.cursor else None
        # the segments a rich Text of these pieces (style=base, the cursor stylized over it) renders to, built
        # directly: a Text, its spans and its render were ~2/3 of a line's cost (42 lines on the first paint)
        segments = []
        for piece, style in self._line_pieces(row, width):
            piece = strip_control_codes(piece)  # as Text.append does
            if piece:
                style = base if style is None else base + style
                segments.append(Segment(piece, style if cursor is None else style + cursor))
        strip = Strip(segments).crop_extend(0, width, base).simplify()
        self._strips[key] = strip
        if len(self._strips) > 512:
            self._strips.popitem(last=False)
        return strip

    def _line_pieces(self, row: int, width: int) -> list[tuple[str, Style | None]]:
        """The line of ``row``: (text, component style or None) pieces, left to right."""
        assert self.index is not None
        style = self.get_component_rich_style
        total = max(self.index.rows_known, 1)
        digits = max(4, len(str(total)))
        pieces: list[tuple[str, Style | None]] = [(f"{row + 1:>{digits}} ", style("row-list--rownum"))]
        mark = self.mark_of(row)
        if mark:
            glyph, name = SEVERITY_GLYPH.get(mark[0], ("·", "row-list--info"))
            pieces.append((glyph + " ", style(name)))
            ids = mark[1].split(",")
            shown_ids = ids[0][:5] + ("+" if len(ids) > 1 else "")
            pieces.append((f"{shown_ids:<7}", style("row-list--ids")))
        elif self.has_marks:
            pieces.append((" " * 9, None))
        else:
            pieces.append((" ", None))
        try:
            shown = self.index.display_row(row)
        except (IndexError, OSError) as exc:
            pieces.append((one_line(f"cannot read this row: {exc}", width), style("row-list--bad")))
            return pieces
        if shown.value is None:
            preview = one_line(row_preview(shown, width * 2), width)
            pieces.append((preview or f"({shown.error})", style("row-list--bad")))
            return pieces
        ask, answer = row_preview_parts(shown)
        room = width - sum(cell_len(strip_control_codes(text)) for text, _ in pieces) - 1
        if not answer or room < 30:
            pieces.append((one_line(row_preview(shown, width * 2), max(room, 10)), None))
            return pieces
        answer_width = max(17, room // 3)
        ask_width = room - answer_width - 2
        pieces.append((one_line(ask, ask_width).ljust(ask_width), None))
        pieces.append((" → ", style("row-list--ids")))
        pieces.append((one_line(answer, answer_width - 1), style("row-list--answer")))
        return pieces


def strip_text(strip: Strip) -> str:
    """Plain text of a rendered strip (tests)."""
    return "".join(seg.text for seg in strip if isinstance(seg, Segment))

