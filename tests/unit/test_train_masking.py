"""Loss masking on real chat formats: which tokens carry the loss, decided before any weights load.

For every tiny family model (ftui.models.families: the published chat formats, no
generation markers) the training set is built the way a run builds it (ftui's data
loading, ``masking.prepare_datasets``, ``build_sft_config``, then TRL's SFTTrainer
tokenizing it) and the tokens whose label is not -100 are read back from
``trainer.train_dataset``: they must be the assistant replies and that family's
end-of-turn token, nothing of the prompt, each reply once; counted against the
replies of the data file tokenized independently.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from ftui.config import RunConfig
from ftui.models.families import FAMILIES
from ftui.train import chat_template, masking
from ftui.train.masking import MaskingError, plan_masking, prepare_rows, trained_spans
from ftui.train.preflight import validate

SYSTEM = "You are a support triage assistant. Reply briefly."
CONVERSATIONS = [
    [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "My invoice shows a double charge for March."},
        {"role": "assistant", "content": "billing"},
        {"role": "user", "content": "And the app crashes when I upload a file."},
        {"role": "assistant", "content": "technical: please send the crash log"},
    ],
    [
        {"role": "user", "content": "Can you add a dark mode to the dashboard?"},
        {"role": "assistant", "content": "feature_request"},
    ],
    [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "I cannot log in since yesterday."},
        {"role": "assistant", "content": "account"},
        {"role": "user", "content": "The reset email never arrives."},
        {"role": "assistant", "content": "account: check the spam folder"},
        {"role": "user", "content": "Found it, thanks!"},
        {"role": "assistant", "content": "Glad it worked."},
    ],
]
REPLIES = [m["content"] for c in CONVERSATIONS for m in c if m["role"] == "assistant"]

# What a family's template writes around a trained reply beyond reply + end-of-turn token, as
# (before the reply, after the end-of-turn token of an earlier turn, after that of the last turn).
# Mistral writes a space before the reply, which the model must write too. Gemma 2 and Phi-3
# train through TRL's own training templates, which also mark the newline after the end-of-turn
# token (and Phi-3's closing <|endoftext|>) as assistant tokens.
AROUND = {
    "mistral": (" ", "", ""),
    "gemma2": ("", "\n", "\n"),
    "phi3": ("", "\n", "\n<|endoftext|>"),
}
EXPECTED_PATH = {
    "llama3": "prompt_completion",
    "qwen2.5": "prompt_completion",
    "qwen3": "prompt_completion",
    "mistral": "prompt_completion",
    "gemma2": "assistant_only",
    "gemma3": "prompt_completion",
    "phi3": "assistant_only",
    "base": "base",
}


def write_chat(path: Path, conversations: list[list[dict]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"messages": c}) + "\n" for c in conversations))
    return path


def chat_config(model: Path, tmp_path: Path, **overrides) -> RunConfig:
    values = dict(model=str(model), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS)),
                  eval_path=None, eval_fraction=0.0, max_seq_len=512)
    values.update(overrides)
    return RunConfig(**values)


def trained_dataset(config: RunConfig, run_dir: Path):
    """The tokenized train set SFTTrainer builds for ``config`` on ftui's path, and the plan."""
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    from ftui.train.dataset import build_datasets
    from ftui.train.hf_backend import build_sft_config

    tokenizer = chat_template.load_tokenizer(config.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_ds, eval_ds, loaded = build_datasets(config)
    plan, train_ds, eval_ds = masking.prepare_datasets(config, tokenizer, loaded.kind, train_ds, eval_ds)
    args = build_sft_config(config, run_dir, loaded.kind, eval_ds is not None, False, masking=plan)
    model = AutoModelForCausalLM.from_pretrained(config.model)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_ds, processing_class=tokenizer)
    return trainer.train_dataset, tokenizer, plan


def expected_spans(name: str) -> list[str]:
    """Each trained span as the family's format writes it, from the data file's replies alone."""
    family = FAMILIES[name]
    before, after_mid, after_last = AROUND.get(name, ("", "", ""))
    eot = family.end_of_turn if family.chat_template is not None else "<|end_of_text|>"
    out = []
    for conversation in CONVERSATIONS:
        replies = [m["content"] for m in conversation if m["role"] == "assistant"]
        for i, reply in enumerate(replies):
            trail = after_last if i == len(replies) - 1 else after_mid
            out.append(before + reply + eot + (trail if EXPECTED_PATH[name] == "assistant_only" else ""))
    return out


