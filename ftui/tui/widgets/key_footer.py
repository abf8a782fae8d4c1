"""The footer of every screen: Textual's, with its keys in its first layout, rebuilt only when they change.

Textual's Footer composes empty and fills in after the first paint, when the screen's first
bindings signal arrives: a recompose, a relayout and a second render of the screen (~75-100 ms
of every mode's first switch on a 2-core machine). Here the footer composes its keys at once,
from the screen's bindings as they stand. Textual also recomposes on every later bindings signal
(a focus change, a reactive with ``bindings=True``, the screen stack...), and one recompose
mounts a widget per key: 25–35 ms. Start-up sends about six such signals with the same keys each
time; a recompose whose keys are what the footer already shows does nothing, which also folds a
burst of signals into one rebuild.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """A Footer that shows its keys from its first compose and skips recomposing when they are unchanged."""

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
        The palette key is not bound, and stays as Textual makes it.

        The first compose shows the screen's keys as they are now (Textual's would be empty until the first
        bindings signal); a screen whose key checks need what it has not mounted yet gets them then."""
        if not self._bindings_ready:
            try:
                self._shown = self.shown_keys()
            except NoMatches:
                return
            self.set_reactive(Footer._bindings_ready, True)
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
