"""The test split beside a training file, by name: what Generate & compare offers for a run's dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.workspace import test_split_beside as split_beside


@pytest.mark.parametrize(("train", "test"), [
    ("tickets_train.jsonl", "tickets_test.jsonl"),
    ("train.jsonl", "test.jsonl"),
    ("train-2024.jsonl", "test-2024.jsonl"),
    ("retrain_data_train.jsonl", "retrain_data_test.jsonl"),  # the last whole word "train", not "retrain"
])
def test_the_split_beside_is_found_by_name(tmp_path: Path, train: str, test: str) -> None:
    (tmp_path / train).write_text("{}\n")
    (tmp_path / test).write_text("{}\n")
    assert split_beside(tmp_path / train) == tmp_path / test


@pytest.mark.parametrize("train", ["tickets_train.jsonl", "trainers.jsonl", "tickets.jsonl"])
def test_nothing_is_offered_without_a_file_of_that_name(tmp_path: Path, train: str) -> None:
    (tmp_path / train).write_text("{}\n")
    (tmp_path / "tickets_test.jsonl.bak").write_text("{}\n")
    (tmp_path / "testers.jsonl").write_text("{}\n")
    assert split_beside(tmp_path / train) is None
