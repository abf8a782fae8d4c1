"""Preference evaluation skips the rows the chat template refuses, with a count and the reason, as it skips
other unusable rows; one such eval row used to stop the whole run in TRL's eval tokenization."""

from __future__ import annotations

import json
from pathlib import Path

from ftui.train.events import Eval, Finished, Message, read_events
from ftui.train.worker import start_run
from tests.unit.test_train_preference import pref_config, write_pairs

SYSTEM = {"role": "system", "content": "You sort support tickets."}


def pairs_without_system(path: Path, n: int, start: int = 0, system_rows: tuple[int, ...] = ()) -> Path:
    """Support-ticket pairs with user-only prompts (Gemma 2 refuses a system turn), but ``system_rows`` keep one."""
    rows = [json.loads(line) for line in write_pairs(path, n=n, start=start).read_text().splitlines()]
    for number, row in enumerate(rows, start=1):
        user = [m for m in row["prompt"] if m["role"] != "system"]
        row["prompt"] = [SYSTEM, *user] if number in system_rows else user
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_refused_eval_row_is_skipped_and_counted_and_the_run_evaluates_the_rest(family_model, tmp_path: Path) -> None:
    model = family_model("gemma2")
    config = pref_config(tmp_path, model=str(model), max_steps=2, eval_steps=2, micro_batch_size=2,
                         train_path=str(pairs_without_system(tmp_path / "train.jsonl", 8)),
                         eval_path=str(pairs_without_system(tmp_path / "eval.jsonl", 4, start=100, system_rows=(2,))))
    worker = start_run(config, run_dir=tmp_path / "run")
    assert worker.join(timeout=600)
    events = read_events(worker.events_path)
    assert isinstance(events[-1], Finished), events[-1]
    notes = [e.text for e in events if isinstance(e, Message) and "eval rows" in e.text]
    assert notes == [f"skipped 1 of 4 eval rows the chat template of {model} refuses (1 System role not supported); "
                     "evaluation runs on the other 3"], notes
    assert any(isinstance(e, Eval) for e in events)


def test_skip_lists_the_refused_eval_row_and_every_row_refused_turns_evaluation_off(family_model, tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer

    from ftui.train.preference_data import PreferenceData, skip_refused_eval

    tokenizer = AutoTokenizer.from_pretrained(family_model("gemma2"))
    rows = [json.loads(line) for line in pairs_without_system(tmp_path / "e.jsonl", 3, system_rows=(2,)).read_text().splitlines()]
    loaded = PreferenceData(rows=[], kind="paired", skipped=0, reasons={}, eval_lines=[4, 7, 9])
    kept, note = skip_refused_eval(tokenizer, Dataset.from_list(rows), loaded, "m", record=True)
    assert len(kept) == 2 and "skipped 1 of 3 eval rows" in note
    assert [(b.row, b.dataset) for b in loaded.bad_rows] == [(7, "eval")]
    assert "System role not supported" in loaded.bad_rows[0].reason
    every = [dict(r, prompt=[SYSTEM, *r["prompt"]]) for r in rows if r["prompt"][0]["role"] != "system"]
    kept, note = skip_refused_eval(tokenizer, Dataset.from_list(every), loaded, "m", record=False)
    assert kept is None and note.endswith("no eval row is left, so this run trains without evaluation")
