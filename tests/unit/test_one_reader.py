"""One row reader: lint, training and evaluation read every format the same way.

Each file below holds the same three conversations in one format; lint (its format vote
and its per-row checker), training (``train.dataset``) and evaluation (``evaluate.items``)
must all see exactly these turns, in JSONL and in a JSON-array file alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui import config
from ftui.data import formats
from ftui.data.checks.structure import CHECKERS, PROFILES
from ftui.data.lint import lint_file
from ftui.evaluate.items import load_items
from ftui.train.dataset import load_examples, sample_examples

CONVERSATIONS = [
    [("system", "Be brief."), ("user", "What is 2+2?"), ("assistant", "4.")],
    [("user", "Name a colour."), ("assistant", "Blue.")],
    [("system", "Be brief."), ("user", "Capital of France?\n\nAnswer in one word."), ("assistant", "Paris.")],
]


def _row(fmt: str, turns: list[tuple[str, str]]) -> dict:
    system = [t for r, t in turns if r == "system"]
    user = next(t for r, t in turns if r == "user")
    answer = turns[-1][1]
    if fmt == "chat":
        return {"messages": [{"role": r, "content": t} for r, t in turns]}
    if fmt == "sharegpt":
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        return {"conversations": [{"from": names[r], "value": t} for r, t in turns]}
    if fmt == "alpaca":
        instruction, _, extra = user.partition("\n\n")
        return {**({"system": system[0]} if system else {}), "instruction": instruction, "input": extra, "output": answer}
    if fmt == "prompt_completion":  # conversational prompt-completion carries the system turn
        return {"prompt": [{"role": r, "content": t} for r, t in turns[:-1]],
                "completion": [{"role": "assistant", "content": answer}]}
    raise AssertionError(fmt)


def _write(tmp_path: Path, fmt: str, container: str) -> Path:
    rows = [_row(fmt, turns) for turns in CONVERSATIONS]
    if container == "jsonl":
        path = tmp_path / f"{fmt}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        path = tmp_path / f"{fmt}.json"
        path.write_text(json.dumps(rows, indent=1))
    return path


@pytest.mark.parametrize("container", ["jsonl", "json-array"])
@pytest.mark.parametrize("fmt", formats.CONVERSATIONAL)
def test_lint_train_and_evaluate_read_every_format_alike(tmp_path: Path, fmt: str, container: str) -> None:
    path = _write(tmp_path, fmt, container)
    expected = [[{"role": r, "content": t} for r, t in turns] for turns in CONVERSATIONS]

    # the one reader
    read = [c for _r, _o, c, _e in formats.iter_conversations(path)]
    assert [[{"role": m.role, "content": m.content} for m in c.messages] for c in read] == expected

    # lint: the same format, no row error, and its checker sees the same turns
    report = lint_file(path, near_dups=False)
    assert report.format == fmt and report.rows == 3 and report.errors == 0, [f.message for f in report.findings]
    assert report.extra["container"] == container
    for conv, want in zip(read, expected, strict=True):
        view = CHECKERS[fmt](conv.raw, PROFILES["trl"], lambda cid, msg: pytest.fail(f"{cid} {msg}"))
        assert [{"role": r, "content": t} for r, t in zip(view.roles, view.texts, strict=True)] == want

    # training: chat examples with exactly these turns
    loaded = load_examples(str(path))
    assert loaded.source_format == fmt and loaded.kind == "chat" and loaded.skipped == 0
    assert [r["messages"] for r in loaded.rows] == expected
    assert sample_examples(str(path), fmt, limit=2).rows == loaded.rows[:2]

    # evaluation: the prompt is everything before the answer, the answer is the reference
    items = load_items(path)
    assert [list(it.messages) + [{"role": "assistant", "content": it.reference}] for it in items] == expected
    assert [it.id for it in items] == ["row-1", "row-2", "row-3"]


def test_one_set_of_format_names(tmp_path: Path) -> None:
    # the config's data_format choices are the reader's names; the old spelling still reads
    assert set(config.DATA_FORMATS) - {"auto"} == {*formats.CONVERSATIONAL, formats.TEXT}
    assert config.DATA_FORMAT_ALIASES == formats.FORMAT_ALIASES
    assert config.config_from_dict({"data_format": "prompt-completion"}).data_format == "prompt_completion"
    assert not [p for p in config.check_fields(config.RunConfig(data_format="prompt-completion")) if p.field == "data_format"]
    path = _write(tmp_path, "prompt_completion", "jsonl")
    assert load_examples(str(path), "prompt-completion").rows == load_examples(str(path), "prompt_completion").rows


def test_evaluation_reads_prompts_without_answers_and_mixed_shapes(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rows = [{"prompt": "p1"}, {"prompt": "p2", "reference": "r2"}, {"instruction": "do", "input": "it"},
            {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = load_items(path)
    assert [(it.prompt_text, it.reference) for it in items] == [("p1", None), ("p2", "r2"), ("do\n\nit", None), ("hi", "yo")]
