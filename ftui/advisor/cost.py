"""What a fine-tune costs, and when it pays back.

- OpenAI training = billable tokens (dataset tokens x epochs) x the model's training price.
- Self-hosted training = GPU hours x hourly price, where GPU hours = tokens x epochs /
  tokens-per-second and tokens-per-second comes from a FLOPs model: each trained token
  costs F = 6·N FLOPs (full) or 4·N (LoRA/QLoRA: no weight gradients for the frozen base),
  and the GPU delivers MFU x its peak FLOPS. Default MFU: 0.35 full, 0.28 LoRA, 0.22 QLoRA
  (dequantisation costs time) — about what one H100 reaches on an 8B model at seq 2048
  (LoRA 7–10k tok/s, QLoRA 5.5–8k tok/s). It is an assumption; the Train screen measures it.
- Break-even = training cost / daily saving, where the daily saving is
  requests/day x (cost per request before - after) - any fixed serving cost per day.

Prices come from a dated, editable table (prices.yaml, or FTUI_PRICES=path).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ftui.advisor.errors import AdvisorError

PRICES_PATH = Path(__file__).with_name("prices.yaml")
USER_PRICES = Path("~/.config/ftui/prices.yaml")
DEFAULT_MFU = {"full": 0.35, "lora": 0.28, "qlora": 0.22}


@dataclass(frozen=True)
class PriceTable:
    checked: str
    openai_finetune: dict[str, dict[str, float]]
    openai_base: dict[str, dict[str, float]]
    gpus: dict[str, dict[str, float]]
    path: str


@lru_cache(maxsize=4)
def _load(path: str) -> PriceTable:
    import yaml

    from ftui.yamlio import safe_load

    try:
        with open(path, encoding="utf-8") as fh:
            data = safe_load(fh)
    except OSError as exc:
        raise AdvisorError(f"cannot read the price table {path}: {exc.strerror or exc}; fix FTUI_PRICES.") from None
    except yaml.YAMLError:
        raise AdvisorError(f"the price table {path} is not valid YAML; fix it or unset FTUI_PRICES.") from None
    try:
        return PriceTable(str(data["checked"]), data["openai_finetune"], data["openai_base"], data["gpus"], path)
    except (KeyError, TypeError):
        raise AdvisorError(
            f"the price table {path} lacks checked/openai_finetune/openai_base/gpus; copy ftui/advisor/prices.yaml."
        ) from None


def prices_path() -> Path:
    """The price table in use: $FTUI_PRICES, else ~/.config/ftui/prices.yaml, else the shipped one."""
    env = os.environ.get("FTUI_PRICES")
    if env:
        return Path(env).expanduser()
    user = USER_PRICES.expanduser()
    return user if user.is_file() else PRICES_PATH


def load_prices() -> PriceTable:
    """The one dated price table every cost figure in ftui comes from (Plan and Data alike)."""
    return _load(str(prices_path()))


def _positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not isinstance(value, (int, float)) or math.isnan(value) or not ok:
        raise AdvisorError(f"{name} must be {'0 or more' if allow_zero else 'above 0'} (got {value!r}).")


# ------------------------------------------------------------------ training cost
@dataclass(frozen=True)
class OpenAICost:
    model: str
    billable_tokens: int
    price_per_m: float
    cost: float
    checked: str


def openai_training_cost(tokens: int, epochs: float, model: str = "gpt-4o-mini-2024-07-18",
                         prices: PriceTable | None = None) -> OpenAICost:
    """Billable tokens (dataset tokens x epochs) x the training price per 1M tokens."""
    prices = prices or load_prices()
    _positive("dataset tokens", tokens)
    _positive("epochs", epochs)
    if model not in prices.openai_finetune:
        raise AdvisorError(f"no training price for {model!r}; known: {', '.join(prices.openai_finetune)} "
                           f"(add it to {prices.path}).")
    billable = int(round(tokens * epochs))
    per_m = float(prices.openai_finetune[model]["train_per_m"])
    return OpenAICost(model, billable, per_m, billable / 1e6 * per_m, prices.checked)


@dataclass(frozen=True)
class SelfHostedCost:
    gpu: str
    tokens_per_s: float
    hours: float
    hourly: float
    cost: float
    mfu: float
    flops_per_token: float
    assumption: str


def tokens_per_second(n_params: int, method: str, tflops: float, mfu: float | None = None) -> tuple[float, float, float]:
    """(tokens/s, MFU used, FLOPs per token) from F = 6N (full) or 4N (adapters) and MFU x peak."""
    mfu = DEFAULT_MFU.get(method, 0.28) if mfu is None else mfu
    _positive("MFU", mfu)
    if mfu > 1:
        raise AdvisorError(f"MFU is a fraction of peak, at most 1 (got {mfu}); 0.2–0.4 is typical.")
    flops = (6.0 if method == "full" else 4.0) * n_params
    return tflops * 1e12 * mfu / flops, mfu, flops


def self_hosted_cost(n_params: int, method: str, tokens: int, epochs: float, gpu: str = "H100-80GB",
                     hourly: float | None = None, mfu: float | None = None, num_gpus: int = 1,
                     prices: PriceTable | None = None) -> SelfHostedCost:
    prices = prices or load_prices()
    _positive("dataset tokens", tokens)
    _positive("epochs", epochs)
    _positive("number of GPUs", num_gpus)
    if gpu not in prices.gpus:
        raise AdvisorError(f"unknown GPU {gpu!r}; known: {', '.join(prices.gpus)} (add it to {prices.path}).")
    spec = prices.gpus[gpu]
    price = float(spec["hourly"]) if hourly is None else hourly
    _positive("GPU hourly price", price, allow_zero=True)
    tps, mfu_used, flops = tokens_per_second(n_params, method, float(spec["tflops"]), mfu)
    tps *= num_gpus
    hours = tokens * epochs / tps / 3600
    assumption = (f"{flops / n_params:.0f}·N FLOPs/token at {mfu_used:.0%} MFU of {spec['tflops']} TFLOPS"
                  f" x {num_gpus} GPU(s) = {tps:,.0f} tokens/s")
    return SelfHostedCost(gpu, tps, hours, price * num_gpus, hours * price * num_gpus, mfu_used, flops, assumption)


# ------------------------------------------------------------------ break-even
@dataclass(frozen=True)
class BreakEven:
    cost_before_per_day: float
    cost_after_per_day: float
    saving_per_day: float
    days: float | None  # None: never pays back
    tokens_saved_per_day: int


def break_even(training_cost: float, requests_per_day: float, prompt_tokens_before: int, prompt_tokens_after: int,
               output_tokens: int, price_in_before: float, price_out_before: float, price_in_after: float,
               price_out_after: float, fixed_after_per_day: float = 0.0) -> BreakEven:
    """Days until the cheaper requests repay the training. Prices are per 1M tokens."""
    _positive("training cost", training_cost, allow_zero=True)
    _positive("requests per day", requests_per_day)
    for name, v in (("prompt tokens before", prompt_tokens_before), ("prompt tokens after", prompt_tokens_after),
                    ("output tokens", output_tokens), ("fixed cost per day", fixed_after_per_day)):
        _positive(name, v, allow_zero=True)
    before = requests_per_day * (prompt_tokens_before * price_in_before + output_tokens * price_out_before) / 1e6
    after = requests_per_day * (prompt_tokens_after * price_in_after + output_tokens * price_out_after) / 1e6
    after += fixed_after_per_day
    saving = before - after
    days = training_cost / saving if saving > 0 else None
    saved = int(requests_per_day * max(prompt_tokens_before - prompt_tokens_after, 0))
    return BreakEven(before, after, saving, days, saved)


def money(value: float) -> str:
    return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"


def duration(hours: float) -> str:
    """Hours as the unit a person reads: minutes, hours or days."""
    if hours < 1:
        return f"{hours * 60:.0f} min" if hours * 60 >= 1 else "< 1 min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
