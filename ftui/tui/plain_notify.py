"""Notifications that are always plain text.

Toasts carry run ids, file names and library error messages: untrusted text. Textual parses
a notification as markup by default (and ``Widget.notify`` asks for it explicitly), so a
stray ``[/`` in an exception would raise in the middle of a repaint, and a ``rich.Text``
message crashes the toast outright. Every notification therefore goes through here: Text
becomes its plain string, control sequences are made inert, and markup is off.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ftui.textsafe import neutralize


def _plain(value: Any) -> str:
    return neutralize(value.plain if isinstance(value, Text) else str(value))


class PlainNotifications:
    """Mixed into the App, before ``textual.app.App``."""

    def notify(self, message: Any, *, title: Any = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:  # noqa: ARG002 - markup is never honoured
        super().notify(  # type: ignore[misc]
            _plain(message), title=_plain(title), severity=severity, timeout=timeout, markup=False
        )
