"""Lint findings grouped by check id, with counts; selecting one jumps to its row.

Findings stream in while the linter runs, so groups are created and re-counted
incrementally. A group lists at most ``MAX_CHILDREN`` rows (a file can have 100k
duplicates); the row list's id filter (``f``) shows all of them.
Findings are duck-typed: any object (or dict) with ``id``, ``severity``, ``row``
(1-based), ``message`` and optionally ``hint`` / ``offset``.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ftui.textsafe import one_line
from ftui.tui.widgets.hanging import hanging

MAX_CHILDREN = 200
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_LOOK = {"error": ("✖", "bold red"), "warning": ("▲", "yellow"), "info": ("·", "dim")}


def finding_attr(finding: Any, name: str) -> Any:
    return finding.get(name) if isinstance(finding, dict) else getattr(finding, name, None)


class _Group:
    __slots__ = ("id", "severity", "title", "count", "node", "shown")

    def __init__(self, check_id: str, severity: str, title: str, node: TreeNode[Any]) -> None:
        self.id, self.severity, self.title, self.node = check_id, severity, title, node
        self.count = 0
        self.shown = 0


class FindingsPanel(Tree[Any]):
    """The findings tree: one node per check id, one leaf per finding (capped)."""

    DEFAULT_CSS = """
    FindingsPanel { background: $surface; padding: 0 0; }
    """

    class JumpToRow(Message):
        """A finding was chosen: show 0-based ``row``."""

        def __init__(self, row: int, finding: Any) -> None:
            super().__init__()
            self.row = row
            self.finding = finding

    def __init__(self, *, id: str | None = None, titles: dict[str, str] | None = None) -> None:
        super().__init__(Text("findings"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self.titles = titles or {}
        self._groups: dict[str, _Group] = {}
        self.total = 0
        self.last_shown: str | None = None  # the finding last opened in full (Enter)
        self._count_width = 1  # the widest group count shown: the titles start right after it
        self._style_generation = 0
        self._base_style: tuple[int, Any] | None = None  # (style generation, rich_style): see render_line

    def notify_style_update(self) -> None:
        self._style_generation += 1  # theme, focus or CSS changed
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        """Tree's, with the panel's ``rich_style`` (a walk up every ancestor's styles) taken once per style
        change instead of once per line: most of the panel's first paint when it has no findings yet."""
        cached = self._base_style
        if cached is None or cached[0] != self._style_generation:
            cached = self._base_style = (self._style_generation, self.rich_style)
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, cached[1])

    def _on_resize(self, event: events.Resize) -> None:
        """Tree's own handler drops every line and lays the whole screen out again on each resize; the first
        layout of the Data screen sizes the panel, so that was one more layout after its first frame. The lines do
        not depend on the panel's size (cached lines are keyed on the width), so a repaint does."""
        event.prevent_default()
        self._line_cache.grow(event.size.height)
        self.refresh()

    def reset_findings(self, titles: dict[str, str] | None = None) -> None:
        if titles is not None:
            self.titles = titles
        self._groups.clear()
        self.total = 0
        self._count_width = 1
        self.clear()

    def add_findings(self, findings: list[Any]) -> None:
        """Add a batch (called from the UI thread, ~4 times a second while linting)."""
        touched: set[str] = set()
        new_group = False
        for f in findings:
            check_id = str(finding_attr(f, "id"))
            group = self._groups.get(check_id)
            if group is None:
                severity = str(finding_attr(f, "severity") or "info")
                group = _Group(check_id, severity, self.titles.get(check_id, ""), self.root.add(Text(check_id), data=check_id))
                self._groups[check_id] = group
                new_group = True
            group.count += 1
            self.total += 1
            touched.add(check_id)
            if group.shown < MAX_CHILDREN:
                group.shown += 1
                group.node.add_leaf(self._leaf_label(f), data=f)
        self._relabel_groups(touched)
        if new_group:
            self._sort_groups()

    def set_counts(self, counts: dict[str, int], severities: dict[str, str]) -> None:
        """Set group totals (findings known only by row count too, on big files)."""
        new_group = False
        changed: set[str] = set()
        for check_id, count in counts.items():
            group = self._groups.get(check_id)
            if group is None:
                group = _Group(check_id, severities.get(check_id, "info"), self.titles.get(check_id, ""),
                               self.root.add(Text(check_id), data=check_id))
                self._groups[check_id] = group
                new_group = True
            if group.count != count:
                self.total += count - group.count
                group.count = count
                changed.add(check_id)
        self._relabel_groups(changed)
        if new_group:
            self._sort_groups()

    def _sort_groups(self) -> None:
        children = self.root._children  # Tree has no public reorder; the order is display order
        children.sort(key=lambda n: (SEVERITY_ORDER.get(self._groups[n.data].severity, 9), n.data))
        self._invalidate()

    def _relabel_groups(self, check_ids: set[str]) -> None:
        """Relabel these groups, or all of them when the widest count grew or shrank.

        The count column is as wide as the widest count, not a fixed 6: on a 160-column screen the
        panel has ~68 columns, and four spare ones are what a long check name needs to be read whole.
        """
        width = max((len(f"{g.count:,}") for g in self._groups.values()), default=1)
        if width != self._count_width:
            self._count_width = width
            check_ids = set(self._groups)
        for check_id in check_ids:
            self._relabel(self._groups[check_id])

    def _relabel(self, group: _Group) -> None:
        glyph, style = SEVERITY_LOOK.get(group.severity, ("·", "dim"))
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(f"{glyph} ", style)
        label.append(f"{group.id:<5} ", "bold")
        label.append(f"{group.count:>{self._count_width},}  ", style)
        label.append(group.title or "", "")
        if group.count > group.shown:
            label.append(f"  (first {group.shown})", "dim")
        group.node.set_label(label)

    @staticmethod
    def _leaf_label(f: Any) -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        row = finding_attr(f, "row")
        label.append(f"row {row:<7}" if row else "file      ", "dim")
        label.append(one_line(str(finding_attr(f, "message") or ""), 160))
        return label

    @property
    def highlighted_id(self) -> str | None:
        """The check id under the cursor (a group, or the group of a finding)."""
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data if isinstance(node.data, str) else str(finding_attr(node.data, "id"))

    def group_ids(self) -> list[str]:
        return [n.data for n in self.root.children]

    def expand_group(self, check_id: str) -> None:
        group = self._groups.get(check_id)
        if group is not None:
            group.node.expand()
            self.move_cursor(group.node)

    def full_text(self, data: Any) -> RenderableType | None:
        """A node's line in full, wrapped under its mark: a check's whole name, a finding's whole message."""
        if isinstance(data, str):
            group = self._groups.get(data)
            if group is None:
                return None
            glyph, style = SEVERITY_LOOK.get(group.severity, ("·", "dim"))
            return hanging([(Text.assemble((f"{glyph} ", style), (f"{group.id} ", "bold")),
                             Text(group.title or "") + Text(f"  {group.count:,} finding(s)", style="dim"))])
        row = finding_attr(data, "row")
        return hanging([(Text(f"row {row} " if row else "file ", style="dim"),
                         Text(one_line(str(finding_attr(data, "message") or ""), 4000)))])

    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        data = event.node.data
        if data is None or isinstance(data, str):
            return  # a group: Enter toggles it (Tree's default)
        event.stop()
        row = finding_attr(data, "row")
        if isinstance(row, int) and row >= 1:
            self.post_message(self.JumpToRow(row - 1, data))
        self.show_in_full(data)

    def show_in_full(self, finding: Any) -> None:
        """The whole message and its fix, wrapped: the list line is cut to the panel's width."""
        message = one_line(str(finding_attr(finding, "message") or ""), 4000)
        hint = str(finding_attr(finding, "hint") or "")
        row = finding_attr(finding, "row")
        text = Text(message)
        if hint:
            text.append("\nFix: " + one_line(hint, 2000))
        where = f"row {row}" if row else "file"
        self.last_shown = text.plain
        self.app.notify(text, title=f"{finding_attr(finding, 'id')} · {where}", timeout=20)
