"""The Pilot that ``FtuiApp.run_test`` hands to tests: its waits include a screen still mounting.

A mode's first switch builds its screen in the screen's own task, so Textual's Pilot could return from
``press("f3")`` and ``pause()`` while Train was still composing: a test then read the form's Selects
unmounted (``Select.NULL``, "method: one of lora, qlora, ...") about once in twenty runs under load.
Waiting for that mount is waiting on state, which a test must do anyway; a mount is bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from textual.pilot import Pilot

# Rounds of Textual's wait while messages are still queued: each round sees the messages queued when it began
# handled, and a message bubbling up (a field's Changed, to its form, then to the screen) is posted again one level
# up each time. Bounded: a screen fed by a running training always has something queued.
DRAIN_ROUNDS = 8


class FtuiPilot(Pilot):
    """Textual's Pilot; before each of its waits for the screen, every screen of the app has mounted, and the wait
    goes on while messages are still queued on the screen (a value set by a test reached the screen's handler
    one bubble later: a Plan test read the estimate before it followed three fields, 1 stress run in 3)."""

    async def _wait_for_screen(self, timeout: float = 30.0) -> bool:
        await screens_mounted(self.app, timeout)
        done = await super()._wait_for_screen(timeout)
        for _ in range(DRAIN_ROUNDS):
            if not done or not _messages_queued(self.app):
                break
            done = await super()._wait_for_screen(timeout)
        return done


def _messages_queued(app: Any) -> bool:
    try:
        nodes = [app, *app.screen.walk_children(with_self=True)]
    except Exception:  # noqa: BLE001 - no screen (shutting down): nothing to wait for
        return False
    return any(node.message_queue_size for node in nodes)


async def screens_mounted(app: Any, timeout: float) -> None:
    """Wait (at most ``timeout`` s in all) until a first switch under way has started its screen's build
    (``FtuiApp.switches_done``: the build waits for the "opening" notice to be painted) and every screen in the
    app's mode stacks has run its mount."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    switches = getattr(app, "switches_done", None)
    if isinstance(switches, asyncio.Event) and not switches.is_set():
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(switches.wait(), timeout)
    while True:
        waiting = [screen for stack in list(app._screen_stacks.values()) for screen in stack  # noqa: SLF001
                   if not screen._mounted_event.is_set()]  # noqa: SLF001
        left = deadline - loop.time()
        if not waiting or left <= 0:
            return
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(waiting[0]._mounted_event.wait(), left)  # noqa: SLF001
