"""The HF backend end to end on the demo model (CPU, a few steps each).

One LoRA run (with merge) and one full fine-tune are shared by several tests to keep
the area's runtime small; the stop/resume, failure and QLoRA tests run their own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ftui import paths
from ftui.config import RunConfig
from ftui.train.events import Checkpoint, Eval, Failed, Finished, Log, Started, Stopped, read_events
from ftui.train.worker import start_run

pytestmark = pytest.mark.real_gc_freeze  # the freeze during training is asserted here, as ftui does it

FAKE_KEY = "sk-test-FAKE-0123456789abcdef"


def write_tiny_data(base: Path, n_train: int = 48, n_eval: int = 12) -> tuple[Path, Path]:
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()
    base.mkdir(parents=True, exist_ok=True)
    train, evaluation = base / "train.jsonl", base / "eval.jsonl"
    train.write_text("\n".join(rows[:n_train]) + "\n")
    evaluation.write_text("\n".join(rows[n_train : n_train + n_eval]) + "\n")
    return train, evaluation


def tiny_config(base: Path, **overrides) -> RunConfig:
    train, evaluation = write_tiny_data(base / "data")
    values = dict(
        model="demo",
        train_path=str(train),
        eval_path=str(evaluation),
        method="lora",
        max_steps=12,
        learning_rate=2e-3,
        micro_batch_size=4,
        max_seq_len=256,
        eval_steps=6,
        save_steps=6,
        warmup_ratio=0.0,
        gradient_checkpointing=False,
        lr_scheduler="constant",
    )
    values.update(overrides)
    return RunConfig(**values)


def evals(events) -> list[Eval]:
    return [e for e in events if isinstance(e, Eval)]


class CaptureModel:
    """A TrainerCallback (duck-typed via transformers' base) keeping the trained model in memory."""

    def __new__(cls):
        from transformers import TrainerCallback

        class _Capture(TrainerCallback):
            model = None
            frozen_during_training = None

            def on_step_end(self, args, state, control, **kwargs):
                import gc

                type(self).frozen_during_training = gc.get_freeze_count()

            def on_train_end(self, args, state, control, model=None, **kwargs):
                type(self).model = model

        return _Capture()


def greedy(model, tokenizer, text: str = "My invoice is wrong, I was charged twice.") -> list[int]:
    import torch

    messages = [{"role": "user", "content": text}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    model.eval()
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    return out[0, ids["input_ids"].shape[1] :].tolist()


@pytest.fixture(scope="module")
def lora_run(demo_model, tmp_path_factory):
    base = tmp_path_factory.mktemp("lora")
    os.environ["OPENAI_API_KEY"] = FAKE_KEY
    __import__("gc").unfreeze()  # the conftest freezes between tests: what is frozen during training is the run's doing
    try:
        capture = CaptureModel()
        config = tiny_config(base, merge_at_end=True, output_dir=str(base / "run"))
        worker = start_run(config, callbacks=[capture])
        assert worker.join(timeout=300)
    finally:
        os.environ.pop("OPENAI_API_KEY", None)
    lora_run_gc.update(during=type(capture).frozen_during_training, after=__import__("gc").get_freeze_count())
    return worker, type(capture).model


lora_run_gc: dict[str, int | None] = {}


def test_the_collector_skips_the_loaded_stack_while_training_and_not_after(lora_run):
    """gc.freeze() during trainer.train (no 50-100 ms full collections pausing the TUI), undone after."""
    assert lora_run_gc["during"] and lora_run_gc["during"] > 10_000
    assert lora_run_gc["after"] == 0


@pytest.fixture(scope="module")
def full_run(demo_model, tmp_path_factory):
    base = tmp_path_factory.mktemp("full")
    config = tiny_config(base, method="full", learning_rate=1e-3, max_steps=10, eval_steps=10, save_steps=10)
    worker = start_run(config, run_dir=base / "run")
    assert worker.join(timeout=300)
    return worker


def test_lora_lowers_eval_loss_below_step_zero(lora_run):
    worker, _ = lora_run
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished), events[-1]
    losses = evals(events)
    assert losses[0].step == 0
    assert losses[-1].step == 12
    assert losses[-1].eval_loss < losses[0].eval_loss - 0.05
    started = next(e for e in events if isinstance(e, Started))
    assert started.total_steps == 12 and started.device.startswith("cpu")
    assert [e.step for e in events if isinstance(e, Log)] == list(range(1, 13))
    assert {e.step for e in events if isinstance(e, Checkpoint)} == {6, 12}
    assert any(e.type == "memory" and e.source == "cpu-rss" and e.rss > 0 for e in events)


def test_lora_adapter_reloads_and_generates_like_in_process(lora_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    worker, trained = lora_run
    adapter = worker.run_dir / "adapter"
    assert (adapter / "adapter_config.json").exists() and (adapter / "adapter_model.safetensors").exists()
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"])
    reloaded = PeftModel.from_pretrained(base, adapter)
    expected = greedy(trained, tokenizer)
    assert greedy(reloaded, tokenizer) == expected
    merged = AutoModelForCausalLM.from_pretrained(worker.run_dir / "merged")
    assert (worker.run_dir / "merged" / "model.safetensors").exists()
    assert greedy(merged, tokenizer) == expected


def test_run_metadata_records_datasets_versions_device(lora_run):
    worker, _ = lora_run
    meta = json.loads((worker.run_dir / "run.json").read_text())
    assert set(meta["versions"]) >= {"torch", "transformers", "peft", "trl", "bitsandbytes"}
    assert meta["device"].startswith("cpu")
    hashes = meta["datasets"]
    assert len(hashes) == 2 and all(len(h) == 64 for h in hashes.values())


def test_no_run_file_contains_the_api_key(lora_run):
    worker, _ = lora_run
    files = [p for p in worker.run_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_full_finetune_lowers_eval_loss_and_saves_a_model(full_run):
    from transformers import AutoModelForCausalLM

    events = read_events(full_run.events_path)
    assert isinstance(events[-1], Finished), events[-1]
    losses = evals(events)
    assert losses[0].step == 0 and losses[-1].step == 10
    assert losses[-1].eval_loss < losses[0].eval_loss - 0.05
    assert events[-1].merged_path and AutoModelForCausalLM.from_pretrained(events[-1].merged_path) is not None


def test_stop_and_save_then_resume_continues_from_that_step(demo_model, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, TrainerCallback

    holder: dict = {}

    class StopAt3(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                holder["worker"].stop(save=True)

    config = tiny_config(tmp_path, max_steps=8, eval_steps=100, save_steps=100)
    # the callback needs the worker, which start_run creates: hand it over through the holder
    worker = start_run(config, run_dir=tmp_path / "run", callbacks=[StopAt3()])
    holder["worker"] = worker
    assert worker.join(timeout=300)
    events = read_events(worker.events_path)
    stopped = events[-1]
    assert isinstance(stopped, Stopped) and stopped.saved and stopped.step == 3, stopped
    checkpoint = Path(stopped.checkpoint)
    assert checkpoint.name == "checkpoint-3" and (checkpoint / "optimizer.pt").exists()
    base = AutoModelForCausalLM.from_pretrained(str(demo_model))
    assert PeftModel.from_pretrained(base, checkpoint) is not None  # a loadable adapter checkpoint

    resumed = start_run(config, run_dir=worker.run_dir, resume=True)
    assert resumed.join(timeout=300)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished) and events[-1].step == 8, events[-1]
    start_index = max(i for i, e in enumerate(events) if isinstance(e, Started))
    assert events[start_index].resumed_from_step == 3
    later_logs = [e.step for e in events[start_index:] if isinstance(e, Log)]
    assert later_logs[0] == 4 and later_logs[-1] == 8


def test_stop_without_save_leaves_no_checkpoint(demo_model, tmp_path):
    from transformers import TrainerCallback

    holder: dict = {}

    class StopAt2(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 2:
                holder["worker"].stop(save=False)

    config = tiny_config(tmp_path, max_steps=50, eval_path=None, eval_fraction=0.0, save_steps=100)
    worker = start_run(config, run_dir=tmp_path / "run", callbacks=[StopAt2()])
    holder["worker"] = worker
    assert worker.join(timeout=300)
    last = read_events(worker.events_path)[-1]
    assert isinstance(last, Stopped) and not last.saved and last.step == 2
    assert not list((worker.run_dir / "checkpoints").glob("checkpoint-*"))


def test_exception_at_step_k_becomes_a_failed_event(demo_model, tmp_path):
    from transformers import TrainerCallback

    class Boom(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 2:
                raise RuntimeError("injected failure at step two")

    config = tiny_config(tmp_path, eval_path=None, eval_fraction=0.0)
    worker = start_run(config, run_dir=tmp_path / "run", callbacks=[Boom()])
    assert worker.join(timeout=300)
    last = read_events(worker.events_path)[-1]
    assert isinstance(last, Failed)
    assert "injected failure at step two" in last.message and last.step == 2
    assert "traceback" in (last.hint or "")
    assert "RuntimeError" in (worker.run_dir / "traceback.txt").read_text()
    assert not worker.is_alive()


def test_cuda_oom_message_names_step_and_fix():
    from ftui.train.worker import describe_failure

    class OutOfMemoryError(RuntimeError):
        pass

    message, hint = describe_failure(OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), 12)
    assert message == "out of GPU memory at step 12: lower the batch size or sequence length, or use QLoRA"
    assert "micro_batch_size" in hint


def test_qlora_on_cpu_is_refused_before_any_weights_load(demo_model, tmp_path, monkeypatch):
    import transformers

    def no_weights(*args, **kwargs):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_weights)
    config = tiny_config(tmp_path, method="qlora")
    worker = start_run(config, run_dir=tmp_path / "run", check=False)
    assert worker.join(timeout=120)
    last = read_events(worker.events_path)[-1]
    assert isinstance(last, Failed)
    assert last.message.startswith("QLoRA needs an NVIDIA GPU with CUDA") and "method: lora" in last.hint
    assert not (tmp_path / "run" / "traceback.txt").exists() or "weights were loaded" not in (tmp_path / "run" / "traceback.txt").read_text()


def test_sft_config_switches(tmp_path):
    from ftui.train.hf_backend import build_sft_config

    config = RunConfig(early_stopping_patience=2, eval_steps=7, save_steps=100, save_total_limit=2)
    args = build_sft_config(config, tmp_path, "chat", has_eval=True, resume=False)
    assert args.load_best_model_at_end and args.metric_for_best_model == "eval_loss" and args.greater_is_better is False
    assert args.save_steps == 7 and args.eval_on_start and args.assistant_only_loss
    assert args.report_to in ("none", [], ["none"]) and args.skip_memory_metrics and not args.trust_remote_code
    assert args.bf16 is False and args.fp16 is False  # CPU: fp32
    resumed = build_sft_config(RunConfig(), tmp_path, "text", has_eval=False, resume=True)
    assert not resumed.eval_on_start and not resumed.assistant_only_loss and resumed.eval_strategy == "no"


def test_early_stopping_keeps_the_best_checkpoint_as_the_final_adapter(demo_model, tmp_path):
    # a learning rate this large makes eval loss climb after the first evals, so patience 1 stops the run
    config = tiny_config(tmp_path, max_steps=40, eval_steps=2, learning_rate=0.5, early_stopping_patience=1,
                         save_total_limit=1)
    worker = start_run(config, run_dir=tmp_path / "run")
    assert worker.join(timeout=300)
    events = read_events(worker.events_path)
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    assert finished.step < 40  # stopped early
    losses = {e.step: e.eval_loss for e in evals(events) if e.step > 0}
    best_step = min(losses, key=losses.get)
    assert finished.best_checkpoint.endswith(f"checkpoint-{best_step}")
    assert finished.best_eval_loss == pytest.approx(losses[best_step])
    assert Path(finished.best_checkpoint).exists()


def test_run_records_the_gpu_defaults_it_chose_and_eval_time(lora_run):
    """On CPU: sdpa, plain AdamW, no TF32 - said in the log, recorded in run.json; every eval says how long it took."""
    from ftui.train.events import Message

    worker, _ = lora_run
    events = read_events(worker.events_path)
    meta = json.loads((worker.run_dir / "run.json").read_text())
    assert (meta["attn_implementation"], meta["optimizer"], meta["tf32"]) == ("sdpa", "adamw_torch", False)
    texts = [e.text for e in events if isinstance(e, Message)]
    assert "attention: sdpa (flash_attention_2 not used: flash-attn is not installed)" in texts
    assert "optimizer: adamw_torch" in texts and "tf32: off (no CUDA)" in texts
    assert all(e.runtime_s is not None and 0 < e.runtime_s < 60 for e in evals(events))


def test_explicit_flash_attention_on_cpu_fails_before_any_weights_load(demo_model, tmp_path, monkeypatch):
    import transformers

    def no_weights(*args, **kwargs):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_weights)
    config = tiny_config(tmp_path, attn_implementation="flash_attention_2")
    worker = start_run(config, run_dir=tmp_path / "run", check=False)
    assert worker.join(timeout=120)
    last = read_events(worker.events_path)[-1]
    assert isinstance(last, Failed)
    assert last.message == "attn_implementation: flash_attention_2 needs the flash-attn package, which is not installed here"
    assert "auto or sdpa" in last.hint
