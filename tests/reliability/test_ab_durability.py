"""kill -9 in the middle of a rating session loses no vote the rater saw as recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ftui.evaluate.ab import BlindSession
from ftui.evaluate.items import EvalItem

CHILD = textwrap.dedent(
    """
    import sys
    from ftui.evaluate.ab import BlindSession

    s = BlindSession(sys.argv[1], "ana")
    choices = ["left", "right", "tie", "both_bad", "skip"]
    k = 0
    while (pair := s.current()) is not None:
        s.vote(choices[k % 5], note=f"n{k}")
        k += 1
        # printed only after vote() returned, i.e. after the fsync
        print(f"VOTED {pair.task}", flush=True)
        if k % 7 == 0:
            # announced before it happens: the parent must not count this vote once an undo may be on disk
            print(f"UNDOING {pair.task}", flush=True)
            s.undo()
    print("DONE", flush=True)
    """
)


def test_kill_9_mid_session_loses_no_recorded_vote(tmp_path: Path) -> None:
    items = [EvalItem(f"i{k}", ({"role": "user", "content": f"q{k}"},), "a") for k in range(3000)]
    outputs = {"base": {it.id: f"base {it.id}" for it in items}, "ft": {it.id: f"ft {it.id}" for it in items}}
    BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=3).close()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "s")], stdout=subprocess.PIPE, text=True,
                            env=env)
    recorded: dict[int, bool] = {}

    def take(line: str) -> None:
        parts = line.split()
        if len(parts) != 2:
            return
        if parts[0] == "VOTED":
            recorded[int(parts[1])] = True
        elif parts[0] == "UNDOING":
            recorded.pop(int(parts[1]), None)

    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while len(recorded) < 60 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        take(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for line in proc.stdout.read().splitlines():  # what the child reported before it died
        assert line != "DONE", "the child finished before the kill; give it more items"
        take(line)
    assert proc.returncode == -signal.SIGKILL
    assert len(recorded) >= 50, "the child must have voted before the kill"

    resumed = BlindSession(tmp_path / "s", "ana")
    on_disk = {v.task for v in resumed.votes()}
    missing = set(recorded) - on_disk
    assert not missing, f"votes reported as recorded but lost: {sorted(missing)[:10]}"
    # resume continues at an unrated pair with the side assignment fixed before the kill
    pair = resumed.current()
    assert pair is not None and pair.task not in on_disk
    t = resumed.tasks[pair.task]
    assert pair.output_left == f"{t.left} {t.item_id}"
    # on disk without a report: at most the vote in flight at the kill and one announced-but-unfinished undo
    assert len(on_disk - set(recorded)) <= 2
