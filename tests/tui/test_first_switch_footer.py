"""Issue 13: a mode's first switch shows its footer keys in the first layout, never rebuilt after the first paint.

Textual's Footer composed empty and recomposed on the first bindings signal: every key mounted, the
screen laid out and rendered again (~75-100 ms of each first switch). Counts the rebuilds, not time.
"""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ftui.tui.app import FtuiApp
from ftui.tui.widgets.key_footer import KeyFooter

SIZE = (160, 48)


@pytest.mark.parametrize(("mode", "key", "shown"), [
    ("data", "f2", {"o", "l"}),
    ("train", "f3", {"f5", "n", "m", "r"}),
    ("evaluate", "f4", {"enter", "x", "g"}),
])
async def test_first_switch_footer_is_not_rebuilt(monkeypatch: pytest.MonkeyPatch, mode: str, key: str,
                                                  shown: set[str]) -> None:
    rebuilt: list[str] = []
    plain = Footer.recompose

    async def recompose(footer: Footer) -> None:
        rebuilt.append(type(footer.screen).__name__)
        await plain(footer)

    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await app.screen.settled.wait()
        await pilot.pause()
        monkeypatch.setattr(Footer, "recompose", recompose)
        await pilot.press(key)
        while app.current_mode != mode:
            await pilot.pause()
        await app.screen.settled.wait()
        await pilot.pause()
        keys = {footer_key.key for footer_key in app.screen.query_one(KeyFooter).query(FooterKey)}
        assert shown <= keys
        assert rebuilt == []
