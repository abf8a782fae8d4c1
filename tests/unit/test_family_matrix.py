"""The whole job on every model family users train, on CPU: lint -> LoRA and full training
-> the tokens that carried loss -> the adapter reloads -> batched generation stops at the
family's end-of-turn token -> ``ftui eval`` scores base against the fine-tune (on a chat format
and on the base model: its generation is step 5's, the same for every family).

Each family is a tiny random-weight model of the real architecture with its published chat
format (ftui.models.families), and ``base`` has no chat template at all. Everything goes
through ftui's own paths (the linter, the training worker, the evaluation generator and the
CLI); nothing is set by hand per family.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.config import RunConfig
from ftui.models.families import FAMILIES
from ftui.train.events import Finished, Started, read_events
from ftui.train.preflight import validate

pytestmark = pytest.mark.slow

SYSTEM = "Classify the support ticket. Reply with one label."
TICKETS = [
    ("My invoice shows a double charge for March.", "billing"),
    ("The app crashes when I upload a file.", "technical"),
    ("Please add a dark mode to the dashboard.", "feature_request"),
    ("I cannot log in since yesterday.", "account"),
]
MAX_NEW_TOKENS = 24
EVAL_CLI_FAMILIES = {"llama3", "base"}


def conversation(question: str, answer: str | None = None) -> list[dict]:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("family-data")
    rows = [json.dumps({"messages": conversation(q, a)}) for q, a in TICKETS]
    (base / "train.jsonl").write_text("\n".join(rows * 4) + "\n")  # 16 rows: memorised in a few dozen steps
    (base / "test.jsonl").write_text("\n".join(rows) + "\n")
    return base


class DatasetProbe:
    """A TrainerCallback that keeps the tokenized training set the trainer actually iterates."""

    def __new__(cls):
        from transformers import TrainerCallback

        class _Probe(TrainerCallback):
            dataset = None

            def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
                type(self).dataset = train_dataloader.dataset if train_dataloader is not None else None

        return _Probe()


def train(config: RunConfig, run_dir: Path, callbacks=()) -> list:
    from ftui.train.worker import start_run

    assert validate(config) == [], "a real family format must pass validation with no manual setting"
    worker = start_run(config, run_dir=run_dir, callbacks=callbacks)
    worker.join(timeout=600)
    events = read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], Finished), events[-3:]
    return events


def family_config(model: Path, data: Path, **overrides) -> RunConfig:
    values = dict(
        model=str(model), train_path=str(data / "train.jsonl"), eval_path=None, eval_fraction=0.0,
        max_seq_len=256, micro_batch_size=4, warmup_ratio=0.0, lr_scheduler="constant",
        save_steps=1000, logging_steps=5,
    )
    values.update(overrides)
    return RunConfig(**values)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_whole_job_on_each_family(name: str, family_model, data_dir: Path, runs_dir: Path, capsys) -> None:
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ftui.data.lint import lint_file
    from ftui.evaluate.generate import GenerationConfig as EvalGenerationConfig
    from ftui.evaluate.generate import load_generator
    from ftui.evaluate.systems import parse_system
    from ftui.train.masking import trained_spans

    family = FAMILIES[name]
    model_dir = family_model(name)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    # 1. lint with the family's tokenizer: clean data, counted in real tokens
    report = lint_file(data_dir / "train.jsonl", tokenizer=str(model_dir), near_dups=False)
    errors = [f for f in report.findings if str(f.severity).lower().endswith("error")]
    assert errors == []

    # 2. LoRA through the worker; the tokens that carried loss are the replies and their end token
    probe = DatasetProbe()
    lora_dir = runs_dir / f"{name}-lora"
    events = train(family_config(model_dir, data_dir, method="lora", max_steps=3, learning_rate=1e-3), lora_dir, [probe])
    started = next(e for e in events if isinstance(e, Started))
    record = json.loads((lora_dir / "run.json").read_text())["masking"]
    assert record["path"] == ("base" if name == "base" else record["path"]) and record["path"] != "full"
    assert started.masking["path"] == record["path"]
    dataset = type(probe).dataset
    spans = [tokenizer.decode(s) for row in dataset for s in trained_spans(row["input_ids"], row.get("labels") or _labels(row))]
    stop_text = family.end_of_turn
    assert len(spans) == len(TICKETS) * 4
    for span in spans:
        reply = span.strip().split(stop_text)[0].strip()
        assert reply in {a for _, a in TICKETS}, span
        assert stop_text in span, f"{name}: the end-of-turn token must be trained, got {span!r}"
        assert "Classify the support ticket" not in span and "ticket" not in reply

    # 3. the adapter reloads onto its base and changes the model
    adapter = AutoPeftModelForCausalLM.from_pretrained(lora_dir / "adapter")
    trained_b = [p for n, p in adapter.named_parameters() if "lora_B" in n]
    assert trained_b and any(float(p.abs().sum()) > 0 for p in trained_b)

    # 4. full fine-tuning memorises the labels and the stop token
    full_dir = runs_dir / f"{name}-full"
    train(family_config(model_dir, data_dir, method="full", max_steps=40, learning_rate=3e-3), full_dir)
    merged = full_dir / "model"
    assert AutoModelForCausalLM.from_pretrained(merged).config.model_type == AutoModelForCausalLM.from_pretrained(model_dir).config.model_type

    # 5. batched generation stops at the family's end-of-turn token, same as one at a time
    generator = load_generator(parse_system(f"merged:{merged}", default_model=str(model_dir)))
    settings = EvalGenerationConfig(max_new_tokens=MAX_NEW_TOKENS, batch_size=4)
    prompts = [conversation(q) for q, _ in TICKETS]
    batched = generator.generate_batch(prompts, settings)
    single = [generator.generate_batch([p], settings)[0] for p in prompts]
    assert batched == single, "left padding must not change greedy outputs"
    for text in batched:
        assert stop_text not in text and "<|" not in text
        assert len(tokenizer(text, add_special_tokens=False).input_ids) < MAX_NEW_TOKENS, f"{name} never stopped: {text!r}"
    assert sum(text.strip() == answer for text, (_, answer) in zip(batched, TICKETS, strict=True)) >= 1, batched

    # 6. ftui eval scores base against the fine-tune from the CLI: the generation under it is step 5's, so
    # the CLI runs once with a chat template and once without one
    if name not in EVAL_CLI_FAMILIES:
        return
    from ftui.cli import main

    capsys.readouterr()
    code = main(["eval", "metrics", "--model", str(model_dir), "--system", "base", "--system", f"merged:{merged}",
                 "--test", str(data_dir / "test.jsonl"), "--max-new-tokens", str(MAX_NEW_TOKENS), "--json",
                 "--bootstrap", "50"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert len(result["systems"]) == 2, result


def _labels(row: dict) -> list[int]:
    """Labels as the collator makes them from a completion or assistant mask (-100 outside it)."""
    mask = row.get("completion_mask") or row.get("assistant_masks")
    return [t if m else -100 for t, m in zip(row["input_ids"], mask, strict=True)]
