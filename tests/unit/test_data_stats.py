"""Stats: true percentiles, histograms, OpenAI epoch heuristic, billable tokens, the dated price table and its override."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ftui.data import stats


def test_percentiles_are_exact() -> None:
    values = list(range(1, 101))
    p = stats.percentiles(values)
    assert p["p50"] == pytest.approx(np.percentile(values, 50)) and p["max"] == 100 and p["count"] == 100
    h = stats.histogram(values, bins=10)
    assert sum(h["counts"]) == 100 and len(h["edges"]) == len(h["counts"]) + 1


@pytest.mark.parametrize(("rows", "epochs"), [(10, 10), (30, 3), (5, 20), (1, 25), (1000, 3), (10_000, 2), (100_000, 1)])
def test_openai_epoch_heuristic(rows: int, epochs: int) -> None:
    assert stats.openai_epochs(rows) == epochs


def test_billable_tokens_cap_each_row_at_the_limit() -> None:
    cost = stats.cost_estimate([100, 200, 70_000] + [10] * 7, limit=65_536)
    assert cost["epochs"] == 10  # 10 rows: min(25, 100 // 10)
    assert cost["billable_tokens"] == (100 + 200 + 65_536 + 70) * 10
    assert cost["prices_as_of"] and cost["models"]


def test_price_table_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "prices.yaml"
    custom.write_text('checked: "2030-01-01"\nopenai_finetune:\n  my-model: {train_per_m: 2.0, input_per_m: 1, output_per_m: 1}\n'
                      "openai_base: {}\ngpus: {}\n")
    monkeypatch.setenv("FTUI_PRICES", str(custom))
    cost = stats.cost_estimate([1_000_000] * 10, limit=2_000_000)
    assert cost["prices_as_of"] == "2030-01-01"
    assert cost["models"] == {"my-model": {"usd_per_1m_training_tokens": 2.0, "usd": 200.0}}  # 10M tokens x 10 epochs
    shipped = stats.load_prices()
    monkeypatch.delenv("FTUI_PRICES")
    assert "2030" not in str(stats.load_prices()["as_of"]) and shipped["source"] == str(custom)


def test_the_data_stats_and_the_plan_calculator_price_from_one_table() -> None:
    from ftui.advisor.cost import load_prices

    table = load_prices()
    prices = stats.load_prices()
    assert prices["as_of"] == table.checked
    assert prices["models"] == {name: entry["train_per_m"] for name, entry in table.openai_finetune.items()}


def test_an_unreadable_price_table_gives_no_prices_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("checked: [unclosed\n")
    monkeypatch.setenv("FTUI_PRICES", str(bad))
    cost = stats.cost_estimate([100] * 10)
    assert cost["models"] == {} and "not valid YAML" in cost["prices_source"]
