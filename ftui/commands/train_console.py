"""The headless console: a training in the foreground of a terminal (``ftui train``, alone or under a launcher).

The training itself runs on the worker thread; the main thread only draws a progress
bar from the event log and handles signals:

- SIGHUP (the SSH link dropped, the terminal closed): ignored. The run goes on to its
  end and keeps writing its log; the display is switched off and stdout/stderr go to
  /dev/null so no write to the dead terminal can fail.
- SIGTERM: stop-and-save, then exit.
- Ctrl+C (SIGINT): asks stop-and-save / stop / continue when stdin is a terminal;
  without one (a pipe, a batch job) it means stop-and-save.

Exit codes: 0 finished, 1 failed, 3 stopped.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from ftui.config import RunConfig
from ftui.textsafe import neutralize, one_line
from ftui.train.detach import silence_stdio
from ftui.train.event_text import TONE_STYLE, describe_event
from ftui.train.events import Eval, EventLogTail, Failed, Finished, Log, Message, Started, Stopped

EXIT_FINISHED, EXIT_FAILED, EXIT_STOPPED = 0, 1, 3
PLAIN_PROGRESS_S = 10.0  # without a terminal, a progress line (download) at most this often


class _Signals:
    """Flags set by signal handlers; the main loop acts on them (handlers do nothing else)."""

    def __init__(self) -> None:
        self.hangup = False
        self.terminate = False
        self.interrupts = 0

    def install(self) -> dict[int, Any]:
        previous = {}
        if threading.current_thread() is not threading.main_thread():
            return previous
        for sig, handler in (
            (signal.SIGHUP, self._on_hup),
            (signal.SIGTERM, self._on_term),
            (signal.SIGINT, self._on_int),
        ):
            previous[sig] = signal.signal(sig, handler)
        return previous

    def _on_hup(self, signum: int, frame: Any) -> None:
        self.hangup = True

    def _on_term(self, signum: int, frame: Any) -> None:
        self.terminate = True

    def _on_int(self, signum: int, frame: Any) -> None:
        self.interrupts += 1


class _Display:
    """A Rich progress bar on a terminal, plain lines otherwise; goes quiet if the terminal dies."""

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        from rich.console import Console

        self.stream = stream
        self.alive = enabled
        self.tty = stream.isatty()
        self.console = Console(file=stream, highlight=False, soft_wrap=True)  # never wrap a path
        self.progress: Any = None
        self.task: Any = None
        self.total: int | None = None
        self.step = 0
        self.loss: float | None = None
        self.eval_loss: float | None = None
        self.status = ""  # the latest progress line (a download) shown in the bar on a terminal
        self._last_plain = 0.0
        self._last_progress = 0.0

    def _guard(self, fn, *args, **kwargs) -> None:
        if not self.alive:
            return
        try:
            fn(*args, **kwargs)
        except (OSError, ValueError):
            self.alive = False
            silence_stdio()

    def start(self) -> None:
        if not self.tty:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]train[/]"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[steps]}"),
            TextColumn("{task.fields[metrics]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            auto_refresh=False,  # we refresh from the main thread, inside _guard
            transient=False,
        )
        self.task = self.progress.add_task("train", total=None, steps="", metrics="starting")
        self._guard(self.progress.start)

    def print(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        self._guard(self.console.print, Text(neutralize(text), style=style or ""))  # paths and names: no escapes

    def apply(self, event: Any) -> None:
        """Keep the bar's numbers; print what ``describe_event`` says about everything but the steps."""
        if isinstance(event, Started):
            self.total = event.total_steps
        elif isinstance(event, Log):
            self.step, self.loss = event.step, event.loss
            return  # in the bar, not a line each
        elif isinstance(event, Eval):
            self.eval_loss = event.eval_loss
        elif isinstance(event, Message) and event.key is not None:
            self._progress_line(one_line(neutralize(event.text)))  # a download: one line that changes
            return
        elif isinstance(event, Message):
            self.status = ""
        line = describe_event(event)
        if line is not None:
            self.print(line.text, line.style)
            if line.detail:
                self.print(f"hint: {line.detail}", TONE_STYLE["warn"])

    def _progress_line(self, text: str) -> None:
        """A progress line: in the bar on a terminal; printed at most every 10 s otherwise (a log file)."""
        if self.progress is not None:
            self.status = text
        elif time.monotonic() - self._last_progress >= PLAIN_PROGRESS_S:
            self._last_progress = time.monotonic()
            self.print(text, "dim")

    def refresh(self) -> None:
        steps = f"step {self.step}/{self.total}" if self.total else f"step {self.step}"
        parts = [self.status] if self.status and not self.step else []
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        if self.eval_loss is not None:
            parts.append(f"eval {self.eval_loss:.4f}")
        metrics = "  ".join(parts)
        if self.progress is not None:
            self.progress.update(self.task, total=self.total, completed=self.step, steps=steps, metrics=metrics)
            self._guard(self.progress.refresh)
        elif time.monotonic() - self._last_plain > 10 and self.step:
            self._last_plain = time.monotonic()
            self.print(f"{steps}  {metrics}")

    def stop(self) -> None:
        if self.progress is not None:
            self._guard(self.progress.stop)

    def ask(self, interrupted: Any = None, ended: Any = None) -> str:
        """Ctrl+C on a terminal: stop-and-save (s), stop without saving (x) or continue (c).

        The answer is waited for with ``select``, never a bare ``readline``: another Ctrl+C at the
        prompt (``interrupted()``) means stop and save now, and a run that ends meanwhile
        (``ended()``) needs no answer, so the process never waits on stdin after its run is over.
        """
        import select

        self.stop()
        try:
            self.stream.write("\nCtrl+C: [s] stop and save a checkpoint   [x] stop without saving   [c] continue  > ")
            self.stream.flush()
            while True:
                if interrupted is not None and interrupted():
                    answer = "s"
                    break
                if ended is not None and ended():
                    answer = "c"
                    break
                if select.select([sys.stdin], [], [], 0.25)[0]:
                    answer = sys.stdin.readline().strip().lower()
                    break
        except (OSError, ValueError):
            return "s"
        if self.progress is not None:
            self._guard(self.progress.start)
        return answer[:1] if answer[:1] in ("s", "x") else "c"


