"""OpenAI and self-hosted training cost, break-even, dataset token counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.advisor import cost
from ftui.advisor.errors import AdvisorError
from ftui.data import stats
from ftui.data.source import DatasetError


def test_openai_cost_is_tokens_times_epochs_times_price() -> None:
    got = cost.openai_training_cost(1_000 * 300, 3, "gpt-4o-mini-2024-07-18")
    assert got.billable_tokens == 900_000
    assert got.cost == pytest.approx(2.70)  # $3 per 1M training tokens
    assert got.checked  # the table is dated


def test_self_hosted_uses_flops_model() -> None:
    got = cost.self_hosted_cost(8_030_000_000, "lora", 10_000_000, 1, gpu="H100-80GB")
    # 4N FLOPs/token, 28% of 989 TFLOPS: ~8.6k tokens/s, inside the 7–10k anchor for LoRA 8B on an H100
    assert 7_000 <= got.tokens_per_s <= 10_000
    assert got.hours == pytest.approx(10_000_000 / got.tokens_per_s / 3600)
    assert got.cost == pytest.approx(got.hours * 2.50)
    assert "MFU" in got.assumption
    qlora = cost.self_hosted_cost(8_030_000_000, "qlora", 10_000_000, 1, gpu="H100-80GB")
    assert 5_500 <= qlora.tokens_per_s <= 8_000
    full = cost.self_hosted_cost(8_030_000_000, "full", 10_000_000, 1, gpu="H100-80GB")
    assert full.flops_per_token == pytest.approx(6 * 8_030_000_000)


def test_break_even_days() -> None:
    # 1M requests/day, a 1,500-token prompt at $5/M cut to 100 tokens on a $50/day server
    got = cost.break_even(500.0, 1_000_000, 1500, 100, 0, 5.0, 0, 0, 0, fixed_after_per_day=50)
    assert got.cost_before_per_day == pytest.approx(7_500)
    assert got.saving_per_day == pytest.approx(7_450)
    assert got.days == pytest.approx(500 / 7_450)
    never = cost.break_even(500.0, 10, 100, 100, 10, 0.15, 0.6, 0.3, 1.2)
    assert never.days is None and never.saving_per_day < 0


def test_dataset_tokens(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [{"messages": [{"role": "user", "content": "x" * 400}, {"role": "assistant", "content": "y" * 40}]}] * 10
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    got = stats.dataset_tokens(path)
    assert got.examples == 10
    assert got.tokens == 10 * (110 + 2 * stats.TOKENS_PER_MESSAGE + stats.TOKENS_PER_EXAMPLE)
    with pytest.raises(DatasetError, match="does not exist"):
        stats.dataset_tokens("/nonexistent/file.jsonl")


@pytest.mark.parametrize(
    "call",
    [
        lambda: cost.openai_training_cost(0, 3),
        lambda: cost.openai_training_cost(100, -1),
        lambda: cost.openai_training_cost(100, 1, "gpt-99"),
        lambda: cost.self_hosted_cost(1, "lora", 100, 1, gpu="Z80"),
        lambda: cost.self_hosted_cost(1, "lora", 100, 1, mfu=3),
        lambda: cost.break_even(1, 0, 1, 1, 1, 1, 1, 1, 1),
    ],
)
def test_bad_cost_inputs(call) -> None:  # noqa: ANN001
    with pytest.raises(AdvisorError):
        call()


def test_price_table_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("checked: x\n")
    monkeypatch.setenv("FTUI_PRICES", str(bad))
    with pytest.raises(AdvisorError, match="lacks"):
        cost.load_prices()
