"""The row list builds each line's segments directly; they are the ones the rich Text it used to build rendered to.

The reference below is the Text-based line of the row list before (commit 40218a2): same pieces, same styles,
the cursor style over the whole line, for plain, marked, unparsable, control-character and wide-character rows,
at a wide and a narrow width.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip

from ftui.data.index import RowIndex, row_preview, row_preview_parts
from ftui.textsafe import one_line
from ftui.tui.widgets.row_list import SEVERITY_GLYPH, RowList


def _text_line(rows: RowList, line: int) -> Strip:
    """The row list's line as it was built before: a rich Text, rendered."""
    width = rows.scrollable_content_region.width
    row = rows.row_at(line)
    assert row is not None and rows.index is not None
    style = rows.get_component_rich_style
    text = Text(no_wrap=True, overflow="ellipsis", end="", style=rows._row_style())  # noqa: SLF001
    digits = max(4, len(str(max(rows.index.rows_known, 1))))
    text.append(f"{row + 1:>{digits}} ", style("row-list--rownum"))
    mark = rows.mark_of(row)
    if mark:
        glyph, name = SEVERITY_GLYPH.get(mark[0], ("·", "row-list--info"))
        text.append(glyph + " ", style(name))
        ids = mark[1].split(",")
        text.append(f"{ids[0][:5] + ('+' if len(ids) > 1 else ''):<7}", style("row-list--ids"))
    elif rows.has_marks:
        text.append(" " * 9)
    else:
        text.append(" ")
    shown = rows.index.display_row(row)
    if shown.value is None:
        text.append(one_line(row_preview(shown, width * 2), width) or f"({shown.error})", style("row-list--bad"))
    else:
        ask, answer = row_preview_parts(shown)
        room = width - text.cell_len - 1
        if not answer or room < 30:
            text.append(one_line(row_preview(shown, width * 2), max(room, 10)))
        else:
            answer_width = max(17, room // 3)
            ask_width = room - answer_width - 2
            text.append(one_line(ask, ask_width).ljust(ask_width))
            text.append(" → ", style("row-list--ids"))
            text.append(one_line(answer, answer_width - 1), style("row-list--answer"))
    if line == rows.cursor:
        text.stylize(style("row-list--cursor"))
    base = rows._row_style()  # noqa: SLF001
    return Strip(list(text.render(rows.app.console))).crop_extend(0, width, base).simplify()


def _chat(user: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})


ROWS = [
    _chat("where is my invoice for March", "billing"),
    b'{"messages": [{"role": "user", "content": "cut',
    _chat("bell \x07 carriage \r return and \x1b[31mred\x1b[0m [bold]markup[/bold]", "technical"),
    _chat("宽字符的问题 🙂 emoji and wide text " * 3, "账户"),
    orjson.dumps({"prompt": "Summarise this", "completion": ""}),
    orjson.dumps({"text": "a plain pretraining row with no answer column at all"}),
    _chat("where is my refund", "billing"),
]
MARKS = {0: ("error", "E002"), 2: ("warning", "W012,W002"), 3: ("info", "I001"), 5: ("mystery", "X9")}


@pytest.mark.parametrize("width", [100, 40])
async def test_row_lines_are_the_segments_the_rich_text_rendered(tmp_path: Path, width: int) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"\n".join(ROWS) + b"\n")

    class One(App):
        CSS = f"RowList {{ width: {width}; height: 10; }}"

        def compose(self) -> ComposeResult:
            yield RowList(id="rows")

    app = One()
    async with app.run_test(size=(120, 12)) as pilot:
        rows = app.query_one(RowList)
        index = RowIndex(path)
        index.build()
        rows.set_index(index)
        rows.focus()
        await pilot.pause()
        for marks in (False, True):
            if marks:
                rows.set_marks(MARKS.get, True)
            for cursor in (0, 3):
                rows.move_to_line(cursor)
                await pilot.pause()
                for line in range(len(ROWS)):
                    assert list(rows.render_line(line)) == list(_text_line(rows, line)), (marks, cursor, line)
