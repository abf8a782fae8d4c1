"""Checkpoints: the best one (by eval loss) survives rotation beside the newest N, and becomes the adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.train import checkpoints
from ftui.train.events import Eval, Finished, read_events
from ftui.train.worker import start_run
from tests.unit.test_train_hf import tiny_config


def _fake_checkpoint(base: Path, step: int, eval_loss: float | None = None, best: str | None = None) -> Path:
    path = base / f"checkpoint-{step}"
    path.mkdir(parents=True)
    history = [{"step": step, "eval_loss": eval_loss}] if eval_loss is not None else []
    (path / "trainer_state.json").write_text(json.dumps({"log_history": history, "best_model_checkpoint": best}))
    (path / "adapter_config.json").write_text("{}")
    (path / "optimizer.pt").write_bytes(b"x" * 100)
    return path


def test_rotate_keeps_the_newest_n_and_the_best_in_addition(tmp_path):
    for step in (10, 20, 30, 40, 50):
        _fake_checkpoint(tmp_path, step)
    removed = checkpoints.rotate(tmp_path, 2, str(tmp_path / "checkpoint-20"))
    assert sorted(p.name for p in removed) == ["checkpoint-10", "checkpoint-30"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-20", "checkpoint-40", "checkpoint-50"]
    assert checkpoints.rotate(tmp_path, 0, None) == []  # 0 keeps all


def test_listing_reads_step_eval_loss_size_and_best(tmp_path):
    run = tmp_path / "run"
    base = run / "checkpoints"
    _fake_checkpoint(base, 6, 2.5)
    _fake_checkpoint(base, 12, 1.9, best=str(base / "checkpoint-12"))
    _fake_checkpoint(base, 18, 2.1, best=str(base / "checkpoint-12"))
    found = checkpoints.list_checkpoints(run)
    assert [(c.step, c.eval_loss, c.best) for c in found] == [(6, 2.5, False), (12, 1.9, True), (18, 2.1, False)]
    assert all(c.size_bytes > 100 for c in found)
    assert checkpoints.find_checkpoint(run, "best").name == "checkpoint-12"
    assert checkpoints.find_checkpoint(run, "18") == base / "checkpoint-18"
    assert checkpoints.find_checkpoint(run, "last").name == "checkpoint-18"
    with pytest.raises(Exception, match=r"no checkpoint-7 \(checkpoints: checkpoint-6, checkpoint-12, checkpoint-18\)"):
        checkpoints.find_checkpoint(run, "checkpoint-7")


def test_copy_weights_leaves_out_the_resume_state(tmp_path):
    ckpt = _fake_checkpoint(tmp_path, 5)
    assert not checkpoints.copy_weights(ckpt, tmp_path / "out")  # no weights file: nothing copied
    (ckpt / "adapter_model.safetensors").write_bytes(b"w")
    assert checkpoints.copy_weights(ckpt, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]


def scripted_eval_losses(losses: dict[int, float]):
    """A TrainerCallback (first in line) that replaces eval_loss by a script, so the best step is known."""
    from transformers import TrainerCallback

    class Script(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if metrics is not None and state.global_step in losses:
                metrics["eval_loss"] = losses[state.global_step]
            return control

    return Script()


def test_a_run_with_eval_keeps_the_best_checkpoint_and_makes_it_the_adapter(demo_model, tmp_path):
    script = {2: 3.0, 4: 1.0, 6: 2.0, 8: 2.5, 10: 2.2, 12: 1.5}  # best at step 4, which is no save step (6)
    config = tiny_config(tmp_path, max_steps=12, eval_steps=2, save_steps=6, save_total_limit=1)
    worker = start_run(config, run_dir=tmp_path / "run", callbacks=[scripted_eval_losses(script)])
    assert worker.join(timeout=300)
    events = read_events(worker.events_path)
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    assert {e.step: e.eval_loss for e in events if isinstance(e, Eval) and e.step > 0} == script
    run = tmp_path / "run"
    kept = sorted(c.step for c in checkpoints.list_checkpoints(run))
    assert kept == [4, 12], kept  # the newest 1 + the best
    assert [c.step for c in checkpoints.list_checkpoints(run) if c.best] == [4]
    assert finished.kept_checkpoint.endswith("checkpoint-4") and finished.best_eval_loss == 1.0
    assert finished.last_path == str(run / "adapter-last")
    best_weights = (run / "checkpoints" / "checkpoint-4" / "adapter_model.safetensors").read_bytes()
    assert (run / "adapter" / "adapter_model.safetensors").read_bytes() == best_weights
    assert (run / "adapter-last" / "adapter_model.safetensors").read_bytes() != best_weights
    assert (run / "adapter" / "tokenizer_config.json").is_file() and not (run / "adapter" / "optimizer.pt").exists()
    meta = json.loads((run / "run.json").read_text())
    assert meta["final"]["from"] == "checkpoint-4"
    texts = [getattr(e, "text", "") for e in events]
    assert any(t.startswith("the adapter is checkpoint-4's, the best eval loss (1.0000)") for t in texts), texts
    # resume from the best checkpoint: the later one is set aside, the resumed attempt starts at step 4
    from ftui.train import runs
    from ftui.train.events import Started

    moved = runs.request_resume_from(run, run / "checkpoints" / "checkpoint-4")
    assert [p.name for p in moved] == ["superseded-checkpoint-12"]
    resumed = start_run(runs.load_run_config(run), run_dir=run, resume=True)
    assert resumed.join(timeout=300)
    events = read_events(resumed.events_path)
    assert [e.resumed_from_step for e in events if isinstance(e, Started)][-1] == 4
    assert isinstance(events[-1], Finished) and events[-1].step == 12
    assert not (run / runs.RESUME_FROM_NAME).exists()  # used once


def test_resume_checkpoint_falls_back_to_the_latest(tmp_path):
    from ftui.train import runs

    run = tmp_path / "run"
    for step in (2, 4, 6):
        _fake_checkpoint(run / "checkpoints", step)
    assert runs.resume_checkpoint(run).name == "checkpoint-6"
    runs.request_resume_from(run, run / "checkpoints" / "checkpoint-2")
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "checkpoint-2", "superseded-checkpoint-4", "superseded-checkpoint-6"]
    assert runs.resume_checkpoint(run).name == "checkpoint-2"
    assert runs.resume_checkpoint(run).name == "checkpoint-2"  # the only one left: the latest
    assert [c.step for c in checkpoints.list_checkpoints(run)] == [2]  # superseded ones are not listed
