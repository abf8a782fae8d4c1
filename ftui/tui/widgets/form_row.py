"""One row of a form — its label, its field and the field's help — as one widget.

A row was a Horizontal holding a Label, the field and a Static: four widgets, of which Textual
composes, styles, lays out and renders every one. The Train form has fifteen rows on its first
show, and those sixty widgets were about a third of the first switch to Train (issue 13: each
mode's first switch <= 300 ms). Here the row holds only the field and draws the label and the
help in the columns around it, so a row is two widgets.

The columns come from the field's CSS: the field sits after a left margin, which the label fills
(right-aligned, wrapped when longer), and the help starts two columns after the field and wraps in
the rest of the width; the row is as tall as its longest column, so no help is ever cut.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Collapsible

HELP_GAP = 2  # blank columns between the field and its help


class FormRow(Widget):
    """A form row: ``field`` is its only child; ``label`` and ``help`` are drawn by the row itself."""

    COMPONENT_CLASSES = {"form-row--label", "form-row--help"}  # noqa: RUF012 - Textual's class attribute
    DEFAULT_CSS = """
    FormRow { layout: horizontal; height: auto; }
    FormRow > .form-row--label { color: $text-muted; }
    FormRow > .form-row--help { color: $text-muted; }
    FormRow:focus-within > .form-row--help { color: $text; }
    FormRow.-invalid > .form-row--label { color: $error; text-style: bold; }
    FormRow.-invalid > .form-row--help { color: $error; }
    """

    def __init__(self, label: str, field: Widget, help_text: str | Text = "", *, id: str | None = None,  # noqa: A002
                 classes: str | None = None, mount_field: bool = True) -> None:
        """``mount_field=False``: the caller mounts ``field`` once the row is mounted (``mount_field_later``)."""
        super().__init__(*([field] if mount_field else []), id=id, classes=classes)
        self.label = label
        self.field = field
        self._help = help_text
        self._wrapped: tuple[Any, list[Text], list[Text]] | None = None  # (key, label lines, help lines)

    @property
    def help_text(self) -> str:
        """The help (or the problem and its fix) as the row shows it, unwrapped."""
        return self._help.plain if isinstance(self._help, Text) else str(self._help)

    def set_help(self, help_text: str | Text) -> None:
        """Show ``help_text`` beside the field; the row grows or shrinks to fit it whole."""
        if _plain(help_text) == _plain(self._help):
            return
        self._help = help_text
        self._wrapped = None
        self.refresh(layout=True)

    def columns(self) -> tuple[int, int]:
        """(label width, the column the help starts at), from the field's left margin and width."""
        label_width = self.field.styles.margin.left
        width = self.field.styles.width
        field_width = width.cells if width is not None and width.cells is not None else self.field.outer_size.width
        return label_width, label_width + int(field_width or 0) + HELP_GAP

    def _lines(self, width: int) -> tuple[list[Text], list[Text]]:
        """The label's and the help's lines at a row ``width`` wide (kept until the width or the help changes)."""
        label_width, help_at = self.columns()
        key = (width, label_width, help_at)
        if self._wrapped is not None and self._wrapped[0] == key:
            return self._wrapped[1], self._wrapped[2]
        console = self.app.console
        # right-aligned by the padding render() puts before each line (drawn plain, as the terminal's blanks)
        label_lines = [line.copy() for line in Text(self.label).wrap(console, max(1, label_width - 1))] \
            if label_width > 1 else []
        for line in label_lines:
            line.rstrip()
        help_source = self._help if isinstance(self._help, Text) else Text(str(self._help))
        help_lines = list(help_source.wrap(console, max(1, width - help_at))) if help_source.plain else []
        self._wrapped = (key, label_lines, help_lines)
        return label_lines, help_lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        label_lines, help_lines = self._lines(width)
        return max(super().get_content_height(container, viewport, width), len(label_lines), len(help_lines), 1)

    def render(self) -> Text:
        width = self.content_size.width
        label_width, help_at = self.columns()
        label_lines, help_lines = self._lines(width)
        label_style = self.get_component_rich_style("form-row--label")
        help_style = self.get_component_rich_style("form-row--help")
        out = Text(no_wrap=True, overflow="crop", end="")
        for index in range(max(len(label_lines), len(help_lines), 1)):
            if index:
                out.append("\n")
            label = label_lines[index] if index < len(label_lines) else Text()
            out.append(" " * max(0, label_width - 1 - label.cell_len))
            out.append_text(_styled(label, label_style))
            if index < len(help_lines):
                out.append(" " * max(0, help_at - max(label_width - 1, label.cell_len)))
                out.append_text(_styled(help_lines[index], help_style))
        return out


def _plain(text: str | Text) -> str:
    return text.plain if isinstance(text, Text) else str(text)


def _styled(text: Text, style: Style) -> Text:
    """``text`` under ``style`` (its own spans, a problem's bold name, drawn over it)."""
    out = text.copy()
    out.stylize_before(style)
    out.rstrip()
    return out


class FormSection(Collapsible, inherit_css=False):
    """A form's collapsible section, without Collapsible's ``:focus-within`` tint.

    A ``:focus-within`` rule makes Textual restyle the whole subtree of the outermost widget that has
    one on every focus change inside it: each Tab in an opened Train section restyled all of its rows
    and fields, to tint the section's background by 5 %. The focused field and its row show focus."""

    DEFAULT_CSS = """
    FormSection {
        width: 1fr;
        height: auto;
        background: $surface;
        border-top: hkey $background;
        padding-bottom: 1;
        padding-left: 1;
        &.-collapsed > Contents { display: none; }
        &:ansi { border-top: hkey ansi_blue; background: $panel; }
    }
    """
