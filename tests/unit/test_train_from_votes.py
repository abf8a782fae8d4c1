"""Votes -> DPO: a blind session's voted pairs train on from the fine-tuned run it rated (issue 16 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui import paths
from ftui.cli import main
from ftui.config import RunConfig
from ftui.evaluate.ab import BlindSession
from ftui.evaluate.blinding import resolve_systems
from ftui.evaluate.from_votes import VotesError, dpo_run_from_votes, starting_system
from ftui.evaluate.items import EvalItem
from ftui.evaluate.systems import parse_system
from ftui.train import runs
from ftui.train.events import Finished, Log, Message, read_events
from ftui.train.worker import start_run


def _sft_parent(tmp_path: Path, eval_path: str | None = None) -> Path:
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()[:24]
    data = tmp_path / "sft.jsonl"
    data.write_text("\n".join(rows) + "\n")
    config = RunConfig(model="demo", train_path=str(data), eval_path=eval_path, eval_fraction=0.0, method="lora",
                       max_steps=2, learning_rate=1e-3, micro_batch_size=4, max_seq_len=256,
                       gradient_checkpointing=False, warmup_ratio=0.0)
    worker = start_run(config)
    assert worker.join(timeout=600)
    assert isinstance(read_events(worker.events_path)[-1], Finished)
    return Path(worker.run_dir)


def _voted_session(directory: Path, parent: Path, n: int = 12, vote: bool = True) -> dict[str, dict[str, str]]:
    """Raters preferred the tuned run's exact labels over the base's chatter on every item (``vote=False``: the
    session unrated, for a test that rates it by keys); the outputs by system."""
    rows = [json.loads(line)["messages"] for line in
            paths.sample_data("support_tickets_test.jsonl").read_text().splitlines()[:n]]
    items = [EvalItem(f"t{i}", tuple(m[:-1]), m[-1]["content"]) for i, m in enumerate(rows)]
    tuned = f"run:{parent.name}"
    outputs = {"base": {it.id: f"Hello! This might be about {it.reference}, or not." for it in items},
               tuned: {it.id: it.reference for it in items}}
    specs = [parse_system("base"), parse_system(tuned)]
    with BlindSession.create(directory, items, outputs, "ana", seed=3, resolved=resolve_systems(specs)) as session:
        while vote and (shown := session.current()) is not None:
            session.vote("left" if shown.output_left == outputs[tuned][shown.item_id] else "right")
        if vote:
            session.unblind()
    return outputs


def test_votes_become_a_dpo_run_that_trains_on_from_the_parent_adapter(demo_model, runs_dir, tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(tmp_path / "sessions"))  # the session it creates stays in this test
    parent = _sft_parent(tmp_path)
    _voted_session(tmp_path / "session", parent)
    with BlindSession(tmp_path / "session", "ana") as session:
        found = dpo_run_from_votes(session)
    config = found.config
    assert (found.pairs, found.parent_run) == (12, parent)
    assert config.method == "dpo" and config.init_adapter == str((parent / "adapter").resolve())
    assert config.model == "demo" and config.learning_rate == pytest.approx(1e-4) and config.extra == {}
    pair = json.loads(found.pairs_path.read_text().splitlines()[0])
    assert pair["rejected"][0]["content"].startswith("Hello") and not pair["chosen"][0]["content"].startswith("Hello")

    assert main(["train", "--from-votes", str(tmp_path / "session"), "--check"]) == 0
    out = capsys.readouterr()
    assert "config OK" in out.out and f"--system parent=run:{parent.name} --system dpo=run:" in out.err

    # headless, as a user runs it: the run gets the id the comparison hint named
    assert main(["train", "--from-votes", str(tmp_path / "session"), "--set", "max_steps=3"]) == 0
    named = capsys.readouterr().err.split("--system dpo=run:")[1].split()[0]
    run_dir = runs_dir / named
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished), events[-1]
    assert any(isinstance(e, Message) and "training on from the adapter" in e.text for e in events)
    logs = [e for e in events if isinstance(e, Log)]
    assert logs[0].loss == pytest.approx(0.6931, abs=1e-3)  # the reference is the parent adapter itself
    assert runs.read_run_metadata(run_dir)["init_adapter"] == config.init_adapter
    assert (Path(events[-1].adapter_path) / "adapter_model.safetensors").exists()

    # and the loop closes: a new blind session puts the DPO run against its parent
    test = paths.sample_data("support_tickets_test.jsonl")
    assert main(["eval", "session", "--system", f"parent=run:{parent.name}", "--system", f"dpo=run:{named}",
                 "--test", str(test), "--limit", "3", "--max-new-tokens", "4", "--rater", "bo",
                 "--name", "after-dpo"]) == 0
    plan = json.loads((paths.sessions_dir() / "after-dpo" / "session.json").read_text())
    assert plan["systems"] == ["parent", "dpo"] and plan["resolved"]["dpo"]["run_id"] == named


def test_the_starting_system_is_the_fine_tune_and_nothing_else():
    class Plan:
        systems = ["base", "run:a", "run:b", "openai:gpt"]
        resolved = {"base": {"kind": "base"}, "run:a": {"kind": "adapter", "run_id": "a"},
                    "run:b": {"kind": "merged", "run_id": "b"}, "openai:gpt": {"kind": "openai"}}

    class Vote:
        def __init__(self, preferred: str) -> None:
            self.preferred = preferred

    assert starting_system(Plan, [Vote("run:b"), Vote("run:b"), Vote("run:a")]) == "run:b"
    assert starting_system(Plan, [], system="run:a") == "run:a"
    with pytest.raises(VotesError, match="not a local fine-tune"):
        starting_system(Plan, [], system="openai:gpt")
    Plan.systems = ["base", "openai:gpt"]
    with pytest.raises(VotesError, match="no system of this session"):
        starting_system(Plan, [])
