"""method: openai goes through the same worker, event log and run directory as the HF methods."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.config import RunConfig
from ftui.train import openai_backend, runs
from ftui.train.events import Finished, Started, read_events
from ftui.train.worker import start_run
from tests.fakes.openai_server import FakeOpenAI

FAKE_KEY = "sk-test-DISPATCH0123456789abcdefghijklmnop"


def test_openai_run_through_the_worker(tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr(openai_backend, "POLL_INTERVAL_S", 0.05)
    row = {"messages": [{"role": "user", "content": "my invoice is wrong"}, {"role": "assistant", "content": "billing"}]}
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(row) + "\n" for _ in range(12)))
    with FakeOpenAI(FAKE_KEY) as fake:
        config = RunConfig(method="openai", train_path=str(train), eval_path=None, openai_base_url=fake.base_url)
        worker = start_run(config)
        assert worker.join(timeout=60)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished), events[-1]
    assert any(isinstance(e, Started) for e in events)
    summary = runs.summarize_run(worker.run_dir)
    assert summary.status == "finished" and summary.method == "openai"
    for path in worker.run_dir.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path
