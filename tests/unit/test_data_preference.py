"""Preference data linted as preference data: TRL's paired and unpaired forms, the planted defects of the dirty file, the figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ftui import paths
from ftui.data import formats
from ftui.data.lint import lint_file

# (check id, row) planted in sample_data/preference_dirty.jsonl (sample_data/make_dialects.py, README.md)
DIRTY_PLANTED = {("W004", 3), ("E006", 5), ("W002", 17), ("W004", 18), ("E016", 19)}


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["preference_paired.jsonl", "preference_unpaired.jsonl"])
def test_clean_preference_samples_have_no_findings_but_figures(name: str) -> None:
    report = lint_file(paths.sample_data(name))
    assert report.format == formats.PREFERENCE
    assert [f for f in report.findings if f.severity != "info"] == []
    i006 = [f.message for f in report.findings if f.id == "I006"]
    assert len(i006) == 1 and ("pairs" in i006[0] if "paired" in name and "un" not in name else "label true 8" in i006[0])


def test_every_planted_defect_of_the_dirty_file_is_found_and_nothing_else() -> None:
    report = lint_file(paths.sample_data("preference_dirty.jsonl"))
    got = {(f.id, f.row) for f in report.findings if f.severity != "info"}
    assert got == DIRTY_PLANTED


def test_the_forms_trl_takes(tmp_path: Path) -> None:
    conv = [{"role": "user", "content": "Capital of Peru?"}]
    rows = [
        {"prompt": "Capital of Peru?", "chosen": "Lima.", "rejected": "Cusco."},  # standard, explicit prompt
        {"prompt": conv, "chosen": [{"role": "assistant", "content": "Lima."}], "rejected": [{"role": "assistant", "content": "Quito."}]},
        {"chosen": conv + [{"role": "assistant", "content": "Lima."}], "rejected": conv + [{"role": "assistant", "content": "Bogota."}]},
        # a string prompt beside conversations: TRL's maybe_extract_prompt ignores it and extracts the shared turns
        {"prompt": "Capital of Peru?", "chosen": conv + [{"role": "assistant", "content": "Lima, on the coast."}],
         "rejected": conv + [{"role": "assistant", "content": "La Paz."}]},
    ]
    report = lint_file(write(tmp_path / "p.jsonl", rows))
    assert report.format == formats.PREFERENCE and report.errors == 0
    assert not [f for f in report.findings if f.severity == "warning"]


def test_unpaired_rows_messages_and_label_are_preference_not_chat(tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": f"Sum of {i} and {i}?"}, {"role": "assistant", "content": str(2 * i + i % 2)}],
             "label": i % 2 == 0} for i in range(10)]
    path = write(tmp_path / "kto.jsonl", rows)
    report = lint_file(path)
    assert report.format == formats.PREFERENCE and "unpaired" in report.format_label
    assert not [f for f in report.findings if f.severity != "info"]
    conv = next(c for _, _, c, _ in formats.iter_conversations(path))
    assert conv is not None and conv.extras["label"] is True and conv.completion_text == "0"
    rows[3]["label"] = "yes"  # not a boolean: a chat row with a key, in a file of KTO rows
    assert ("E004", 4) in {(f.id, f.row) for f in lint_file(write(tmp_path / "kto2.jsonl", rows)).findings}


def test_unpaired_contradiction_length_bias_and_balance(tmp_path: Path) -> None:
    rows = [{"prompt": f"Q{i}?", "completion": f"A{i}.", "label": True} for i in range(9)]
    rows.append({"prompt": "Q2?", "completion": "A2.", "label": False})
    report = lint_file(write(tmp_path / "u.jsonl", rows))
    got = {(f.id, f.row) for f in report.findings}
    assert ("W004", 10) in got and ("W019", None) in got
    w019 = next(f.message for f in report.findings if f.id == "W019")
    assert "90%" in w019
    pairs = [{"prompt": f"Q{i}?", "chosen": f"A careful, complete answer {i}.", "rejected": f"No {i}."} for i in range(20)]
    w018 = [f.message for f in lint_file(write(tmp_path / "b.jsonl", pairs)).findings if f.id == "W018"]
    assert len(w018) == 1 and "100% of 20 pairs" in w018[0]


def test_parallel_ranges_merge_the_preference_columns(tmp_path: Path) -> None:
    rows = [{"prompt": f"Question number {i}?", "chosen": f"Right answer {i}." + " Why." * (i % 2),
             "rejected": f"Wrong answer {i}." + " Why not." * (1 - i % 2)} for i in range(400)]
    rows[350] = {"prompt": rows[5]["prompt"], "chosen": rows[5]["rejected"], "rejected": rows[5]["chosen"]}
    path = write(tmp_path / "big.jsonl", rows)
    one = lint_file(path, workers=1, near_dups=False)
    two = lint_file(path, workers=2, near_dups=False)
    key = sorted((f.id, f.row, f.message) for f in one.findings)
    assert key == sorted((f.id, f.row, f.message) for f in two.findings)
    assert ("W004", 351) in {(f.id, f.row) for f in two.findings}


def test_llama_factory_preference_rows(tmp_path: Path) -> None:
    """LLaMA-Factory's preference forms: ShareGPT ``conversations`` with one-message chosen/rejected, and Alpaca."""
    sharegpt = [{"conversations": [{"from": "human", "value": f"Name a prime above {10 * i}."}],
                 "chosen": {"from": "gpt", "value": f"{[11, 23, 31, 41, 53, 61, 71, 83, 97, 101][i]}"
                                                     + ("." if i % 2 else ", since only 1 and itself divide it.")},
                 "rejected": {"from": "gpt", "value": f"{10 * i + 10}, which is even."}} for i in range(10)]
    report = lint_file(write(tmp_path / "lf.jsonl", sharegpt))
    assert report.format == formats.PREFERENCE and "LLaMA-Factory" in report.format_label
    assert [f for f in report.findings if f.severity != "info"] == []
    conv = formats.normalize(sharegpt[2], formats.PREFERENCE, 3, 0)
    assert [m.role for m in conv.messages] == ["user", "assistant"] and conv.extras["rejected"][0].content == "30, which is even."
    alpaca = [{"instruction": "Reverse the word.", "input": w, "chosen": w[::-1], "rejected": w} for w in
              ("stressed", "drawer", "parts", "lived", "gateman", "reknits", "spoons", "straw", "diaper", "repaid")]
    report = lint_file(write(tmp_path / "la.jsonl", alpaca))
    assert report.format == formats.PREFERENCE and report.errors == 0
    assert not [f for f in report.findings if f.severity == "warning"]


