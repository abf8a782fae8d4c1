"""How many CPU threads torch may use when a run trains in the same process as a UI.

A run started from the TUI shares the cores with the UI thread; torch's intra-op threads
spin on every core and, on a small or busy machine, starve both the UI and themselves
(measured on 2 shared cores: 4-15 s per demo step with 2 threads, 0.4 s with 1).
"""

from __future__ import annotations

import os


def reserve_ui_core() -> None:
    """On a CPU-only box, train with one core fewer than the machine has, so the UI stays responsive.

    With a GPU the CPU threads barely matter, so nothing changes there. Imports torch: call
    it from a worker thread, never the UI thread (``start_run(share_cores=True)`` does).
    """
    import torch

    if torch.cuda.is_available():
        return
    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, min(torch.get_num_threads(), cores - 1)))