@pytest.mark.parametrize("name", list(FAMILIES))
def test_only_the_replies_and_the_end_of_turn_token_carry_loss(name, family_model, tmp_path):
    config = chat_config(family_model(name), tmp_path)
    dataset, tokenizer, plan = trained_dataset(config, tmp_path / "run")
    assert plan.path == EXPECTED_PATH[name]
    spans = [span for row in dataset for span in trained_spans(row["input_ids"], row["labels"])]
    got = sorted(tokenizer.decode(span) for span in spans)
    want = expected_spans(name)
    assert got == sorted(want)
    # the count, against the replies tokenized on their own
    independent = sum(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in want)
    assert sum(len(s) for s in spans) == independent
    assert all(reply in "".join(got) for reply in REPLIES)
    if plan.path in ("prompt_completion", "base"):
        assert len(dataset) == len(REPLIES)  # one row per assistant turn
        assert (plan.conversations, plan.rows) == (len(CONVERSATIONS), len(REPLIES))


def test_prompt_is_what_generation_renders_and_carries_no_loss(family_model, tmp_path):
    """Qwen3's template writes an empty think block before the last reply: it goes in the prompt, untrained."""
    config = chat_config(family_model("qwen3"), tmp_path)
    dataset, tokenizer, plan = trained_dataset(config, tmp_path / "run")
    assert plan.lead_in == "<think>\n\n</think>\n\n"
    for row in dataset:
        prompt = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label == -100]
        text = tokenizer.decode(prompt)
        assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    messages = CONVERSATIONS[1][:1]
    assert chat_template.render_prompt(tokenizer, messages).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_mistral_prompt_keeps_the_system_message_of_its_turn(family_model, tmp_path):
    """Mistral v0.3 writes the system prompt into the last user turn; each row's prompt is rendered as
    generation renders it, so every turn sees it (a whole-conversation rendering would drop it)."""
    tokenizer = chat_template.load_tokenizer(str(family_model("mistral")))
    config = chat_config(family_model("mistral"), tmp_path)
    plan = plan_masking(tokenizer, "chat", config)
    rows = prepare_rows(plan, tokenizer, [{"messages": CONVERSATIONS[0]}])
    prompts = [tokenizer.decode([t for t, m in zip(r["input_ids"], r["completion_mask"], strict=True) if not m]) for r in rows]
    assert len(rows) == 2 and all(SYSTEM in p for p in prompts)
    assert prompts[1].endswith(f"[INST] {SYSTEM}\n\nAnd the app crashes when I upload a file.[/INST]")


def test_gemma2_folds_the_system_message_it_refuses(family_model, tmp_path):
    tokenizer = chat_template.load_tokenizer(str(family_model("gemma2")))
    plan = plan_masking(tokenizer, "chat", chat_config(family_model("gemma2"), tmp_path))
    assert plan.system == "folded" and "refuses a system message" in plan.system_note
    (row,) = prepare_rows(plan, tokenizer, [{"messages": CONVERSATIONS[0]}])
    assert row["messages"][0] == {"role": "user", "content": f"{SYSTEM}\n\n{CONVERSATIONS[0][1]['content']}"}
    assert "folded" in plan.describe()


def test_base_model_trains_on_plain_prompt_completion_ending_in_eos(family_model, tmp_path):
    tokenizer = chat_template.load_tokenizer(str(family_model("base")))
    plan = plan_masking(tokenizer, "chat", chat_config(family_model("base"), tmp_path))
    rows = prepare_rows(plan, tokenizer, [{"messages": CONVERSATIONS[0]}])
    first = tokenizer.decode(rows[1]["input_ids"])
    assert first == (f"<|begin_of_text|>### System:\n{SYSTEM}\n\n### Instruction:\n{CONVERSATIONS[0][1]['content']}\n\n"
                     f"### Response:\nbilling\n\n### Instruction:\n{CONVERSATIONS[0][3]['content']}\n\n"
                     "### Response:\ntechnical: please send the crash log<|end_of_text|>")
    assert chat_template.render_prompt(tokenizer, CONVERSATIONS[1][:1]).endswith("### Response:\n")


def test_demo_model_keeps_trl_assistant_only_loss(demo_model, tmp_path):
    plan = plan_masking(str(demo_model), "chat", RunConfig())
    assert plan.path == "assistant_only" and plan.training_template is None
    assert plan.record()["assistant_only_loss"] is True


