"""tui.bridge: a tailed event log arrives as a snapshot, then time-batched messages, then an end."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Static

from ftui.train.events import EventLogWriter, Finished, Log, Started
from ftui.tui.bridge import RunEvents, RunFeedEnded, RunSnapshot, watch_run


class Collector(Static):
    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list[RunSnapshot] = []
        self.batches: list[RunEvents] = []
        self.ended: list[RunFeedEnded] = []

    def on_run_snapshot(self, message: RunSnapshot) -> None:
        self.snapshots.append(message)

    def on_run_events(self, message: RunEvents) -> None:
        self.batches.append(message)

    def on_run_feed_ended(self, message: RunFeedEnded) -> None:
        self.ended.append(message)


class BridgeApp(App):
    def compose(self) -> ComposeResult:
        yield Collector()


async def _wait(pilot, predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


async def test_snapshot_then_batches_then_end(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    writer = EventLogWriter(run_dir / "events.jsonl")
    writer.write(Started(run_id="run", method="lora", model="demo", total_steps=600))
    for step in range(1, 11):
        writer.write(Log(step=step, loss=1.0))
    app = BridgeApp()
    async with app.run_test() as pilot:
        collector = app.query_one(Collector)
        watch_run(collector, run_dir, interval=0.1)
        await _wait(pilot, lambda: collector.snapshots)
        snapshot = collector.snapshots[0].history
        assert snapshot.run_id == "run" and len(snapshot.loss) == 10 and snapshot.status == "running"
        for step in range(11, 601):  # a burst: 590 events in well under one interval
            writer.write(Log(step=step, loss=1.0))
        writer.write(Finished(step=600))
        await _wait(pilot, lambda: collector.ended)
        delivered = [e for batch in collector.batches for e in batch.events]
        assert len(delivered) == 591  # nothing lost, in order
        assert [e.step for e in delivered[:-1]] == list(range(11, 601))
        assert len(collector.batches) <= 3  # time-batched, not one message per event
        assert collector.ended[0].status == "finished"
    writer.close()


async def test_a_torn_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    writer = EventLogWriter(run_dir / "events.jsonl")
    writer.write(Started(run_id="run", method="lora", model="demo"))
    app = BridgeApp()
    async with app.run_test() as pilot:
        collector = app.query_one(Collector)
        watch_run(collector, run_dir, interval=0.05)
        await _wait(pilot, lambda: collector.snapshots)
        with open(run_dir / "events.jsonl", "a") as fh:
            fh.write('{"type": "log", "step": 1, "lo')
            fh.flush()
            await pilot.pause(0.3)
            assert not collector.batches  # half an event is never delivered
            fh.write('ss": 0.5}\n')
        await _wait(pilot, lambda: collector.batches)
        assert collector.batches[0].events[0].loss == 0.5
    writer.close()
