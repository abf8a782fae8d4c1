"""Start-up speed: process time to first frame of ``ftui`` vs a minimal Textual app.

Both are launched as real processes on a pseudo-terminal (120x40), and the clock runs
from ``fork`` until the first frame of the app's own screen reaches the terminal with its
body: the title of ftui's Plan wizard ("Should you fine-tune?", drawn in the same frame as
the header and the mode bar), the minimal app's static line. (Textual fills a footer's keys
in a refresh or more later, in both apps; ftui's Plan calculator mounts just after the
first frame: neither is timed here.) Median of N runs each, interleaved so machine noise
hits both alike.
Goal: ftui / minimal <= 1.5 (the TUI paints before any ML library is imported).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

MINIMAL_APP = '''
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("minimal-ready")
        yield Footer()

Minimal().run()
'''


def time_to_marker(argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from fork until ``marker`` is written to the terminal by the child."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen = (seen + chunk)[-200_000:]
            if marker in seen:
                return time.perf_counter() - start
        raise RuntimeError(f"{argv} did not paint {marker!r} within {timeout} s; last output: {seen[-300:]!r}")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs each (smoke test)")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "minimal_app.py"
        script.write_text(MINIMAL_APP)
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
        env["FTUI_HOME"] = str(Path(tmp) / "home")
        env["FTUI_CACHE_DIR"] = str(Path(tmp) / "cache")
        # a first launch: ftui reopens the mode it was left in (session memory), which is not the Plan this waits for
        env["FTUI_CONFIG_DIR"] = str(Path(tmp) / "config")
        # the wizard pane's title: in the Plan screen's first frame, with the header and mode bar
        marker = b"Should you fine-tune?"
        ftui_cmd = [sys.executable, "-m", "ftui"]
        minimal_cmd = [sys.executable, str(script)]
        # warm the OS file cache once each so the first measured run is not an outlier
        time_to_marker(ftui_cmd, marker, env)
        time_to_marker(minimal_cmd, b"minimal-ready", env)
        ftui_times, minimal_times = [], []
        for _ in range(runs):
            ftui_times.append(time_to_marker(ftui_cmd, marker, env))
            minimal_times.append(time_to_marker(minimal_cmd, b"minimal-ready", env))

    ftui_s = statistics.median(ftui_times)
    minimal_s = statistics.median(minimal_times)
    ratio = ftui_s / minimal_s
    print(f"ftui first frame     median {ftui_s * 1000:7.1f} ms  runs {[round(t * 1000) for t in ftui_times]}")
    print(f"minimal Textual app  median {minimal_s * 1000:7.1f} ms  runs {[round(t * 1000) for t in minimal_times]}")
    print(f"ratio ftui / minimal {ratio:.2f}  (goal <= 1.5)")
    result = {
        "bench": "startup",
        "ftui_ms": round(ftui_s * 1000, 1),
        "minimal_ms": round(minimal_s * 1000, 1),
        "ratio": round(ratio, 3),
        "goal_ratio": 1.5,
        "ok": ratio <= 1.5,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
