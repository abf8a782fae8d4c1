"""One event -> text formatter (``ftui.train.event_text``) serves the console, ``ftui attach`` and the TUI monitor."""

from __future__ import annotations

import io

from ftui.train.event_text import describe_event
from ftui.train.events import (
    Checkpoint,
    DataAccounting,
    Eval,
    Failed,
    Finished,
    Log,
    Memory,
    Message,
    Started,
    Stopped,
)

EVENTS = [
    Started(run_id="r", method="lora", model="demo\x1b]0;pwned\x07", total_steps=20, device="cpu", resumed_from_step=10),
    Log(step=11, loss=1.23456, lr=2e-4, tokens_per_s=1234.0),
    Eval(step=12, eval_loss=0.98765, runtime_s=1.5),
    Checkpoint(step=12, path="checkpoints/checkpoint-12"),
    DataAccounting(dataset="train", rows_in=100, rows_trained=98, dropped=2, max_seq_len=256),
    Message(text="loading model\x1b[31m red", level="warning"),
    Failed(message="CUDA out of memory", hint="Lower micro_batch_size"),
    Stopped(step=15, saved=True, checkpoint="checkpoints/checkpoint-15"),
    Finished(step=20, adapter_path="adapter"),
]


def test_every_event_reads_as_one_safe_line() -> None:
    lines = [describe_event(e) for e in EVENTS]
    assert all(line is not None and "\n" not in line.text and "\x1b" not in line.text for line in lines)
    texts = [line.text for line in lines]
    assert texts[0].startswith("started lora on demo") and texts[0].endswith(" · cpu · 20 steps, resumed at step 10")
    assert texts[1] == "step 11  loss 1.2346  lr 2.00e-04  1,234 tok/s"
    assert texts[2] == "eval  step     12  eval_loss 0.9877  (1.5s)"
    assert texts[6] == "failed: CUDA out of memory" and lines[6].detail == "Lower micro_batch_size"
    assert lines[6].tone == "bad" and lines[5].tone == "warn" and lines[8].tone == "good" and lines[4].tone == "warn"
    assert texts[7] == "stopped at step 15, checkpoint checkpoints/checkpoint-15"
    assert texts[8] == "finished at step 20: adapter"
    assert describe_event(Memory(step=1, source="cpu-rss", rss=1)) is None


def test_the_console_prints_the_same_words() -> None:
    from ftui.commands.train_console import _Display

    out = io.StringIO()
    display = _Display(out)
    for event in EVENTS:
        display.apply(event)
    printed = out.getvalue().splitlines()
    for event in EVENTS:
        if isinstance(event, Log):
            continue  # the console shows steps in its bar
        line = describe_event(event)
        assert line.text in printed
    assert "hint: Lower micro_batch_size" in printed
