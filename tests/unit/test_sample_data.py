"""The sample datasets: sizes, labels, schemas, and no train/test leakage (exact or near)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ftui import paths

LABELS = {"billing", "technical", "account", "feature_request", "other"}
EXTRACTION_FIELDS = ["name", "company", "date", "amount", "currency", "priority"]
GENERATED_FILES = ("support_tickets_train.jsonl", "support_tickets_test.jsonl", "extraction_train.jsonl",
                   "extraction_test.jsonl", "alpaca_small.jsonl", "sharegpt_small.jsonl")


def rows(name: str) -> list[dict]:
    with paths.sample_data(name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def trigrams(text: str) -> set[str]:
    words = normalize(text).split()
    return {" ".join(words[i:i + 3]) for i in range(max(len(words) - 2, 1))}


def user_text(row: dict) -> str:
    return next(m["content"] for m in row["messages"] if m["role"] == "user")


def check_chat_rows(data: list[dict]) -> None:
    system_prompts = set()
    for row in data:
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in row["messages"])
        system_prompts.add(row["messages"][0]["content"])
    assert len(system_prompts) == 1, "one fixed system prompt per task"


def test_ticket_counts_labels_and_stratified_split() -> None:
    train, test = rows("support_tickets_train.jsonl"), rows("support_tickets_test.jsonl")
    check_chat_rows(train + test)
    assert len(train) + len(test) >= 400
    assert 0.15 <= len(test) / (len(train) + len(test)) <= 0.25
    train_labels = Counter(r["messages"][-1]["content"] for r in train)
    test_labels = Counter(r["messages"][-1]["content"] for r in test)
    assert set(train_labels) == LABELS and set(test_labels) == LABELS
    for label in LABELS:  # stratified: each label's share is about the same in both files
        assert abs(train_labels[label] / len(train) - test_labels[label] / len(test)) < 0.03


def test_ticket_texts_are_varied_not_keyword_clones() -> None:
    texts = [user_text(r) for r in rows("support_tickets_train.jsonl")]
    assert len({normalize(t) for t in texts}) == len(texts)
    assert len({t.split()[0].lower() for t in texts}) > 20  # many different openings
    assert sum(t == t.lower() for t in texts) > 20  # some written all in lower case
    assert sum("\n" in t for t in texts) > 50  # signatures / multi-line tickets
    lengths = sorted(len(t) for t in texts)
    assert lengths[-1] > 3 * lengths[0]


def test_no_train_test_overlap_even_near_duplicates() -> None:
    for stem in ("support_tickets", "extraction"):
        train = [user_text(r) for r in rows(f"{stem}_train.jsonl")]
        test = [user_text(r) for r in rows(f"{stem}_test.jsonl")]
        assert not {normalize(t) for t in train} & {normalize(t) for t in test}, stem
    train_shingles = [trigrams(t) for t in (user_text(r) for r in rows("support_tickets_train.jsonl"))]
    for text in (user_text(r) for r in rows("support_tickets_test.jsonl")):
        mine = trigrams(text)
        worst = max(len(mine & other) / len(mine | other) for other in train_shingles)
        assert worst < 0.6, f"near-duplicate of a train row: {text!r}"


def test_extraction_rows_answer_with_the_fixed_json_object() -> None:
    train, test = rows("extraction_train.jsonl"), rows("extraction_test.jsonl")
    check_chat_rows(train + test)
    assert len(train) + len(test) >= 150
    nulls = Counter()
    for row in train + test:
        answer = row["messages"][-1]["content"]
        obj = json.loads(answer)
        assert list(obj) == EXTRACTION_FIELDS
        assert answer == json.dumps(obj, ensure_ascii=False, separators=(",", ":")), "compact JSON"
        assert obj["date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", obj["date"])
        assert obj["amount"] is None or isinstance(obj["amount"], int | float)
        assert (obj["amount"] is None) == (obj["currency"] is None)
        assert obj["priority"] in (None, "low", "normal", "high")
        nulls.update(k for k, v in obj.items() if v is None)
        for key in ("name", "company"):
            if obj[key] is not None:
                assert obj[key].lower() in user_text(row).lower()
    assert all(nulls[k] > 0 for k in EXTRACTION_FIELDS), "every field is sometimes missing"


def test_alpaca_and_sharegpt_files() -> None:
    alpaca = rows("alpaca_small.jsonl")
    assert 25 <= len(alpaca) <= 40
    for row in alpaca:
        assert set(row) == {"instruction", "input", "output"}
        assert row["instruction"].strip() and row["output"].strip() and isinstance(row["input"], str)
    assert any(row["input"] == "" for row in alpaca)

    sharegpt = rows("sharegpt_small.jsonl")
    assert 15 <= len(sharegpt) <= 30
    for row in sharegpt:
        speakers = [turn["from"] for turn in row["conversations"]]
        assert speakers[0] == "human" and len(speakers) % 2 == 0
        assert speakers == ["human", "gpt"] * (len(speakers) // 2)
    assert sum(len(row["conversations"]) > 2 for row in sharegpt) >= 3


@pytest.mark.slow
def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    script = paths.SAMPLE_DATA_DIR / "generate.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in GENERATED_FILES:
        assert (tmp_path / name).read_bytes() == paths.sample_data(name).read_bytes(), name