def test_switches_the_user_sets_are_recorded(family_model, tmp_path):
    model = family_model("llama3")
    off = plan_masking(str(model), "chat", chat_config(model, tmp_path, assistant_only_loss=False))
    assert off.path == "full" and "assistant_only_loss is off" in off.reason
    assert not off.assistant_only_loss and off.completion_only_loss is None
    text = plan_masking(str(model), "text", chat_config(model, tmp_path))
    assert text.path == "text"
    base_off = plan_masking(str(family_model("base")), "chat", chat_config(model, tmp_path, assistant_only_loss=False))
    (row,) = prepare_rows(base_off, chat_template.load_tokenizer(str(family_model("base"))), [{"messages": CONVERSATIONS[1]}])
    assert row["text"].endswith("### Response:\nfeature_request<|end_of_text|>")


@pytest.mark.parametrize("name", ["llama3", "mistral", "base"])
def test_real_formats_pass_validation_with_default_settings(name, family_model, tmp_path):
    model = family_model(name)
    config = RunConfig(model=str(model), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS * 4)))
    assert validate(config) == []
    problem, seconds = masking.timed_masking_problem(config)
    assert problem is None and seconds < 2.0


def broken_model(source: Path, out: Path, template: str | None, drop_eos: bool = False) -> Path:
    """A copy of ``source``'s config and tokenizer (no weights: validation never reads them) with another template."""
    from transformers import AutoTokenizer

    out.mkdir(parents=True)
    shutil.copy(source / "config.json", out / "config.json")
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.chat_template = template
    tokenizer.save_pretrained(out)
    if drop_eos:
        cfg = json.loads((out / "tokenizer_config.json").read_text())
        cfg.pop("eos_token", None)
        (out / "tokenizer_config.json").write_text(json.dumps(cfg))
    return out


def one_masking_problem(config: RunConfig):
    validate(RunConfig(model=config.model, train_path=config.train_path))  # warm the imports: the clock is for the check
    started = time.perf_counter()
    problems = validate(config)
    seconds = time.perf_counter() - started
    assert len(problems) == 1, problems
    return problems[0], seconds


def test_a_template_that_refuses_the_data_is_one_problem_with_its_fix(family_model, tmp_path):
    """A template with its own rule on the data (here: single-turn only), which the linter cannot know."""
    single_turn = ("{% if messages|length > 3 %}{{ raise_exception('This model supports single-turn conversations only') }}"
                   "{% endif %}" + FAMILIES["llama3"].chat_template)
    model = broken_model(family_model("llama3"), tmp_path / "single", single_turn)
    config = RunConfig(model=str(model), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS[1:2] + CONVERSATIONS)))
    problem, seconds = one_masking_problem(config)
    assert problem.field == "train_path"
    assert problem.message == ("the model's chat template refuses train.jsonl row 2: "
                               "This model supports single-turn conversations only")
    assert "give the model a chat template that accepts them" in problem.fix
    print(f"the template check took {seconds:.2f} s")  # a speed claim would fail under load: printed, not asserted


def test_rows_the_linter_names_are_not_named_again_by_the_template(family_model, tmp_path):
    doubled = [[{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "other"}]]
    config = RunConfig(model=str(family_model("mistral")), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS + doubled)))
    problems = validate(config)
    assert len(problems) == 1 and problems[0].field == "train_path" and "row 4" in problems[0].message


def test_a_template_that_renders_nothing_is_one_problem(family_model, tmp_path):
    model = broken_model(family_model("llama3"), tmp_path / "blank", "{{ '' }}")
    config = RunConfig(model=str(model), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS)))
    problem, seconds = one_masking_problem(config)
    assert problem.field == "model" and "does not write an assistant reply" in problem.message
    assert "chat template" in problem.fix and seconds < 2.0


def test_a_base_tokenizer_without_eos_is_one_problem(family_model, tmp_path):
    model = broken_model(family_model("base"), tmp_path / "noeos", None, drop_eos=True)
    config = RunConfig(model=str(model), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS)))
    problem, _ = one_masking_problem(config)
    assert problem.field == "model" and "no eos token" in problem.message and "eos_token" in problem.fix


def test_a_refused_row_fails_the_run_before_the_weights_load(family_model, tmp_path):
    """Past the validation sample, the conversion in run_hf still stops the run, before the model loads
    (the model directory here has no weights at all)."""
    from ftui.train.events import Failed, read_events
    from ftui.train.worker import start_run

    single_turn = ("{% if messages|length > 3 %}{{ raise_exception('This model supports single-turn conversations only') }}"
                   "{% endif %}" + FAMILIES["llama3"].chat_template)
    model = broken_model(family_model("llama3"), tmp_path / "single", single_turn)
    rows = CONVERSATIONS[1:2] * 90 + CONVERSATIONS[:1]
    config = RunConfig(model=str(model), train_path=str(write_chat(tmp_path / "train.jsonl", rows)),
                       eval_path=None, eval_fraction=0.0, max_steps=2)
    assert validate(config) == []  # row 91 lies past the rows validation renders
    worker = start_run(config, run_dir=tmp_path / "run")
    assert worker.join(timeout=300)
    events = read_events(worker.run_dir / "events.jsonl")
    failed = [e for e in events if isinstance(e, Failed)]
    assert failed and "refuses train.jsonl row 91" in failed[0].message, [e.to_dict() for e in events]
    assert "chat template that accepts them" in (failed[0].hint or "")
    assert not any(e.type == "started" for e in events)


