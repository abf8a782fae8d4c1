"""Issue 13: the Data screen's detail is not redrawn with what it shows already.

The cursor resting on the row the screen opened with showed that row again after the first paint: a
Static.update lays the whole screen out again. Counts the body's updates, not time.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from ftui.data.index import parse_for_display
from ftui.tui.widgets.conversation_view import ConversationView


class _One(App):
    def compose(self) -> ComposeResult:
        yield ConversationView()


async def test_same_row_and_findings_are_not_drawn_again(monkeypatch) -> None:  # noqa: ANN001
    updates: list[object] = []
    plain = Static.update

    def counting(self: Static, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if self.id == "conversation-body":
            updates.append(args[0] if args else None)
        plain(self, *args, **kwargs)

    data = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'
    app = _One()
    async with app.run_test() as pilot:
        view = app.query_one(ConversationView)
        monkeypatch.setattr(Static, "update", counting)
        finding = {"id": "W001", "severity": "warning", "message": "short"}
        view.show(parse_for_display(1, 0, data, len(data), False), [finding])
        view.show(parse_for_display(1, 0, data, len(data), False), [dict(finding)])  # equal: left as it is
        assert len(updates) == 1
        view.show(parse_for_display(1, 0, data, len(data), False), [])  # other findings: drawn
        assert len(updates) == 2
        view.show_message("cannot read row 1")
        view.show(parse_for_display(1, 0, data, len(data), False), [])  # after a message: drawn again
        assert len(updates) == 4
        await pilot.pause()
