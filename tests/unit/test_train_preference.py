"""DPO / ORPO / KTO: config checks, the preference reader, the estimate, and real runs on CPU.

The runs are short (a few steps) on the demo model and on tiny models of real families (Llama 3,
Qwen2.5), whose published chat templates are what TRL's preference tokenization meets in practice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui import paths
from ftui.config import RunConfig, check_fields, weights_method
from ftui.train.events import Checkpoint, Eval, Finished, Log, Started, Stopped, read_events
from ftui.train.preference_data import PreferenceDataError, load_preference, paired_row, split_implicit, unpaired_row
from ftui.train.worker import start_run

LABELS = ("billing", "technical", "account", "feature_request", "other")
CHATTY = "Thanks for reaching out! I think this one is probably about {}, but I may be wrong."


def write_pairs(path: Path, n: int = 48, start: int = 0) -> Path:
    """Pairs from the support tickets: the exact label is chosen, a chatty or wrong answer rejected."""
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()[start:start + n]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for i, line in enumerate(rows):
            messages = json.loads(line)["messages"]
            good = messages[-1]["content"]
            bad = CHATTY.format(good) if i % 2 else LABELS[(LABELS.index(good) + 1) % len(LABELS)]
            fh.write(json.dumps({"prompt": messages[:-1], "chosen": [{"role": "assistant", "content": good}],
                                 "rejected": [{"role": "assistant", "content": bad}]}) + "\n")
    return path


def pref_config(base: Path, **overrides) -> RunConfig:
    values = dict(
        model="demo",
        train_path=str(write_pairs(base / "data" / "train.jsonl")),
        eval_path=str(write_pairs(base / "data" / "eval.jsonl", n=8, start=100)),
        method="dpo",
        max_steps=4,
        learning_rate=1e-3,
        micro_batch_size=4,
        max_seq_len=256,
        eval_steps=4,
        save_steps=100,
        warmup_ratio=0.0,
        gradient_checkpointing=False,
        lr_scheduler="constant",
    )
    values.update(overrides)
    return RunConfig(**values)


# -- config --------------------------------------------------------------------------------------


def test_preference_methods_are_config_values_with_their_own_checks():
    assert check_fields(RunConfig(method="dpo")) == []
    assert weights_method(RunConfig(method="kto", adapter="qlora")) == "qlora"
    assert weights_method(RunConfig(method="lora", adapter="qlora")) == "lora"
    fields = {p.field for p in check_fields(RunConfig(method="orpo", adapter="full", beta=0, packing=True))}
    assert {"adapter", "beta", "packing"} <= fields
    from ftui.train.preflight import field_checks

    on_cpu = field_checks(RunConfig(method="dpo", adapter="qlora", device="cpu"))
    assert [p.field for p in on_cpu] == ["device"]
    assert any(p.field == "lora_r" for p in check_fields(RunConfig(method="dpo", lora_r=0)))


def test_extra_keys_are_checked_against_the_trainers_own_config():
    from ftui.train.preflight import validate

    config = RunConfig(method="dpo", extra={"loss_type": ["ipo"], "los_type": "x"})
    problems = [p for p in validate(config, check_files=False, check_env=False) if p.field.startswith("extra.")]
    assert [p.field for p in problems] == ["extra.los_type"]
    assert "DPOConfig" in problems[0].message and "loss_type" in problems[0].fix


def test_the_estimate_prices_dpo_as_its_adapter_with_both_answers_in_the_batch():
    from ftui.train.preflight.estimate import estimate_config, sequences_per_row

    assert (sequences_per_row(RunConfig(method="dpo")), sequences_per_row(RunConfig(method="kto"))) == (2, 1)
    dpo = estimate_config(RunConfig(method="dpo", micro_batch_size=2, gradient_checkpointing=True), gpu_gb=24)
    lora = estimate_config(RunConfig(method="lora", micro_batch_size=4, gradient_checkpointing=True), gpu_gb=24)
    assert dpo.total_gb == pytest.approx(lora.total_gb)
    kto = estimate_config(RunConfig(method="kto", adapter="qlora", micro_batch_size=2, gradient_checkpointing=True), gpu_gb=24)
    qlora = estimate_config(RunConfig(method="qlora", micro_batch_size=2, gradient_checkpointing=True), gpu_gb=24)
    assert kto.total_gb == pytest.approx(qlora.total_gb)


# -- the reader ----------------------------------------------------------------------------------


def test_paired_rows_in_every_form_become_conversations():
    explicit, _ = paired_row({"prompt": "Hi?", "chosen": "Hello.", "rejected": "Go away."})
    assert explicit == {"prompt": [{"role": "user", "content": "Hi?"}],
                        "chosen": [{"role": "assistant", "content": "Hello."}],
                        "rejected": [{"role": "assistant", "content": "Go away."}]}
    conversation = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi?"}]
    implicit, _ = paired_row({"chosen": [*conversation, {"role": "assistant", "content": "Hello."}],
                              "rejected": [*conversation, {"role": "assistant", "content": "No."}]})
    assert implicit["prompt"] == conversation and implicit["chosen"][0]["content"] == "Hello."
    openai, _ = paired_row({"input": {"messages": conversation},
                            "preferred_output": [{"role": "assistant", "content": "Hello."}],
                            "non_preferred_output": [{"role": "assistant", "content": "No."}]})
    assert openai["prompt"] == conversation and openai["rejected"][0]["content"] == "No."
    same, why = paired_row({"prompt": "Hi?", "chosen": "Hello.", "rejected": "Hello."})
    assert same is None and why == "chosen and rejected are identical"
    assert split_implicit([{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}])[0] == []


def test_unpaired_rows_and_what_each_method_accepts(tmp_path):
    row, _ = unpaired_row({"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Yo"}],
                           "label": False})
    assert row == {"prompt": [{"role": "user", "content": "Hi?"}],
                   "completion": [{"role": "assistant", "content": "Yo"}], "label": False}
    unpaired = tmp_path / "kto.jsonl"
    unpaired.write_text("\n".join(json.dumps({"prompt": f"q{i}", "completion": f"a{i}", "label": i % 2 == 0})
                                  for i in range(6)) + "\n" + '{"prompt": "q", "completion": "a", "label": "yes"}\n')
    data = load_preference(str(unpaired), "kto")
    assert (data.kind, len(data.rows), data.skipped) == ("unpaired", 6, 1)
    with pytest.raises(PreferenceDataError, match="needs pairs"):
        load_preference(str(unpaired), "dpo")
    pairs = write_pairs(tmp_path / "pairs.jsonl", n=5)
    as_kto = load_preference(str(pairs), "kto")
    assert len(as_kto.rows) == 10 and [r["label"] for r in as_kto.rows[:2]] == [True, False]
    sft = paths.sample_data("support_tickets_train.jsonl")
    with pytest.raises(PreferenceDataError, match="no usable preference rows"):
        load_preference(str(sft), "dpo")


# -- runs ----------------------------------------------------------------------------------------


def test_dpo_run_logs_rewards_evaluates_and_saves_an_adapter(demo_model, tmp_path):
    worker = start_run(pref_config(tmp_path), run_dir=tmp_path / "run")
    assert worker.join(timeout=600)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished), events[-1]
    started = next(e for e in events if isinstance(e, Started))
    assert started.method == "dpo" and started.total_steps == 4
    logs = [e for e in events if isinstance(e, Log)]
    assert [e.step for e in logs] == [1, 2, 3, 4]
    assert all(e.rewards_chosen is not None and e.rewards_accuracy is not None for e in logs)
    assert logs[0].loss == pytest.approx(0.6931, abs=1e-3)  # step 1: the adapter is zero, policy == reference
    margins = [e.metrics["eval_rewards/margins"] for e in events if isinstance(e, Eval)]
    assert margins[0] == 0 and margins[-1] > 0  # the eval pairs moved the right way
    adapter = Path(events[-1].adapter_path)
    assert (adapter / "adapter_config.json").exists() and (adapter / "tokenizer_config.json").exists()
    texts = [getattr(e, "text", "") for e in events]
    assert any("adapter disabled" in t for t in texts)


def test_dpo_stop_and_save_then_resume(demo_model, tmp_path):
    from transformers import TrainerCallback

    holder: dict = {}

    class StopAt2(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 2:
                holder["worker"].stop(save=True)

    config = pref_config(tmp_path, eval_path=None, eval_fraction=0.0)
    worker = start_run(config, run_dir=tmp_path / "run", callbacks=[StopAt2()])
    holder["worker"] = worker
    assert worker.join(timeout=600)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Stopped) and events[-1].saved and events[-1].step == 2, events[-1]
    assert any(isinstance(e, Checkpoint) and e.step == 2 for e in events)
    resumed = start_run(config, run_dir=worker.run_dir, resume=True)
    assert resumed.join(timeout=600)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished) and events[-1].step == 4, events[-1]
    restart = max(i for i, e in enumerate(events) if isinstance(e, Started))
    assert events[restart].resumed_from_step == 2
    assert [e.step for e in events[restart:] if isinstance(e, Log)] == [3, 4]


@pytest.mark.parametrize(("method", "family"), [("dpo", "llama3"), ("orpo", "qwen2.5"), ("kto", "llama3"), ("dpo", "qwen2.5")])
def test_preference_methods_train_real_chat_formats(method, family, family_model, tmp_path):
    model = family_model(family)
    config = pref_config(tmp_path, model=str(model), method=method, max_steps=2, eval_path=None, eval_fraction=0.0,
                         micro_batch_size=2)
    worker = start_run(config, run_dir=tmp_path / "run")
    assert worker.join(timeout=600)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished), events[-1]
    logs = [e for e in events if isinstance(e, Log)]
    assert len(logs) == 2 and all(e.loss is not None and e.rewards_chosen is not None for e in logs)
    assert (Path(events[-1].adapter_path) / "adapter_model.safetensors").exists()


# -- curves, words and diagnostics ---------------------------------------------------------------


def _dpo_logs(n: int, chosen, rejected, accuracy, loss) -> list:  # noqa: ANN001 - callables of the step
    return [Started(run_id="r", method="dpo", model="demo", total_steps=n)] + [
        Log(step=s, loss=loss(s), rewards_chosen=chosen(s), rewards_rejected=rejected(s),
            rewards_margin=chosen(s) - rejected(s), rewards_accuracy=accuracy(s)) for s in range(1, n + 1)]


def test_history_words_and_diagnostics_read_the_rewards():
    from ftui.train.diagnostics import diagnose
    from ftui.train.event_text import describe_event
    from ftui.train.history import RunHistory

    healthy = RunHistory.from_events(_dpo_logs(40, lambda s: 0.01 * s, lambda s: -0.03 * s,
                                               lambda s: min(0.5 + s / 80, 0.9), lambda s: 0.69 - s / 200))
    assert healthy.is_preference and len(healthy.rewards_margin) == 40 and healthy.rewards_accuracy.last() == 0.9
    assert not [d for d in diagnose(healthy) if d.id.startswith("pref-")]
    line = describe_event(Log(step=3, loss=0.55, rewards_margin=0.38, rewards_accuracy=0.75))
    assert "margin +0.380" in line.text and "acc 75%" in line.text
    assert not RunHistory.from_events([Log(step=1, loss=2.0)]).is_preference

    falling = RunHistory.from_events(_dpo_logs(40, lambda s: -0.1 * s, lambda s: -0.2 * s,
                                               lambda s: 0.8, lambda s: 0.4))
    assert "pref-chosen-falling" in [d.id for d in diagnose(falling)]
    stuck = RunHistory.from_events(_dpo_logs(40, lambda s: 0.0, lambda s: 0.0, lambda s: 0.5, lambda s: 0.693))
    assert "pref-no-separation" in [d.id for d in diagnose(stuck)]
    easy = RunHistory.from_events(_dpo_logs(60, lambda s: 1.0, lambda s: -5.0, lambda s: 1.0, lambda s: 0.01))
    assert "pref-too-easy" in [d.id for d in diagnose(easy)]