@pytest.mark.parametrize("name", ["llama3", "mistral", "base"])
def test_tiny_lora_run_finishes_and_records_its_masking_path(name, family_model, tmp_path):
    from ftui.train import runs
    from ftui.train.events import DataAccounting, Finished, Message, Started, read_events
    from ftui.train.worker import start_run

    config = RunConfig(model=str(family_model(name)), train_path=str(write_chat(tmp_path / "train.jsonl", CONVERSATIONS * 4)),
                       eval_path=None, eval_fraction=0.0, max_steps=2, micro_batch_size=4, max_seq_len=256,
                       gradient_checkpointing=False)
    assert validate(config) == []
    worker = start_run(config, run_dir=tmp_path / "run")
    assert worker.join(timeout=300)
    events = read_events(worker.run_dir / "events.jsonl")
    assert any(isinstance(e, Finished) for e in events), [e.to_dict() for e in events if e.type == "failed"]
    (started,) = [e for e in events if isinstance(e, Started)]
    record = runs.read_run_metadata(worker.run_dir)["masking"]
    assert started.masking == record and record["path"] == EXPECTED_PATH[name]
    assert (record["conversations"], record["rows"]) == (12, 4 * len(REPLIES))
    lines = [e.text for e in events if isinstance(e, Message) and e.text.startswith("loss masking:")]
    assert lines and lines[0].startswith(f"loss masking: {record['path']}, {record['rows']} rows from 12 conversations (")
    (data,) = [e for e in events if isinstance(e, DataAccounting)]  # the converted rows are accounted for too
    assert data.rows_in == record["rows"] and data.rows_trained == record["rows"]


def test_masking_error_is_one_line_with_its_fix():
    error = MaskingError("the chat template refuses row 3", "Fix those rows.")
    assert str(error) == "the chat template refuses row 3. Fix those rows." and error.field == "model"


LLAMA_LIKE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'assistant' %}"
    "<|start_header_id|>assistant<|end_header_id|>\n\n{GEN}"
    "{% elif m['role'] != 'system' or KEEP_SYSTEM %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def llama_like(family_model, gen: str, keep_system: bool = True):
    tokenizer = chat_template.load_tokenizer(str(family_model("llama3")))
    tokenizer.chat_template = LLAMA_LIKE.replace("{GEN}", gen).replace("KEEP_SYSTEM", "true" if keep_system else "false")
    return tokenizer


def test_markers_that_train_the_end_of_turn_token_keep_assistant_only(family_model):
    tokenizer = llama_like(family_model, "{% generation %}{{ m['content'] }}<|eot_id|>{% endgeneration %}")
    plan = plan_masking(tokenizer, "chat", RunConfig(), [{"messages": c} for c in CONVERSATIONS])
    assert plan.path == "assistant_only" and plan.training_template is None


def test_markers_that_leave_out_the_end_of_turn_token_fall_back_to_prompt_completion(family_model):
    """TRL would only warn that the model may never learn to stop; ftui converts instead."""
    tokenizer = llama_like(family_model, "{% generation %}{{ m['content'] }}{% endgeneration %}<|eot_id|>")
    plan = plan_masking(tokenizer, "chat", RunConfig(), [{"messages": c} for c in CONVERSATIONS])
    assert plan.path == "prompt_completion" and "leave out the end-of-turn token" in plan.reason
    rows = prepare_rows(plan, tokenizer, [{"messages": CONVERSATIONS[0]}])
    completions = [tokenizer.decode([t for t, m in zip(r["input_ids"], r["completion_mask"], strict=True) if m]) for r in rows]
    assert completions == ["billing<|eot_id|>", "technical: please send the crash log<|eot_id|>"]


def test_a_template_that_drops_system_messages_gets_them_folded(family_model):
    tokenizer = llama_like(family_model, "{{ m['content'] }}<|eot_id|>", keep_system=False)
    plan = plan_masking(tokenizer, "chat", RunConfig())
    assert plan.system == "folded" and "drops system messages" in plan.system_note
    (first, _) = prepare_rows(plan, tokenizer, [{"messages": CONVERSATIONS[0]}])
    assert SYSTEM in tokenizer.decode(first["input_ids"])
