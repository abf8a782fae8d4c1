"""A prompt's length counts what the chat template renders, tool definitions included: a tool-calling row whose
messages fit max_seq_len but whose prompt (with the tools) does not is refused by row, or skipped and recorded,
never handed to TRL to be dropped silently (a file of them ended as the sampler's "num_samples=0")."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ftui import paths
from ftui.config import RunConfig
from ftui.train.bad_rows import scan_file

# with the tiny Qwen2.5 tokenizer the sample's ten tool definitions render to ~1,700 tokens, its messages to ~60
MAX_LEN = 1024


def tool_rows(path: Path, keep_tools_until: int | None = None) -> Path:
    """The tools_qwen sample; with ``keep_tools_until``, the rows after that one declare only the tools they call."""
    rows = [json.loads(line) for line in paths.sample_data("tools_qwen.jsonl").read_text(encoding="utf-8").splitlines()]
    for number, row in enumerate(rows, start=1):
        if keep_tools_until is not None and number > keep_tools_until:
            called = {c["function"]["name"] for m in row["messages"] for c in m.get("tool_calls") or ()}
            row["tools"] = [t for t in row["tools"] if t["function"]["name"] in called]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def config_for(model: Path, data: Path, **kw) -> RunConfig:
    return RunConfig(model=str(model), train_path=str(data), eval_path=None, eval_fraction=0, max_seq_len=MAX_LEN, **kw)


def test_the_linter_alone_sees_nothing_wrong_with_these_rows(tmp_path: Path) -> None:
    """The premise: counted by their messages, the rows fit; only the rendered tools overflow."""
    assert scan_file(tool_rows(tmp_path / "t.jsonl")).rows == {}


def test_refuse_names_the_row_and_the_tool_definitions_share(family_model, tmp_path: Path) -> None:
    from ftui.train.masking import masking_problem

    model = family_model("qwen2.5")
    problem = masking_problem(config_for(model, tool_rows(tmp_path / "t.jsonl")), str(model))
    assert problem is not None and problem.field == "train_path"
    assert problem.message.startswith("t.jsonl row 1: the prompt is ")
    assert "of them the tool definitions the chat template renders" in problem.message
    assert f"fills all {MAX_LEN:,} of max_seq_len" in problem.message
    assert "raise max_seq_len" in problem.fix and "on_bad_rows: skip" in problem.fix


def test_skip_leaves_out_the_overlong_rows_by_file_row_and_trains_the_rest(family_model, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from ftui.train.dataset import build_datasets
    from ftui.train.masking import prepare_datasets

    model = family_model("qwen2.5")
    data = tool_rows(tmp_path / "t.jsonl", keep_tools_until=3)  # rows 1-3 carry the ten tools, 4-10 only theirs
    config = config_for(model, data, on_bad_rows="skip")
    train, _, loaded = build_datasets(config)
    _plan, prepared, _ = prepare_datasets(config, AutoTokenizer.from_pretrained(model), loaded.kind, train, None, loaded)
    assert [(b.row, b.dataset) for b in loaded.bad_rows] == [(1, "train"), (2, "train"), (3, "train")]
    assert all("tool definitions" in b.reason for b in loaded.bad_rows)
    assert len(prepared) > 0 and all(r["completion_mask"].index(1) < MAX_LEN for r in prepared)


def test_skip_refuses_when_every_row_would_be_skipped(family_model, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from ftui.train.dataset import build_datasets
    from ftui.train.errors import MaskingError
    from ftui.train.masking import masking_problem, prepare_datasets

    model = family_model("qwen2.5")
    config = config_for(model, tool_rows(tmp_path / "t.jsonl"), on_bad_rows="skip")
    problem = masking_problem(config, str(model))  # the form / preflight: no "skip N rows" that leaves nothing
    assert problem is not None and "every row of t.jsonl would be skipped, nothing is left to train" in problem.message
    train, _, loaded = build_datasets(config)
    with pytest.raises(MaskingError, match="every row of t.jsonl would be skipped"):
        prepare_datasets(config, AutoTokenizer.from_pretrained(model), loaded.kind, train, None, loaded)


def test_skip_refuses_a_file_whose_every_row_the_linter_rejects(tmp_path: Path) -> None:
    from ftui.train.dataset import DataError, load_examples

    data = tmp_path / "bad.jsonl"
    data.write_text("".join(json.dumps({"messages": [{"role": "user", "content": "word " * 3000},
                                                     {"role": "assistant", "content": "ok"}]}) + "\n" for _ in range(3)))
    with pytest.raises(DataError, match=r"every row of bad.jsonl would be skipped .*row 1: E015"):
        load_examples(str(data), skip_bad=True)


def test_a_train_set_truncation_emptied_is_refused_by_name_not_num_samples_0() -> None:
    from ftui.train.errors import TrainError
    from ftui.train.hf_backend import _refuse_empty

    trainer = SimpleNamespace(train_dataset=[], ftui_accounting={"train": {"rows_in": 12}})
    with pytest.raises(TrainError) as caught:
        _refuse_empty(trainer, RunConfig(train_path="data/t.jsonl", max_seq_len=512))
    assert "dropped all 12 rows of t.jsonl" in str(caught.value) and "max_seq_len 512" in str(caught.value)
    _refuse_empty(SimpleNamespace(train_dataset=[1], ftui_accounting={}), RunConfig())  # rows left: nothing said


def test_the_data_checks_judge_rows_at_the_runs_max_seq_len(tmp_path: Path) -> None:
    """The linter behind the refusal and the skip lists used its profile's 1,024 whatever max_seq_len said."""
    from ftui.train.dataset import build_datasets
    from ftui.train.preflight import validate
    from tests.unit.test_train_bad_rows import LONG_ROW, file_with_one_long_row

    data = file_with_one_long_row(tmp_path / "long.jsonl")  # its long row: ~3,750 tokens (estimated)
    assert validate(RunConfig(train_path=str(data), eval_path=None, max_seq_len=8192), check_model=False) == []
    (short,) = validate(RunConfig(train_path=str(data), eval_path=None, max_seq_len=512), check_model=False)
    assert f"row {LONG_ROW}: the prompt fills all 512 tokens" in short.message
    _, _, loaded = build_datasets(RunConfig(train_path=str(data), eval_path=None, max_seq_len=8192, on_bad_rows="skip"))
    assert loaded.bad_rows == [] and loaded.skipped == 0


def test_the_train_forms_data_checks_rerun_when_max_seq_len_changes() -> None:
    from ftui.tui.screens.train_form import _data_key

    assert _data_key(RunConfig(max_seq_len=512)) != _data_key(RunConfig(max_seq_len=8192))
