"""on_bad_rows: refuse | skip -- one row that cannot train either stops the run with both fixes named,
or is left out and recorded (row number, reason, count) in run.json and the run's ``data`` event."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ftui import paths
from ftui.config import RunConfig, apply_overrides, check_fields, dump_config, load_config_text
from ftui.train.events import DataAccounting, read_events
from ftui.train.preflight import validate

LONG_ROW = 5  # the over-long row's number in the file ('ftui lint' numbering)


def file_with_one_long_row(path: Path, n: int = 30) -> Path:
    """``n`` support-ticket rows and, at row 5, one whose prompt alone fills all of max_seq_len."""
    rows = paths.sample_data("support_tickets_train.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    long = {"messages": [{"role": "user", "content": "word " * 3000}, {"role": "assistant", "content": "billing"}]}
    rows.insert(LONG_ROW - 1, json.dumps(long))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_on_bad_rows_round_trips_through_yaml_and_set_and_is_checked():
    config = RunConfig(on_bad_rows="skip")
    assert load_config_text(dump_config(config)).on_bad_rows == "skip"
    assert RunConfig().on_bad_rows == "refuse"  # today's behaviour stays the default
    assert apply_overrides(RunConfig(), ["on_bad_rows=skip"]).on_bad_rows == "skip"
    found = {p.field: p for p in check_fields(RunConfig(on_bad_rows="ignore"))}
    assert "not a policy" in found["on_bad_rows"].message and "skip" in found["on_bad_rows"].fix


def test_refuse_names_the_row_and_both_fixes_and_skip_lets_it_through(tmp_path):
    data = file_with_one_long_row(tmp_path / "long.jsonl")
    refused = validate(RunConfig(train_path=str(data), eval_path=None), check_model=False)
    assert [p.field for p in refused] == ["train_path"]
    problem = refused[0]
    assert f"row {LONG_ROW}: the prompt fills all 1,024 tokens" in problem.message
    assert "set on_bad_rows: skip to train on the other 30 rows" in problem.fix and "ftui lint" in problem.fix
    assert (problem.kind, problem.skippable, problem.rows_left) == ("data", 1, 30)
    assert validate(RunConfig(train_path=str(data), eval_path=None, on_bad_rows="skip"), check_model=False) == []


def test_skip_cannot_fix_a_file_with_no_good_row(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\nnot json at all\n')
    for policy in ("refuse", "skip"):
        found = validate(RunConfig(train_path=str(bad), eval_path=None, on_bad_rows=policy), check_model=False)
        assert found and all(p.skippable == 0 for p in found)
        assert "no row of it can train" in found[0].fix


def test_skip_loads_the_other_rows_and_lists_the_skipped_one(tmp_path):
    from ftui.train.dataset import build_datasets

    data = file_with_one_long_row(tmp_path / "long.jsonl")
    train, evaluation, loaded = build_datasets(RunConfig(train_path=str(data), eval_path=None, on_bad_rows="skip"))
    assert len(train) + len(evaluation) == 30 and loaded.skipped == 1
    assert [(r.row, r.dataset) for r in loaded.bad_rows] == [(LONG_ROW, "train")]
    assert loaded.bad_rows[0].reason.startswith("E015 the prompt fills all")
    assert LONG_ROW not in loaded.lines + loaded.eval_lines and len(loaded.lines) == len(train)
    assert all("word word" not in json.dumps(row) for row in train.to_list())


def test_skip_leaves_out_rows_the_chat_template_refuses_and_names_them_by_file_row(family_model):
    from transformers import AutoTokenizer

    from ftui.train.dataset import LoadedData
    from ftui.train.masking import MaskingError, plan_masking, prepare_datasets

    path = family_model("mistral")  # its template raises on roles that do not alternate
    tokenizer = AutoTokenizer.from_pretrained(path)
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    twice = {"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"},
                          {"role": "assistant", "content": "a"}]}
    from datasets import Dataset

    rows = [good, twice, good]
    config = RunConfig(model=str(path), on_bad_rows="refuse")
    assert plan_masking(tokenizer, "chat", config, rows).path == "prompt_completion"  # one training row per reply
    with pytest.raises(MaskingError, match="on_bad_rows: skip"):
        prepare_datasets(config, tokenizer, "chat", Dataset.from_list(rows), None)
    loaded = LoadedData(rows=rows, kind="chat", skipped=0, source_format="chat", lines=[3, 8, 9])
    _, train, _ = prepare_datasets(RunConfig(model=str(path), on_bad_rows="skip"), tokenizer, "chat",
                                   Dataset.from_list(rows), None, loaded)
    assert len(train) == 2
    assert [(r.row, r.dataset) for r in loaded.bad_rows] == [(8, "train")] and loaded.skipped == 1
    assert "refuses" in loaded.bad_rows[0].reason


def test_skip_leaves_out_bad_preference_rows_and_records_them(tmp_path):
    from ftui.train.preference_data import build_preference_datasets
    from tests.unit.test_train_preference import write_pairs

    pairs = write_pairs(tmp_path / "pairs.jsonl", n=20)
    rows = pairs.read_text().splitlines()
    broken = json.loads(rows[6])
    broken["chosen"] = [{"role": "assistant", "content": ""}]
    rows[6] = json.dumps(broken)
    pairs.write_text("\n".join(rows) + "\n")
    config = RunConfig(train_path=str(pairs), eval_path=None, eval_fraction=0, method="dpo")
    refused = validate(config, check_model=False, check_env=False)
    assert refused and "row 7" in refused[0].message and "on_bad_rows: skip" in refused[0].fix
    config = apply_overrides(config, ["on_bad_rows=skip"])
    assert validate(config, check_model=False, check_env=False) == []
    train, _, loaded = build_preference_datasets(config)
    assert len(train) == 19 and [r.row for r in loaded.bad_rows] == [7]
    assert 7 not in loaded.lines and len(loaded.lines) == 19


@pytest.mark.slow
def test_a_skip_run_trains_on_the_rest_and_records_the_row_in_run_json_and_the_event_log(demo_model, tmp_path, monkeypatch):
    from ftui.commands.train_console import run_headless

    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    data = file_with_one_long_row(tmp_path / "long.jsonl")
    config = RunConfig(model="demo", train_path=str(data), eval_path=None, eval_fraction=0, on_bad_rows="skip",
                       max_steps=2, micro_batch_size=4, gradient_checkpointing=False, output_dir=str(tmp_path / "run"))
    out = io.StringIO()
    assert run_headless(config, stream=out) == 0, out.getvalue()
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["bad_rows"]["count"] == 1 and record["bad_rows"]["rows"][0]["row"] == LONG_ROW
    assert record["data_accounting"]["train"]["rows_in"] == 30
    accounts = [e for e in read_events(tmp_path / "run" / "events.jsonl") if isinstance(e, DataAccounting)]
    assert accounts[0].skipped == 1 and accounts[0].skipped_rows[0]["row"] == LONG_ROW
    assert f"1 skipped (on_bad_rows: skip; row {LONG_ROW}:" in out.getvalue()
    assert "on_bad_rows: skip left out 1 row that cannot train" in out.getvalue()


@pytest.mark.slow
def test_cli_train_refuses_the_file_then_trains_with_skip(demo_model, tmp_path, monkeypatch, capsys):
    from ftui.cli import main

    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    data = file_with_one_long_row(tmp_path / "long.jsonl")
    config = tmp_path / "run.yaml"
    config.write_text(f"model: demo\ntrain_path: {data}\neval_path: null\neval_fraction: 0\nmax_steps: 1\n"
                      f"micro_batch_size: 4\ngradient_checkpointing: false\noutput_dir: {tmp_path / 'run'}\n")
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"row {LONG_ROW}: the prompt fills all" in err and "set on_bad_rows: skip to train on the other 30 rows" in err
    assert main(["train", str(config), "--set", "on_bad_rows=skip", "--check"]) == 0
    assert main(["train", str(config), "--set", "on_bad_rows=skip"]) == 0
    out = capsys.readouterr().out
    assert "on_bad_rows: skip left out 1 row" in out
    assert json.loads((tmp_path / "run" / "run.json").read_text())["bad_rows"]["rows"][0]["row"] == LONG_ROW


def test_a_scan_is_remembered_until_the_files_bytes_change(tmp_path):
    """Every check of a run scans the same file: the second scan is the first's, but a change of even one
    byte (same size, same mtime) is linted again, and what a caller does to its result is its own."""
    import os

    from ftui.train.bad_rows import scan_file

    data = file_with_one_long_row(tmp_path / "long.jsonl")
    first = scan_file(data, 512)
    assert list(first.rows) == [LONG_ROW]
    first.rows.clear()
    assert list(scan_file(data, 512).rows) == [LONG_ROW]
    assert scan_file(data, 100_000).rows == {}  # the limit is part of what a scan depends on
    stat = data.stat()
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = " " + lines[1][1:]  # row 2 is no longer JSON: one byte, same size
    data.write_text("".join(lines), encoding="utf-8")
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data.stat().st_size == stat.st_size
    assert sorted(scan_file(data, 512).rows) == [2, LONG_ROW]
