"""``ftui plan`` (estimate), ``ftui plan advise`` and ``ftui plan cost`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        rc = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_issue_example_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FTUI_GPU_GB", raising=False)
    rc, out, _ = _run(capsys, "plan", "--model", "8B", "--method", "qlora", "--seq-len", "2048", "--batch", "2",
                      "--json")
    assert rc == 0
    data = json.loads(out)
    assert data["schema"] == "ftui.plan.estimate/1"
    assert set(data["breakdown"]) == {"weights", "trainable", "gradients", "optimizer", "activations", "logits",
                                      "overhead"}
    assert data["total_gb"] == pytest.approx(sum(data["breakdown"].values()), abs=0.01)
    assert "fits" in data and data["setup"]["micro_batch"] == 2


def test_fit_verdict_and_fix_with_gpu_gb(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "plan", "--model", "8B", "--method", "full", "--gpu-gb", "24", "--json")
    data = json.loads(out)
    assert rc == 0 and data["fits"] is False and data["gpu_gb"] == 24
    assert data["fix"]["total_gb"] <= 24 and data["fix"]["changes"]
    rc, out, _ = _run(capsys, "plan", "--model", "8B", "--method", "full", "--gpu-gb", "24")
    assert "DOES NOT FIT" in out and "Cheapest fix" in out


def test_gpu_size_from_env(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTUI_GPU_GB", "80")
    _, out, _ = _run(capsys, "plan", "--model", "1B", "--json")
    data = json.loads(out)
    assert data["gpu_gb"] == 80 and data["fits"] is True and data["gpu"]["source"] == "env"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["plan", "--model", "someorg/unknown-model"], "HF_HUB_OFFLINE"),
        (["plan", "--model", "8B", "--rank", "0"], "rank"),
        (["plan", "--model", "8B", "--rank", "100000"], "rank"),
        (["plan", "--model", "8B", "--seq-len", "0"], "--seq-len"),
        (["plan", "--model", "8B", "--batch", "-4"], "--batch"),
        (["plan", "--model", "8B", "--gpu-gb", "0"], "--gpu-gb"),
        (["plan", "--model", "8B", "--targets", "nope_proj"], "target"),
        (["plan"], "--model"),
        (["plan", "--set", "method=full"], "--config"),
        (["plan", "--model", "8B", "--set", "gradient_checkpointing=sometimes"], "true, false or auto"),
        (["plan", "--model", "8B", "--set", "method=openai"], "OpenAI"),
        (["plan", "--model", "8B", "--lora-dropout", "1.5"], "dropout"),
        (["plan", "--config", "/nonexistent/run.yaml"], "does not exist"),
        (["plan", "advise", "--answers", "gap=9"], "gap"),
        (["plan", "advise", "--answers", "gap=1,x"], "mixes"),
        (["plan", "cost"], "--data"),
        (["plan", "cost", "--tokens", "100", "--gpu", "Z80"], "unknown GPU"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    rc, out, err = _run(capsys, *argv)
    assert rc == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_config_fields(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    rc, _, err = _run(capsys, "plan", "--model", str(tmp_path))
    assert rc == 2 and "num_hidden_layers" in err


def test_advise_headless_json_and_record(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    record = tmp_path / "decision.md"
    rc, out, _ = _run(capsys, "plan", "advise", "--answers", "gap=2,prompt_fixes=n,problem_kind=1,style_examples=2",
                      "--json", "--record", str(record))
    data = json.loads(out)
    assert rc == 0 and data["complete"] and data["outcome"]["id"] == "lora_style"
    assert data["run_config_overrides"]["method"] == "lora"
    assert data["run_config_overrides"]["lora_r"] == 16
    assert "Fine-tune a LoRA adapter" in record.read_text()


def test_advise_incomplete_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "plan", "advise", "--answers", "1")
    assert rc == 2 and "facts_change" in out
    rc, out, _ = _run(capsys, "plan", "advise", "--list")
    assert rc == 0 and "gap:" in out and "style_examples" in out


def test_advise_needs_answers_without_a_terminal(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    rc, _, err = _run(capsys, "plan", "advise")
    assert rc == 2 and "--answers" in err


def test_cost_with_dataset_and_break_even(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    row = {"messages": [{"role": "user", "content": "a" * 396}, {"role": "assistant", "content": "b"}]}
    data.write_text("\n".join(json.dumps(row) for _ in range(1000)) + "\n")
    rc, out, _ = _run(capsys, "plan", "cost", "--data", str(data), "--epochs", "3", "--requests-per-day", "1000000",
                      "--json")
    result = json.loads(out)
    assert rc == 0
    assert result["dataset"]["examples"] == 1000
    tokens = result["tokens_per_epoch"]
    assert result["openai"]["billable_tokens"] == 3 * tokens
    assert result["openai"]["cost_usd"] == pytest.approx(3 * tokens / 1e6 * 3.0, rel=1e-3)
    assert result["break_even"]["days_to_pay_back"] is not None
    rc, out, _ = _run(capsys, "plan", "cost", "--tokens", "900000", "--epochs", "1")
    assert rc == 0 and "$2.70" in out


def test_advise_interactive_with_back_and_bad_key(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    keys = iter(["2", "b", "1", "x", "n", "y"])  # answer, back, knowledge, typo, stable facts, needs format
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(keys))
    rc, out, _ = _run(capsys, "plan", "advise")
    assert rc == 0
    assert "'x' is not an option here" in out
    assert "Retrieval for the facts, a small LoRA for the shape" in out
