"""The Plan screen's calculator: the memory-estimator and cost forms (built after the first frame;
the cost form when its tab is first shown).

Split from ``plan`` so the screen's first frame does not wait for importing the form
widgets, the estimator and the price table (bench/startup.py).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import Input, Select, Static, TabbedContent, TabPane

from ftui.advisor import cost as cost_mod
from ftui.advisor.architectures import CUSTOM, PRESET_SIZES
from ftui.advisor.vram import LOSSES, METHODS, OPTIMIZERS
from ftui.config import PRECISIONS  # the run config's precisions: the calculator prices a RunConfig
from ftui.tui.widgets.choice import Choice
from ftui.tui.widgets.field import TextField


def _label(text: str) -> Static:
    return Static(text, classes="flabel", markup=False)


def _select(options: list[tuple[str, str]] | tuple[str, ...], value: str, wid: str) -> Select:
    pairs = [(o, o) if isinstance(o, str) else o for o in options]
    return Choice(pairs, value=value, allow_blank=False, compact=True, id=wid)


def _input(value: str, wid: str, placeholder: str = "", restrict: str | None = None) -> Input:
    return TextField(value, placeholder=placeholder, compact=True, id=wid, restrict=restrict)



class CalcTabs(TabbedContent):
    """The calculator tabs; tells the screen once they are mounted (they mount lazily)."""

    def on_mount(self) -> None:
        from textual.widgets import Tabs

        # the tabs are switched with m / c (footer); Tab moves between the form's fields only
        for tabs in self.query(Tabs):
            tabs.can_focus = False
        self.call_after_refresh(self._announce)

    def _announce(self) -> None:
        calc_mounted = getattr(self.screen, "calc_mounted", None)
        if calc_mounted is not None:
            calc_mounted()

class Calculator(Vertical):
    """The memory estimator and cost calculator tabs: built only when mounted (after the first frame)."""

    DEFAULT_CSS = "Calculator { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.cost_values = cost_defaults(cost_mod.load_prices())

    def compose(self) -> ComposeResult:
        with CalcTabs(id="calc-tabs", initial="memory"):
            with TabPane("Memory (m)", id="memory"):
                with VerticalScroll(id="memory-scroll"):
                    with Grid(id="mem-form", classes="form"):
                        yield _label("Model")
                        yield _select([(s, s) for s in PRESET_SIZES] + [("path / Hub id", CUSTOM)], "8B",
                                      "f-model")
                        yield _label("Path/id")
                        yield _input("", "f-path", "local dir or org/name")
                        yield _label("Method")
                        yield _select(METHODS, "lora", "f-method")
                        yield _label("Seq len")
                        yield _input("2048", "f-seq", restrict=r"-?[0-9]*")
                        yield _label("Batch")
                        yield _input("1", "f-batch", restrict=r"-?[0-9]*")
                        yield _label("Grad ckpt")
                        yield _select([("auto", "auto"), ("on", "on"), ("off", "off")], "auto", "f-gc")
                        yield _label("Optimizer")
                        yield _select(OPTIMIZERS, "adamw_torch", "f-optim")
                        yield _label("Precision")
                        yield _select(PRECISIONS, "auto", "f-precision")
                        yield _label("LoRA rank")
                        yield _input("16", "f-rank", restrict=r"-?[0-9]*")
                        yield _label("Targets")
                        yield _select(("all-linear", "attention"), "all-linear", "f-targets")
                        yield _label("Loss")
                        yield _select(("auto", *LOSSES), "auto", "f-loss")
                        yield _label("GPU GB")
                        yield _input("", "f-gpu", "auto")
                    yield Static(id="model-line")
                    yield Static(id="mem-error", classes="error")
                    breakdown = Static(id="breakdown")
                    breakdown.border_title = "Memory per training step"
                    yield breakdown
                    yield Static(id="fix")
            # the cost form is built when its tab is first shown (PlanScreen.build_cost_form): 4 of the
            # calculator's 11 Selects and ~30 of its widgets that most sessions never look at
            yield TabPane("Cost (c)", id="cost")


def cost_defaults(prices: cost_mod.PriceTable) -> dict[str, str]:
    """The cost form's first values, by field id: what the screen reads while the form is not built."""
    return {
        "#c-tokens": "", "#c-epochs": "3", "#c-openai": next(iter(prices.openai_finetune)),
        "#c-gpu": next(iter(prices.gpus)), "#c-hourly": "", "#c-requests": "", "#c-before": "1500",
        "#c-after": "100", "#c-output": "50",
        "#c-today": "gpt-4o" if "gpt-4o" in prices.openai_base else next(iter(prices.openai_base)),
        "#c-serve": "openai",
    }


class CostForm(VerticalScroll):
    """The cost / break-even form, built with the values the screen kept while it was not shown."""

    def __init__(self, values: dict[str, str], tokens_placeholder: str, data_text: Text | str) -> None:
        super().__init__(id="cost-scroll")
        self.values = values
        self.tokens_placeholder = tokens_placeholder
        self.data_text = data_text

    def compose(self) -> ComposeResult:
        prices = cost_mod.load_prices()
        v = self.values
        with Grid(id="cost-form", classes="form"):
            yield _label("Tokens")
            yield _input(v["#c-tokens"], "c-tokens", self.tokens_placeholder, restrict=r"-?[0-9]*")
            yield _label("Epochs")
            yield _input(v["#c-epochs"], "c-epochs")
            yield _label("OpenAI")
            yield _select(tuple(prices.openai_finetune), v["#c-openai"], "c-openai")
            yield _label("GPU type")
            yield _select(tuple(prices.gpus), v["#c-gpu"], "c-gpu")
            yield _label("$/hour")
            yield _input(v["#c-hourly"], "c-hourly", "table")
            yield _label("Req/day")
            yield _input(v["#c-requests"], "c-requests", "e.g. 100000", restrict=r"-?[0-9]*")
            yield _label("Prompt now")
            yield _input(v["#c-before"], "c-before", restrict=r"-?[0-9]*")
            yield _label("Prompt FT")
            yield _input(v["#c-after"], "c-after", restrict=r"-?[0-9]*")
            yield _label("Output")
            yield _input(v["#c-output"], "c-output", restrict=r"-?[0-9]*")
            yield _label("Today")
            yield _select(tuple(prices.openai_base), v["#c-today"], "c-today")
            yield _label("Serve FT")
            yield _select([("OpenAI", "openai"), ("self-hosted", "self-hosted")], v["#c-serve"], "c-serve")
        yield Static(self.data_text, id="cost-data", classes="muted")
        yield Static(id="cost-error", classes="error")
        yield Static(id="cost-result")
        yield Static(f"Prices checked {prices.checked}; edit {Path(prices.path).name} or set "
                     "FTUI_PRICES. Self-hosted speed is a FLOPs/MFU estimate.", classes="muted", markup=False)
