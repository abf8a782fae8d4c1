"""The ftui Textual app: four modes (Plan, Data, Train, Evaluate), help, quit guard.

This module must import fast (the TUI paints before any ML library loads): screens
are imported lazily when their mode is first shown, and nothing here imports torch.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

if TYPE_CHECKING:  # pragma: no cover
    import threading

    from textual.app import AutopilotCallbackType
    from textual.pilot import Pilot

from ftui import __version__
from ftui.tui.plain_notify import PlainNotifications
from ftui.tui.widgets.mode_bar import MODES as MODE_TABLE
from ftui.workspace import Workspace

MODES_BY_NAME = {mode for mode, _, _ in MODE_TABLE}


class _Exiting(Exception):  # noqa: N818 - not an error: FtuiApp.call_from_thread's callback was not run
    pass


def _plan() -> Screen:
    from ftui.tui.screens.plan import PlanScreen

    return PlanScreen()


def _data() -> Screen:
    from ftui.tui.screens.data import DataScreen

    return DataScreen()


def _train() -> Screen:
    from ftui.tui.screens.train import TrainScreen

    return TrainScreen()


def _evaluate() -> Screen:
    from ftui.tui.screens.evaluate import EvaluateScreen

    return EvaluateScreen()


UI_SWITCH_INTERVAL_S = 0.001
TERMINAL_CHECK_S = 1.0  # how often the app checks that its terminal is still there
OPENING_WAIT_S = 1.0  # a first switch builds its screen once the "Opening…" notice is painted, or after this

# Textual's own bindings that would only clutter the help (the palette still has them).
_HIDDEN_IN_HELP = frozenset({"screen.copy_text", "copy_text", "command_palette", "app.command_palette"})
# Stock widgets' movement keys (a table's ctrl+pageup, home, cursor left...) say nothing a user
# needs spelled out: the help shows one summary row for them instead.
_NAVIGATION_PREFIXES = ("cursor_", "scroll_", "page_")


class FtuiApp(PlainNotifications, App[int]):
    """The terminal workbench."""

    TITLE = "ftui"
    # Every screen's stylesheet is read once with the app's: Textual makes screen CSS global
    # anyway, and a screen that brings its own CSS_PATH costs a full re-parse of every
    # stylesheet when it first opens (bench/startup.py).
    CSS_PATH = ["app.tcss", "screens/plan.tcss", "screens/data.tcss", "screens/train.tcss", "screens/evaluate.tcss"]
    MODES = {"plan": _plan, "data": _data, "train": _train, "evaluate": _evaluate}
    # The mode keys, help and Quit are in the mode bar at the top of every screen (and in the help),
    # so the footer keeps its width for the keys of the screen itself: at 120 columns the Train
    # screen's keys were cut off behind these.
    BINDINGS = [
        Binding("f1", "switch_mode('plan')", "Plan", id="mode.plan", priority=True, show=False),
        Binding("f2", "switch_mode('data')", "Data", id="mode.data", priority=True, show=False),
        Binding("f3", "switch_mode('train')", "Train", id="mode.train", priority=True, show=False),
        Binding("f4", "switch_mode('evaluate')", "Evaluate", id="mode.evaluate", priority=True, show=False),
        Binding("question_mark", "help", "Help", id="app.help", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
    ]

    def __init__(
        self,
        data_path: str | Path | None = None,
        model: str | None = None,
        start_mode: str | None = None,
        freeze_heap: bool | None = None,
        prebuild: bool | None = None,
    ) -> None:
        """``freeze_heap``: see ``_freeze_built``; ``prebuild``: build the other modes' screens while the user is
        idle (``ftui.tui.prebuild``). Both None: only when not headless (on a real terminal)."""
        super().__init__()
        self._freeze_heap = freeze_heap
        self._prebuild = prebuild
        from ftui.tui import memory

        self.keep_running = False  # "keep it running" was chosen on quit (or the terminal hung up)
        self.to_background = False  # "keep it running" was chosen: release the shell waiting on ftui
        # what the last session left (mode, dataset, wizard answers, form values); arguments win over it
        self.remembered: dict[str, Any] = memory.load()
        self.remembered_at_start = dict(self.remembered)  # what screens restore, before they save anew
        eval_path = None
        if data_path is None and model is None and Path(self.remembered.get("data_path", "")).is_file():
            data_path, model = self.remembered["data_path"], self.remembered.get("model")
            eval_path = self.remembered.get("eval_path")
        self.workspace = Workspace.create(data_path, model)
        if eval_path and Path(eval_path).is_file():
            self.workspace.eval_path = Path(eval_path)
        self.start_mode = start_mode or self.remembered.get("mode") or "plan"
        self.start_screen_mounted = asyncio.Event()  # set once the start mode's screen has mounted
        self._opened_modes: set[str] = set()  # modes whose screen has been built (see action_switch_mode)
        self.switches_done = asyncio.Event()  # cleared while a first switch waits for its notice to show
        self.switches_done.set()
        self._switching_to_built = False  # see delay_update
        self.prebuilt = asyncio.Event()  # set once every mode's screen is built (the prebuilder has none left)
        self._prebuilder: Any = None
        self.preloader: threading.Thread | None = None  # imports the other modes' screen modules (ftui.tui.prebuild)
        self.closing = False  # exit was asked for (perhaps held back until a mount ends): build nothing more
        self.sub_title = f"v{__version__}"

    def on_mount(self) -> None:
        # A training thread in this process holds the GIL between its torch calls; with the
        # default 5 ms switch interval every hand-back to the UI thread can wait that long, and
        # a repaint needs several. 1 ms keeps key presses snappy (bench/tui_latency.py) and costs
        # the run nothing measurable when the UI is idle (no thread asks for the GIL then).
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
        self._handle_termination_signals()

    # ------------------------------------------------------------- start-up
    # The start mode's screen is switched to once the DOM is ready, not in on_mount. Textual
    # holds every repaint back while the app mounts (App.batch_update) and waits there for a
    # screen switched to in on_mount to mount as well: that screen then lays itself out and
    # renders inside the batch, the frame is dropped, and the first frame that does reach the
    # terminal (a refresh or two later) lacks the body. Switched to here, it paints whole at
    # once (bench/startup.py; textual 8.2.8).
    async def on_ready(self) -> None:
        self._opened_modes.add(self.start_mode)
        await self.switch_mode(self.start_mode)
        self.start_screen_mounted.set()
        from ftui.tui.prebuild import ORDER

        # after the start screen's first frame: a key pressed before its screen is built ahead finds its modules
        self.call_after_refresh(self._preload, tuple(m for m in ORDER if m != self.start_mode))

    def _preload(self, modes: tuple[str, ...]) -> None:
        from ftui.tui.prebuild import preload_screen_modules

        self.preloader = preload_screen_modules(modes)
        if self._prebuild or (self._prebuild is None and not self.is_headless):  # a Pilot test asks for it
            from ftui.tui.prebuild import Prebuilder

            self._prebuilder = Prebuilder(self)
            self._prebuilder.start()

    @property
    def opened_modes(self) -> set[str]:
        """The modes whose screen is built or being built (by a switch or the prebuilder)."""
        return self._opened_modes

    async def on_event(self, event: events.Event) -> None:
        if self._prebuilder is not None and isinstance(event, events.InputEvent):
            self._prebuilder.noticed_input()  # the next screen is built only after a quiet spell
        await super().on_event(event)

    def remember(self, **values: Any) -> None:
        """Keep ``values`` for the next launch (written at once, in a thread: the UI never waits on the disk)."""
        from ftui.tui import memory

        self.remembered.update(values)
        workspace = self.workspace
        self.remembered.update(
            data_path=str(workspace.data_path) if workspace.data_path else "",
            eval_path=str(workspace.eval_path) if workspace.eval_path else "",
            model=workspace.model,
        )
        memory.save_soon(self.remembered)

    def switch_mode(self, mode: str):  # noqa: ANN201 - Textual's AwaitComplete
        """Textual's switch_mode; the mode is remembered for the next launch."""
        stack = self._screen_stacks.get(mode)
        self._switching_to_built = bool(stack) and stack[0].is_mounted
        try:
            result = super().switch_mode(mode)
        finally:
            self._switching_to_built = False
        if mode in MODES_BY_NAME:
            self.remember(mode=mode)
        return result

    def delay_update(self, delay: float = 0.05) -> None:
        """switch_mode holds every repaint back for ``delay`` to mask the change of screen. The
        first switch, from Textual's blank default screen at start-up, has nothing to mask, nor
        has a switch to a screen already built (seen before, or built while the user was idle):
        its first frame is whole. Held back, that frame was rendered, dropped, and rendered
        again when the delay ended (30-60 ms of a switch to Train, and 50 ms of waiting)."""
        if self.current_mode != self.DEFAULT_MODE and not self._switching_to_built:
            super().delay_update(delay)

    @asynccontextmanager
    async def run_test(self, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot]:
        """Textual's run_test, handing over the Pilot once the start mode's screen is up; like ``exit``, it
        shuts down only once the screen has finished mounting (Textual's run_test calls no exit)."""
        from ftui.tui.pilot import FtuiPilot

        async with super().run_test(*args, **kwargs) as textual_pilot:
            await self._until_started(textual_pilot)
            pilot = FtuiPilot(self)  # its waits include a first switch's mount (ftui.tui.pilot)
            try:
                yield pilot
            finally:  # also when the test failed: its own error then shows, not the one of a mount cut short
                await self._mounts_ended(5.0)

    async def run_async(self, *, auto_pilot: AutopilotCallbackType | None = None, **kwargs: Any) -> int | None:
        """Textual's run_async; an auto-pilot (the snapshot tests') starts once the start screen is up."""
        if auto_pilot is not None:
            steps = auto_pilot

            async def auto_pilot(pilot: Pilot) -> None:
                await self._until_started(pilot)
                await steps(pilot)

        return await super().run_async(auto_pilot=auto_pilot, **kwargs)

    def exit(self, result: int | None = None, return_code: int = 0, message: Any = None) -> None:
        """Textual's exit, once the screen has finished mounting.

        Shutting down in the middle of a mount makes Textual's own widgets raise (a TabbedContent
        activates a tab that shutdown already removed): a traceback and exit code 1 for a Ctrl+Q or
        SIGTERM that comes just after start-up. The wait is bounded.

        From the first call on, ``closing`` is set: nothing new is built ahead (a build started while the exit
        waited on the start screen was cut short by it, and its screen's on_mount raised: exit status 1)."""
        self.closing = True
        pending = self._unfinished_mount()
        if pending is None:
            super().exit(result, return_code, message)
            return

        async def once_mounted() -> None:
            await self._mounts_ended(5.0)
            App.exit(self, result, return_code, message)

        self._exit_after_mount = asyncio.ensure_future(once_mounted())  # a reference keeps the task alive

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Textual's call_from_thread; once the app exits, the callback is not run and the calling worker ends as
        cancelled. A worker thread that delivered its result while shutdown took the screens apart (Plan's GPU
        check, late behind a screen built ahead) found its widgets gone: NoMatches, a failed worker, exit status 1
        after a hang-up. What is left to show then has no screen to show it on."""

        def unless_exiting() -> Any:
            if self._exit:  # Textual's flag, set by App.exit: the screens go next
                raise _Exiting
            return callback(*args, **kwargs)

        try:
            return super().call_from_thread(unless_exiting)
        except _Exiting:
            raise asyncio.CancelledError("ftui is closing") from None

    async def _mounts_ended(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until no mount is under way: each in turn, as one may start another."""
        deadline = asyncio.get_running_loop().time() + timeout
        waiting = self._unfinished_mount()
        while waiting is not None:  # the start screen's, a first switch's, then their lazy parts
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(waiting.wait(), left)
            waiting = self._unfinished_mount()

    def _unfinished_mount(self) -> asyncio.Event | None:
        if not self.start_screen_mounted.is_set():
            return self.start_screen_mounted
        if self._prebuilder is not None and not self._prebuilder.idle.is_set():
            return self._prebuilder.idle  # a screen being built off-screen: shutting down mid-mount raises
        # Every screen built, not only the current one: a screen built ahead (Plan, whose calculator and its tabs
        # mount after the screen's own mount ended) that an exit takes apart mid-mount raised "No Tab with id".
        for stack in list(self._screen_stacks.values()):
            for screen in stack:
                if not screen._mounted_event.is_set():  # noqa: SLF001 - a first switch's mount under way
                    # shutdown took the Train form apart before the screen's on_mount filled it (NoMatches)
                    return screen._mounted_event  # noqa: SLF001
                settled = getattr(screen, "settled", None)
                if isinstance(settled, asyncio.Event) and not settled.is_set():
                    return settled
        return None

    async def _until_started(self, pilot: Pilot, timeout: float = 60.0) -> None:
        """Until the start screen is up with its lazy parts (Plan's calculator mounts just after its first frame:
        a snapshot test that set its method at once found no '#f-method', once in a clean-clone CI)."""
        # bounded: a start screen that fails to mount ends the app with its own error
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.start_screen_mounted.wait(), timeout)
            settled = getattr(self.screen, "settled", None)
            if isinstance(settled, asyncio.Event):
                await asyncio.wait_for(settled.wait(), timeout)
        await pilot.pause()

    def on_unmount(self) -> None:
        from ftui.tui import memory

        sys.setswitchinterval(self._switch_interval)
        memory.flush()  # the last mode and form values are on disk before ftui ends

    # ----------------------------------------------------------------- commands
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode, key, label in MODE_TABLE:
            yield SystemCommand(f"Go to {label}", f"Switch to the {label} mode ({key})", self._mode_switcher(mode))
        yield SystemCommand("Help: keys", "List every key of this screen (?)", self.action_help)
        yield from self.screen_commands(screen)
        yield from super().get_system_commands(screen)

    def screen_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action a key does on ``screen`` now, by its name: the palette holds what the footer and help show."""
        from ftui.tui.screens.help import format_key

        seen: set[str] = {"Help", "Quit"} | {label for _, _, label in MODE_TABLE}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            description = binding.description
            if not description or description in seen or binding.action in _HIDDEN_IN_HELP:
                continue
            if type(active.node).__module__.startswith("textual.") and binding.action.startswith(_NAVIGATION_PREFIXES):
                continue
            help_shows = getattr(active.node, "help_shows", None)
            if help_shows is not None and not help_shows(binding.action):
                continue
            seen.add(description)
            shown = format_key(binding.key_display or key)
            yield SystemCommand(description, f"{shown} on this screen", self._action_runner(binding.action, active.node))

    def _action_runner(self, action: str, node: Any):  # noqa: ANN202
        async def run() -> None:
            await self.run_action(action, node)

        return run

    def _freeze_built(self) -> None:
        """Move what is built so far (the modules loaded since ftui.cli froze the heap, the screens, which live as
        long as the app) out of the cyclic collector's reach, before a mode's first switch builds its screen.

        The full collection that building a screen sets off otherwise rescans all of it (~75,000 objects, 60-100 ms
        on 2 cores, freeing next to nothing) in the middle of the switch (bench/mode_switch.py); now it scans what
        was made since. Cyclic garbage made before stays unfreed: a few kB, once per mode. A headless app (tests)
        freezes nothing unless told to: each Pilot test's app would stay in the test process for good."""
        if self._freeze_heap if self._freeze_heap is not None else not self.is_headless:
            gc.freeze()

    def _mode_switcher(self, mode: str):  # noqa: ANN202
        return lambda: self.action_switch_mode(mode)

    async def action_switch_mode(self, mode: str) -> None:
        """F1-F4. The first switch to a mode builds its screen (hundreds of widgets on Train): the mode
        bar says so at once, and the screen is built after that frame is on the terminal."""
        from ftui.tui.widgets.mode_bar import ModeBar

        if mode == self.current_mode or mode in self._opened_modes:
            await self.switch_mode(mode)
            return
        self._opened_modes.add(mode)
        self.switches_done.clear()
        bars = list(self.screen.query(ModeBar))
        for bar in bars:
            bar.show_opening(mode)
        # The whole screen is repainted with the notice before the build. A refresh of the bar alone was
        # not enough: a paint already due (another widget's) ran the after-refresh callbacks without it.
        # A repaint is skipped during a batch update, and the callbacks still run: the build then waits
        # for the next refresh (at most OPENING_WAIT_S, whatever happens).
        screen = self.screen
        screen.refresh()
        deadline = time.monotonic() + OPENING_WAIT_S

        async def build() -> None:
            if screen._repaint_required and screen.is_current and time.monotonic() < deadline:  # noqa: SLF001
                screen.refresh()
                self.call_after_refresh(build)
                return
            try:
                if mode not in self._screen_stacks:  # not being built ahead either: built whole, then shown
                    from ftui.tui.prebuild import build_offscreen, paint_offscreen

                    paint_offscreen(self, await build_offscreen(self, mode))
                await self.switch_mode(mode)
            finally:
                for bar in bars:  # the screen left behind shows its own modes again when it comes back
                    bar.show_opening(None)
                self.switches_done.set()

        self.call_after_refresh(build)

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        from ftui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        title = f"Keys — {self.screen.__class__.__name__.removesuffix('Screen') or 'ftui'}"
        self.push_screen(HelpScreen(self.help_rows(), title))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """(key, what it does, where) of every key that works on the current screen now: what ``?`` lists."""
        from ftui.tui.screens.help import format_key

        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        navigation = False
        for key, active in self.active_bindings.items():
            binding = active.binding
            if not binding.description or key in seen or binding.action in _HIDDEN_IN_HELP:
                continue
            help_shows = getattr(active.node, "help_shows", None)
            if help_shows is not None and not help_shows(binding.action):
                continue  # a key that means nothing here now (e.g. an answer the question does not have)
            if type(active.node).__module__.startswith("textual.") and binding.action.startswith(_NAVIGATION_PREFIXES):
                navigation = True
                continue
            seen.add(key)
            scope = "everywhere" if active.node is self else "this screen"
            rows.append((format_key(binding.key_display or key), binding.description, scope))
        if navigation:
            rows.append(("↑ ↓ PgUp PgDn", "Move in the focused list; Home / End: the ends", "this screen"))
        rows.append(("ctrl+p", "Command palette: every action by name", "everywhere"))
        order = {"F1": 0, "F2": 1, "F3": 2, "F4": 3}
        rows.sort(key=lambda r: (r[2] != "this screen", order.get(r[0], 9), r[0]))
        return rows

    async def action_quit(self) -> None:
        from ftui.train import live

        runs = live.active()
        if not runs:
            self.exit(0)
            return
        from ftui.tui.screens.confirm import ChoiceScreen

        names = ", ".join(r.run_id for r in runs)
        question = (
            f"A training run is active ({names}). It trains inside this ftui process.\n\n"
            "s  stop and save (resumable), then quit\n"
            "w  stop without saving, then quit\n"
            "k  keep it running in the background: you get the prompt back;\n"
            "   follow it with: ftui attach RUN\n"
            "Esc / Enter  stay in ftui"
        )

        def answer(choice: str | None) -> None:
            if choice in ("save", "stop"):
                for run in runs:
                    stop = getattr(run, "stop", None)
                    if stop is not None:
                        stop(save=choice == "save")
                # the training thread is not a daemon: the process ends once the run has stopped cleanly
                self.exit(0, message=f"Stopping {names} at the next step boundary; ftui exits when it has.")
            elif choice == "keep":
                self.to_background = True  # the prompt comes back (FtuiApp._detach)
                self._keep_running(names)

        choices = [("s", "stop and save", "save"), ("w", "stop without saving", "stop"), ("k", "keep running", "keep")]
        self.push_screen(ChoiceScreen(question, choices, opened_by="ctrl+q"), answer)

    # ------------------------------------------------------------------ signals
    def _handle_termination_signals(self) -> None:
        """SIGTERM and a hang-up (the SSH link dropped) would otherwise kill the process outright:
        a run training in it would end mid-step, unsaved, and the terminal be left in raw mode."""
        import signal
        import threading

        if self.is_headless or threading.current_thread() is not threading.main_thread():
            return  # a Pilot test must not change the signals of pytest
        self._signal_loop = asyncio.get_running_loop()
        self._signal_loop.add_signal_handler(signal.SIGTERM, self._on_terminate)
        # A plain handler, not the loop's: it must run at once. The kernel sends SIGCONT with the
        # hang-up, and Textual's handler for it restarts application mode on the dead terminal
        # (Python runs pending handlers in signal-number order: SIGHUP's first).
        signal.signal(signal.SIGHUP, self._on_hangup_signal)
        # Not every lost terminal comes with a SIGHUP (a tmux server killed under a shell that does
        # not pass it on): then reads see EOF, which Textual takes for piped input, and the app
        # would spin on a terminal that is gone. A terminal call fails with EIO after a hang-up.
        if sys.__stdin__ is not None and os.isatty(sys.__stdin__.fileno()):
            self._terminal_watch = self.set_interval(TERMINAL_CHECK_S, self._check_terminal, name="terminal-watch")

    def _check_terminal(self) -> None:
        import signal

        try:
            os.tcgetpgrp(sys.__stdin__.fileno())
        except (OSError, AttributeError, ValueError):
            self._terminal_watch.stop()
            self._on_hangup_signal(signal.SIGHUP, None)

    def _on_terminate(self) -> None:
        """SIGTERM: every run here stops at its next step and saves a checkpoint; then the process ends."""
        from ftui.train import live

        runs = live.active()
        if not runs:
            self.exit(0)
            return
        for run in runs:
            stop = getattr(run, "stop", None)
            if stop is not None:
                stop(save=True)
        names = ", ".join(r.run_id for r in runs)
        self.keep_running = True  # until the checkpoint is written, whatever happens to the terminal
        self.exit(0, message=f"SIGTERM: stopping {names} at the next step boundary and saving a checkpoint; "
                  "ftui exits when it has.")

    def _on_hangup_signal(self, signum: int, frame: Any) -> None:  # noqa: ARG002 - signal handler
        """The terminal is gone. Here only what must happen before anything else runs; the rest in the loop."""
        import signal

        from ftui.train.detach import exit_once_runs_end, point_stdio_at_devnull

        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGCONT, signal.SIG_DFL)  # no redraw on a terminal that is gone
        point_stdio_at_devnull()  # what the app writes while closing goes nowhere instead of failing
        exit_once_runs_end()
        self._signal_loop.call_soon_threadsafe(self._on_hangup)

    def _on_hangup(self) -> None:
        """The screen closes; a run trains on to its end, as with "keep running"."""
        from ftui.train import live

        runs = live.active()
        if runs:
            self._keep_running(", ".join(r.run_id for r in runs))
        else:
            self.exit(0)

    def _keep_running(self, names: str) -> None:
        """Close the screen but not the process: the run trains on, whatever becomes of this terminal."""
        from ftui.train.detach import ignore_hangup_and_interrupt
        from ftui.tui.launch import can_detach

        self.keep_running = True
        if not self.is_headless:  # a real terminal (a Pilot test must not change the signals of pytest)
            ignore_hangup_and_interrupt()  # closing the terminal from now on must not kill the run
        first = names.split(", ")[0]
        if self.to_background and can_detach():  # launched by ftui on a terminal: the prompt comes back (run)
            self.exit(0, message=f"{names} keeps training in the background (pid {os.getpid()}); it exits when the "
                      f"run ends.\nFollow it: ftui attach {first}")
            return
        self.exit(0, message=f"{names} keeps training in this process (pid {os.getpid()}); it exits when the run "
                  f"ends. You may close this terminal: the run goes on. Follow it from another terminal: "
                  f"ftui attach {first}")

    def run(self, **kwargs: Any) -> int | None:
        if sys.__stdout__ is not None and sys.__stdout__.isatty():  # a run here may print after a hang-up
            from ftui.train.detach import guard_stdio

            guard_stdio()
        try:
            return super().run(**kwargs)
        finally:
            if self.keep_running:
                self._detach(to_background=self.to_background)

    @staticmethod
    def _detach(to_background: bool = False) -> None:
        """After "keep running": the screen is restored and the message printed; nothing more is for the terminal."""
        import signal

        from ftui.train.detach import detach_from_terminal

        # Textual's driver leaves its Ctrl+Z handlers behind. The kernel sends SIGCONT with the hang-up, and
        # its handler would redraw the closed app from the main thread, raising there and ending the process
        # without waiting for the training thread (which, not a daemon, otherwise keeps it to the run's end).
        for sig in (signal.SIGTSTP, signal.SIGCONT):
            signal.signal(sig, signal.SIG_DFL)
        detach_from_terminal()
        if to_background:  # launched by ftui on a terminal: leave its session, the shell prints its prompt
            from ftui.tui.launch import detach

            detach()
