"""The footer of every screen: Textual's, rebuilt only when the keys it shows change.

Textual's Footer recomposes on every bindings signal (a focus change, a reactive with
``bindings=True``, the screen stack...), and one recompose mounts a widget per key: 25–35 ms
on a 2-core machine. Start-up sends about six such signals with the same keys each time, so
the footer filled in some 180 ms after the first frame (bench/startup.py). Here a recompose
whose keys are what the footer already shows does nothing, which also folds a burst of
signals into one rebuild.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """A Footer that skips recomposing when the shown keys are unchanged."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - Footer's own signature
        super().__init__(*args, **kwargs)
        self._shown: Hashable | None = None

    def shown_keys(self) -> tuple:
        """What compose() would show: every visible binding with its state, and the palette key."""
        app = self.app
        active = self.screen.active_bindings
        keys = tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, enabled, tooltip,
             binding.group.description if binding.group is not None else None)
            for _node, binding, enabled, tooltip in active.values()
            if binding.show
        )
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        palette_state = None if palette is None else (palette.binding.key, palette.enabled, palette.tooltip)
        return keys, palette_state, self.show_command_palette

    def compose(self) -> ComposeResult:
        """Footer's keys, each built with the footer's ``compact`` already: a key starts compact and the footer
        binds it to its own value as it mounts, which restyled every key twice (add, then remove the class).
        The palette key is not bound, and stays as Textual makes it."""
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    async def recompose(self) -> None:
        shown = self.shown_keys() if self.is_attached else None
        if shown is not None and shown == self._shown:
            return
        self._shown = shown
        await super().recompose()
