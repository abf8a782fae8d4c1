"""The small object that controls a running training: stop, stop-and-save.

Checked by the training callback at each step boundary (``on_step_end``); setting a
flag is all the UI or a signal handler ever does, so it is safe from any thread.
"""

from __future__ import annotations

import threading


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._save = threading.Event()

    def request_stop(self, save: bool = False) -> None:
        """Ask the run to stop at the next step boundary; with ``save`` write a checkpoint first."""
        if save:
            self._save.set()
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def save_requested(self) -> bool:
        return self._save.is_set()
