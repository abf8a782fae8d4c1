"""Data accounting: rows TRL drops or truncates at max_seq_len are counted, emitted, recorded and printed.

The expected counts are computed independently: the tokenizer's own chat template with its
assistant mask, row by row, against the max_seq_len rule TRL documents.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ftui.config import RunConfig
from ftui.train.events import DataAccounting, read_events

MAX_LEN = 48


def labels_dataset(rows: list[list[int]]):
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [[1] * len(r) for r in rows], "labels": rows})


def test_count_rows_keep_start_keep_end_and_packing_strategies():
    from ftui.train.accounting import count_rows

    m = -100
    rows = [
        [m, m, 5, 6],          # 4 tokens: fits
        [m, m, m, 7, 8, 9],    # 6: truncated to 4 at keep_start (1 trained kept, 2 lost)
        [m, m, m, m, 7, 8],    # 6: keep_start leaves no trained token -> dropped (2 lost)
        [m, m, m],             # never trained: dropped, nothing lost
    ]
    ds = labels_dataset(rows)
    start = count_rows(ds, 4, "keep_start")
    assert start == dict(rows_in=4, rows_trained=2, dropped=2, truncated=1, split=0, tokens_in=19,
                         trained_tokens_in=7, trained_tokens_lost=4, longest=6)
    end = count_rows(ds, 4, "keep_end")  # the last 4 tokens: rows 2 and 3 keep all their trained tokens
    assert (end["rows_trained"], end["dropped"], end["truncated"], end["trained_tokens_lost"]) == (3, 1, 2, 0)
    bfd = count_rows(ds, 4, "keep_end", packing_strategy="bfd")  # bfd truncates at the start whatever the mode
    assert (bfd["dropped"], bfd["truncated"], bfd["trained_tokens_lost"]) == (2, 1, 4)
    split = count_rows(ds, 4, packing_strategy="bfd_split")  # nothing lost, long rows split
    assert (split["dropped"], split["truncated"], split["split"], split["trained_tokens_lost"]) == (1, 0, 2, 0)


def long_rows_file(path: Path) -> list[dict]:
    """Chat rows: short ones, ones whose answer runs past MAX_LEN, and ones whose prompt alone fills it."""
    rows = []
    for i in range(6):
        rows.append({"messages": [{"role": "user", "content": f"short question {i}"},
                                  {"role": "assistant", "content": f"short answer {i}"}]})
    for i in range(4):
        rows.append({"messages": [{"role": "user", "content": f"question {i}"},
                                  {"role": "assistant", "content": "a long answer " * (8 + 3 * i)}]})
    for i in range(3):
        rows.append({"messages": [{"role": "user", "content": "a very long question " * (12 + i)},
                                  {"role": "assistant", "content": "yes"}]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def independent_counts(tokenizer, rows: list[dict], max_len: int) -> dict[str, int]:
    """Counts straight from the tokenizer's template and assistant mask (keep_start truncation)."""
    dropped = truncated = lost = trained_total = 0
    for row in rows:
        out = tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True)
        mask = list(out["assistant_masks"])
        trained_total += sum(mask)
        kept = sum(mask[:max_len])
        if kept == 0:
            dropped += 1
            lost += sum(mask)
        else:
            truncated += len(mask) > max_len
            lost += sum(mask[max_len:])
    return dict(rows_in=len(rows), dropped=dropped, truncated=truncated, trained_tokens_in=trained_total,
                trained_tokens_lost=lost, rows_trained=len(rows) - dropped)


def test_trainer_counts_match_an_independent_count_and_what_trl_kept(demo_model, tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ftui.train.accounting import sft_trainer_class
    from ftui.train.hf_backend import build_sft_config

    rows = long_rows_file(tmp_path / "train.jsonl")
    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    expected = independent_counts(tokenizer, rows, MAX_LEN)
    assert expected["dropped"] >= 2 and expected["truncated"] >= 2  # the data really exercises both cases
    config = RunConfig(model=str(demo_model), max_seq_len=MAX_LEN, max_steps=1, eval_path=None)
    args = build_sft_config(config, tmp_path / "run", "chat", has_eval=False, resume=False)
    model = AutoModelForCausalLM.from_pretrained(demo_model)
    trainer = sft_trainer_class()(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                  processing_class=tokenizer)
    counts = trainer.ftui_accounting["train"]
    assert {k: counts[k] for k in expected} == expected
    assert counts["rows_trained"] == len(trainer.train_dataset)
    assert max(len(ids) for ids in trainer.train_dataset["input_ids"]) == MAX_LEN
    assert counts["max_seq_len"] == MAX_LEN and counts["packing"] is None
    event = DataAccounting(dataset="train", **counts)
    assert f"{expected['dropped']} dropped" in event.describe()
    assert f"{expected['truncated']} truncated at {MAX_LEN} tokens" in event.describe()


@pytest.mark.slow
def test_headless_run_prints_emits_and_records_the_accounting(demo_model, tmp_path, monkeypatch):
    from ftui.commands.train_console import run_headless

    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    rows = long_rows_file(tmp_path / "train.jsonl")
    config = RunConfig(model="demo", train_path=str(tmp_path / "train.jsonl"), eval_path=None, eval_fraction=0,
                       max_seq_len=MAX_LEN, max_steps=2, micro_batch_size=4, gradient_checkpointing=False,
                       output_dir=str(tmp_path / "run"), on_bad_rows="skip")
    out = io.StringIO()
    assert run_headless(config, stream=out) == 0, out.getvalue()
    from transformers import AutoTokenizer

    # rows whose prompt fills max_seq_len cannot train: refused by default, left out (and listed) under skip
    # before the trainer sees them; the accounting counts the rows that reach it, with what truncation cut
    expected = independent_counts(AutoTokenizer.from_pretrained(demo_model), rows, MAX_LEN)
    assert expected["dropped"] > 0
    events = [e for e in read_events(tmp_path / "run" / "events.jsonl") if isinstance(e, DataAccounting)]
    assert len(events) == 1 and events[0].dropped == 0 and events[0].truncated == expected["truncated"]
    assert events[0].rows_in == len(rows) - expected["dropped"]
    assert events[0].describe() in out.getvalue()
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["data_accounting"]["train"]["rows_in"] == len(rows) - expected["dropped"]
    assert run["bad_rows"]["count"] == expected["dropped"]


@pytest.mark.parametrize(("dropped", "lost", "fires"), [(0, 0, False), (0, 900, False), (0, 1000, True), (3, 10, True)])
def test_the_diagnostics_warn_when_max_seq_len_drops_rows_or_cuts_much(dropped, lost, fires):
    from ftui.train.diagnostics import diagnose
    from ftui.train.history import RunHistory

    account = DataAccounting(dataset="train", rows_in=400, rows_trained=400 - dropped, dropped=dropped, truncated=12,
                             trained_tokens_in=20_000, trained_tokens_lost=lost, longest=311, max_seq_len=64)
    found = [d for d in diagnose(RunHistory.from_events([account])) if d.id == "data-cut"]
    assert bool(found) == fires
    if fires:
        assert "max_seq_len 64 cuts the data" in found[0].title and "longest row has 311 tokens" in found[0].fix