def run_headless(
    config: RunConfig,
    run_dir: Path | None = None,
    resume: bool = False,
    stream: TextIO | None = None,
    callbacks: Any = (),
) -> int:
    """Train in this process with a progress display; returns the exit code (0/1/3)."""
    from ftui.train.worker import start_run

    stream = stream or sys.stdout
    signals = _Signals()
    previous = signals.install()
    display = _Display(stream)
    try:
        worker = start_run(config, run_dir=run_dir, resume=resume, callbacks=callbacks)
        display.print(f"run directory: {worker.run_dir}")
        display.start()
        tail = EventLogTail(worker.events_path)
        interactive = sys.stdin is not None and sys.stdin.isatty()
        handled_interrupts = 0
        terminal: Any = None
        while True:
            finished = worker.join(0.25)
            if signals.hangup and display.alive:
                display.alive = False
                silence_stdio()
            if signals.terminate and not worker.control.stop_requested:
                worker.stop(save=True)
                display.print("SIGTERM: stopping at the next step and saving a checkpoint", "yellow")
            if signals.interrupts > handled_interrupts:
                handled_interrupts = seen = signals.interrupts
                if worker.control.stop_requested:  # a second Ctrl+C: the stop is under way, nothing to ask
                    display.print("already stopping; waiting for the current step to end", "yellow")
                    continue
                choice = display.ask(interrupted=lambda seen=seen: signals.interrupts > seen, ended=lambda: not worker.is_alive()) \
                    if interactive and display.alive else "s"
                handled_interrupts = signals.interrupts
                if choice in ("s", "x"):
                    worker.stop(save=choice == "s")
                    display.print("stopping at the next step" + (" and saving a checkpoint" if choice == "s" else ""), "yellow")
            for event in tail.poll():
                display.apply(event)
                if event.type in ("finished", "failed", "stopped"):
                    terminal = event
            display.refresh()
            if finished:
                for event in tail.poll():
                    display.apply(event)
                    if event.type in ("finished", "failed", "stopped"):
                        terminal = event
                break
        display.stop()
        if worker.log_error and not isinstance(terminal, Failed):  # the log could not say it: we do
            display.print(f"failed: {one_line(neutralize(worker.log_error))}", "bold red")
        if isinstance(terminal, Finished):
            if terminal.adapter_path:
                display.print(f"adapter: {terminal.adapter_path}")
            if terminal.merged_path:
                display.print(f"model: {terminal.merged_path}")
        display.print(f"run directory: {worker.run_dir}")
        if isinstance(terminal, Finished) and not worker.log_error:
            return EXIT_FINISHED
        if isinstance(terminal, Stopped):
            return EXIT_STOPPED
        return EXIT_FAILED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