def test_convert_preference_to_trl_and_openai(tmp_path: Path) -> None:
    from ftui.data.fix import FixError, convert

    out = tmp_path / "dirty.trl.jsonl"
    result = convert(paths.sample_data("preference_dirty.jsonl"), to="trl", out=out)
    assert result.written[0].rows == 17 and sum(result.dropped.values()) == 2  # E006 row 5, E016 row 19
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(set(r) == {"prompt", "chosen", "rejected"} and r["prompt"][-1]["role"] == "user" for r in rows)
    report = lint_file(out)
    assert report.format == formats.PREFERENCE and report.errors == 0
    lf = tmp_path / "lf.jsonl"
    write(lf, [{"conversations": [{"from": "human", "value": "Capital of Peru?"}], "chosen": {"from": "gpt", "value": "Lima."},
                "rejected": {"from": "gpt", "value": "Quito."}}])
    oai = tmp_path / "lf.openai.jsonl"
    convert(lf, to="openai", out=oai)
    assert json.loads(oai.read_text()) == {"input": {"messages": [{"role": "user", "content": "Capital of Peru?"}]},
                                           "preferred_output": [{"role": "assistant", "content": "Lima."}],
                                           "non_preferred_output": [{"role": "assistant", "content": "Quito."}]}
    kto = tmp_path / "kto.trl.jsonl"
    convert(paths.sample_data("preference_unpaired.jsonl"), to="trl", out=kto)
    first = json.loads(kto.read_text().splitlines()[0])
    assert set(first) == {"prompt", "completion", "label"} and first["label"] is True
    with pytest.raises(FixError, match="--to trl"):
        convert(paths.sample_data("preference_unpaired.jsonl"), to="openai", out=tmp_path / "x.jsonl")
    with pytest.raises(FixError, match="--to trl"):
        convert(paths.sample_data("preference_paired.jsonl"), to="chat", out=tmp_path / "y.jsonl")


@pytest.mark.parametrize(("name", "shape"), [("preference_paired.jsonl", "16 pairs (prompt, chosen, rejected)"),
                                             ("preference_unpaired.jsonl", "16 labelled answers (prompt, completion, label)")])
def test_the_info_lines_describe_preference_data_not_sft(name: str, shape: str) -> None:
    """I001 counts pairs / labelled answers (no 'rejected' role, no '0.0 turns per row'); I003 gives the tokens
    without an SFT price or a trained-token fraction of 0% (nothing is loss-masked the SFT way)."""
    report = lint_file(paths.sample_data(name))
    (i001,) = [f.message for f in report.findings if f.id == "I001"]
    (i003,) = [f.message for f in report.findings if f.id == "I003"]
    assert i001.endswith(f"16 rows (16 usable); {shape}"), i001
    assert "turns per row" not in i001 and "rejected 16" not in i001 and "roles:" not in i001
    assert "trained-token fraction" not in i003 and "$" not in i003 and "billable" not in i003, i003
    assert "tokens per epoch" in i003 and "not preference training" in i003


def test_the_info_lines_of_chat_data_are_unchanged() -> None:
    report = lint_file(paths.sample_data("alpaca_small.jsonl"))
    (i001,) = [f.message for f in report.findings if f.id == "I001"]
    (i003,) = [f.message for f in report.findings if f.id == "I003"]
    assert "roles: assistant 32, user 32; 2.0 turns per row" in i001
    assert "billable tokens" in i003 and "trained-token fraction" in i003
