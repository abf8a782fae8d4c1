"""Dataset statistics: token-length percentiles per role with histograms, turns per row,
label distribution, the OpenAI cost estimate (price table with its date, epoch
heuristic, billable tokens, trained-token fraction), and the quick token count the Plan
calculator prices a dataset by (``dataset_tokens``).

Prices come from the one dated table the Plan calculator uses too
(``ftui/advisor/prices.yaml``; a user overrides it with ``$FTUI_PRICES`` or
``~/.config/ftui/prices.yaml``; prices change, the file says when ours were checked).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHARS_PER_TOKEN = 4.0  # the usual English average; a tokenizer gives the exact count
TOKENS_PER_MESSAGE = 4  # role and separators in a chat format
TOKENS_PER_EXAMPLE = 3


def percentiles(values: Sequence[int] | np.ndarray) -> dict[str, float]:
    """True p5/p50/p95/max (computed on every value, not a sample)."""
    a = np.asarray(values, dtype=np.int64)
    if a.size == 0:
        return {"count": 0}
    p5, p50, p95 = np.percentile(a, [5, 50, 95])
    return {
        "count": int(a.size),
        "min": int(a.min()),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "max": int(a.max()),
        "mean": round(float(a.mean()), 1),
        "sum": int(a.sum()),
    }


def histogram(values: Sequence[int] | np.ndarray, bins: int = 20) -> dict[str, list]:
    """Histogram bins (``edges`` has one more entry than ``counts``) for the Data screen's plots."""
    a = np.asarray(values, dtype=np.int64)
    if a.size == 0:
        return {"edges": [], "counts": []}
    hi = int(np.percentile(a, 99.5)) if a.size > 200 else int(a.max())
    hi = max(hi, int(a.min()) + 1)
    counts, edges = np.histogram(np.clip(a, None, hi), bins=min(bins, max(1, hi - int(a.min()))), range=(int(a.min()), hi))
    return {"edges": [round(float(e), 1) for e in edges], "counts": [int(c) for c in counts]}


def length_stats(values: Sequence[int] | np.ndarray) -> dict[str, Any]:
    out = percentiles(values)
    out["histogram"] = histogram(values)
    return out


def openai_epochs(n_rows: int, default: int = 3, min_target: int = 100, max_target: int = 25_000) -> int:
    """OpenAI's default epoch choice by dataset size (the cookbook's heuristic)."""
    if n_rows <= 0:
        return default
    if n_rows * default < min_target:
        return min(25, min_target // n_rows)
    if n_rows * default > max_target:
        return max(1, max_target // n_rows)
    return default


def load_prices() -> dict[str, Any]:
    """OpenAI training prices per 1M tokens from the shared price table, with its date and
    path; an unreadable table gives no prices (and says why) rather than failing the stats."""
    from ftui.advisor.cost import load_prices as load_table
    from ftui.advisor.cost import prices_path
    from ftui.advisor.errors import AdvisorError

    try:
        table = load_table()
    except AdvisorError as exc:
        return {"as_of": "unknown", "models": {}, "source": f"{prices_path()} ({exc})"}
    models: dict[str, float] = {}
    for name, entry in table.openai_finetune.items():
        try:
            models[name] = float(entry["train_per_m"])
        except (KeyError, TypeError, ValueError):
            continue
    return {"as_of": table.checked, "models": models, "source": table.path}


def cost_estimate(row_tokens: Sequence[int] | np.ndarray, limit: int = 65_536, epochs: int | None = None) -> dict[str, Any]:
    """Billable tokens = sum(min(limit, tokens)) x epochs, priced per model from the table."""
    a = np.asarray(row_tokens, dtype=np.int64)
    n = int(a.size)
    ep = epochs or openai_epochs(n)
    per_epoch = int(np.minimum(a, limit).sum()) if n else 0
    billable = per_epoch * ep
    prices = load_prices()
    models = {}
    for name, per_m in prices["models"].items():
        models[name] = {"usd_per_1m_training_tokens": per_m, "usd": round(billable / 1e6 * per_m, 2)}
    return {
        "rows": n,
        "epochs": ep,
        "epochs_rule": "OpenAI default: 3; if rows*3 < 100 then min(25, 100 // rows); if rows*3 > 25000 then max(1, 25000 // rows)",
        "tokens_per_epoch": per_epoch,
        "billable_tokens": billable,
        "limit_per_row": limit,
        "models": models,
        "prices_as_of": str(prices.get("as_of", "unknown")),
        "prices_source": prices.get("source", ""),
    }


@dataclass(frozen=True)
class DatasetTokens:
    examples: int
    tokens: int
    path: str
    exact: bool = False  # True when counted with a tokenizer


def dataset_tokens(path: str | Path, max_rows: int = 1_000_000) -> DatasetTokens:
    """Approximate training tokens of a dataset (characters / 4 + chat-format overhead per message).

    Read through the one row reader (``formats.iter_conversations``, each row by its own keys),
    so every format and file kind counts the same as it trains; rows it cannot use are skipped
    (the linter reports them); reading stops after ``max_rows`` examples. DatasetError when the
    file cannot be read.
    """
    from ftui.data import formats
    from ftui.data.source import DatasetError

    p = Path(path).expanduser()
    if not p.is_file():
        raise DatasetError(f"dataset {p} does not exist; give the path of a .jsonl file.")
    examples = tokens = 0
    for _row, _offset, conversation, _error in formats.iter_conversations(p, each_row=True):
        if examples >= max_rows:
            break
        if conversation is None:
            continue
        examples += 1
        chars = sum(len(m.content or "") for m in conversation.messages)
        tokens += math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(conversation.messages) + TOKENS_PER_EXAMPLE
    return DatasetTokens(examples, tokens, str(p))
