"""The Plan mode: should you fine-tune at all, does it fit your GPU, and what does it cost.

Left: the decision-tree wizard, one question at a time, answered with one key (1/2/3
or y/n; b or Esc goes back, r restarts), ending in an outcome card. Right: the memory
estimator (a form whose every change recomputes the breakdown at once — it is plain
arithmetic) and the cost / break-even calculator. Reading a config.json, detecting the
GPU and counting the dataset's tokens happen in thread workers. ``u`` carries the plan
into the Train form (``workspace.plan_overrides``); ``w`` writes the decision record.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from ftui.advisor.architectures import CUSTOM
from ftui.advisor.tree import Walker, load_tree
from ftui.textsafe import one_line
from ftui.tui.screens.base import ModeScreen
from ftui.tui.widgets.plan_view import (
    render_breakdown,
    render_cost,
    render_fix,
    render_model_line,
    render_outcome,
    render_question,
)

if TYPE_CHECKING:  # pragma: no cover
    from textual.widgets import Input, Select, TabbedContent

    from ftui.advisor.architectures import Architecture
    from ftui.advisor.vram import Estimate, Fix, TrainSetup
    from ftui.config import RunConfig
    from ftui.data.stats import DatasetTokens
    from ftui.tui.screens.plan_calc import CostForm

# The calculator's modules (forms, the estimator, prices) are imported where they are used:
# it mounts after the first frame, and keeping them out of this module's import keeps
# ~15 ms off the start-up (bench/startup.py). ``plan_calc`` holds its widgets.

NARROW_BELOW = 110
ANSWER_KEYS = ("1", "2", "3", "4", "5", "y", "n")
CALC_DELAY_S = 0.02  # after the first frame is composed: time for the writer thread to send it


class FieldError(ValueError):
    """A form field holds something the estimator cannot use; the message names the field."""


class WizardPanel(Static, can_focus=True):
    """The current question or the outcome card; owns the answer / back / restart keys."""

    BINDINGS = [
        Binding("up", "scroll_card(-1)", "Scroll up", show=False),
        Binding("down", "scroll_card(1)", "Scroll down", show=False),
        Binding("pageup", "scroll_card(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_card(10)", "Page down", show=False),
        Binding("1", "answer('1')", "Answer", id="plan.answer", key_display="1-3 y/n"),
        *[Binding(k, f"answer('{k}')", f"Answer {k}", show=False) for k in ANSWER_KEYS[1:]],
        Binding("b", "back", "Back", id="plan.back"),
        Binding("escape", "back", "Back", show=False),
        Binding("r", "restart", "Restart", id="plan.restart"),
    ]

    def help_shows(self, action: str) -> bool:
        """The help lists only the current question's answer keys (another key still says it is not an answer)."""
        if not action.startswith("answer(") or action == "answer('1')":
            return True
        walker = getattr(self.screen, "walker", None)
        question = walker.question if walker is not None else None
        return question is not None and any(f"answer('{o.key}')" == action for o in question.options)

    def action_scroll_card(self, lines: int) -> None:
        if self.parent is not None:
            self.parent.scroll_relative(y=lines, animate=False)  # type: ignore[attr-defined]

    def action_answer(self, key: str) -> None:
        self.screen.answer(key)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.screen.back()  # type: ignore[attr-defined]

    def action_restart(self) -> None:
        self.screen.restart()  # type: ignore[attr-defined]


class PlanScreen(ModeScreen):
    MODE = "plan"
    TITLE_TEXT = "Plan"

    BINDINGS = [
        Binding("u", "use_plan", "Use this plan", id="plan.use"),
        Binding("w", "save_record", "Save record", id="plan.record"),
        Binding("f", "apply_fix", "Apply fix", id="plan.fix"),
        Binding("m", "tab('memory')", "Memory", id="plan.memory"),
        Binding("c", "tab('cost')", "Cost", id="plan.cost"),
        Binding("escape", "focus_wizard", "Wizard", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.walker = Walker(load_tree())
        # the answers of the last session: the wizard opens where the user left it
        for key in getattr(self.app, "remembered_at_start", {}).get("wizard_answers", []):
            if not self.walker.answer(key):
                break
        self.estimate: Estimate | None = None
        self.fix: Fix | None = None
        self.error: str | None = None
        self.gpu_detected_gb: float | None = None
        self.gpu_label: str | None = None
        self.custom_arch: Architecture | None = None
        self.custom_error: str | None = None
        self.custom_loading = False
        self.model_chosen = False
        self.dataset_tokens: DatasetTokens | None = None
        self._live_run_checked = False  # the run-in-progress notice is given on the first show (on_screen_resume)
        self.cost_lines: list[tuple[str, str, str]] = []
        # The cost form is built when its tab is first shown; until then its values live here (by field id)
        # and the cost is still computed from them (the decision record carries it).
        self.cost_values: dict[str, str] = {}
        self.cost_form: CostForm | None = None
        self._tokens_placeholder = "from dataset"
        self._cost_data: Text | str = ""
        self._path_timer: Timer | None = None
        self._ready = False
        self._initial_model = "8B"
        self.grad_accum = 1  # raised when a fix trades micro-batch for accumulation
        self.settled.clear()  # until the calculator has mounted
        self.run_in_progress: str | None = None  # a live run found on disk

    # ------------------------------------------------------------------ layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="plan-main"):
            with VerticalScroll(id="wizard-pane") as pane:
                # the first question is in the first paint (not set in on_mount: one refresh later)
                pane.border_title = "Should you fine-tune?"
                pane.border_subtitle = f"question {self.walker.depth}"
                first = render_question(self.walker) if self.walker.outcome is None else ""
                yield WizardPanel(first, id="wizard")
            # The calculator (dozens of form widgets) is built and mounted just after the
            # first frame, so the wizard paints at once (bench/startup.py).
            yield Vertical(id="calc-pane")

    def on_mount(self) -> None:
        self.query_one("#wizard", WizardPanel).focus()
        if self.walker.steps:  # answers remembered from the last session
            self.render_wizard()
        self.call_after_refresh(self.set_timer, CALC_DELAY_S, self._mount_calculator)

    def on_screen_resume(self) -> None:
        if not self._live_run_checked:  # said once the user is here: a Plan built ahead stays quiet until then
            self._live_run_checked = True
            self._find_live_run()

    @work(thread=True, exclusive=True, group="plan-find-live", exit_on_error=False)
    def _find_live_run(self) -> None:
        """A run still training (here, in another ftui, ``ftui train``): say so, with the key that shows it."""
        from ftui.train.runs import RunDirError, list_runs

        try:
            live = [s for s in list_runs() if s.live and s.status == "running"]
        except RunDirError:
            return
        if live:
            self.app.call_from_thread(self._show_live_run, live[0].run_id, len(live))

    def _show_live_run(self, run_id: str, count: int) -> None:
        more = f" (and {count - 1} more)" if count > 1 else ""
        self.run_in_progress = run_id
        self.notify(Text(f"{one_line(run_id, 80)}{more} is training. F3 watches it."), title="Run in progress",
                    timeout=20)

    async def _mount_calculator(self) -> None:
        from ftui.tui.screens.plan_calc import Calculator

        # settled once the tabs have announced themselves (calc_mounted): the tabs inside mount after this
        # await, and an exit before that made Textual's Tabs raise "No Tab with id '--content-tab-memory'"
        calculator = Calculator()
        self.cost_values = calculator.cost_values
        try:
            await self.query_one("#calc-pane", Vertical).mount(calculator)
        except BaseException:
            self.settled.set()
            raise

    def calc_mounted(self) -> None:
        """The lazily mounted calculator is in the DOM: fill it and start its workers."""
        from textual.widgets import Input, Select

        try:
            model = getattr(self.app, "workspace", None)
            name = getattr(model, "model", "demo") if model else "demo"
            if name and name != "demo":
                self._initial_model = CUSTOM
                self.query_one("#f-model", Select).value = CUSTOM
                self.query_one("#f-path", Input).value = name
            self._ready = True
            self.recompute()
            self.detect_gpu_worker()
            self.count_tokens_worker()
        finally:
            self.settled.set()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_BELOW, "-narrow")

    # ------------------------------------------------------------------ wizard
    def render_wizard(self) -> None:
        remember = getattr(self.app, "remember", None)
        if remember is not None and self.is_mounted:
            remember(wizard_answers=[step.option.key for step in self.walker.steps])
        panel = self.query_one("#wizard", WizardPanel)
        pane = self.query_one("#wizard-pane")
        outcome = self.walker.outcome
        if outcome is None:
            panel.update(render_question(self.walker))
            pane.border_title = "Should you fine-tune?"
            pane.border_subtitle = f"question {self.walker.depth}"
        else:
            panel.update(render_outcome(outcome, self.walker))
            pane.border_title = "Outcome"
            pane.border_subtitle = "u use · w save · b back"
        pane.scroll_home(animate=False)

    def answer(self, key: str) -> None:
        if self.walker.outcome is not None:
            return
        if not self.walker.answer(key):
            q = self.walker.question
            keys = "/".join(o.key for o in q.options) if q else ""
            self.notify(f"'{key}' is not an answer here; press {keys}.", severity="warning", timeout=3)
            return
        outcome = self.walker.outcome
        if outcome is not None and outcome.trains:
            self._apply_outcome_to_form(outcome)
        self.render_wizard()

    def back(self) -> None:
        if self.walker.back():
            self.render_wizard()

    def restart(self) -> None:
        self.walker.restart()
        self.render_wizard()

    def _apply_outcome_to_form(self, outcome) -> None:  # noqa: ANN001
        from textual.widgets import Input, Select

        from ftui.advisor.vram import METHODS

        hp = outcome.hyperparameters
        if outcome.method in METHODS:
            self.query_one("#f-method", Select).value = outcome.method
        if "lora_r" in hp:
            self.query_one("#f-rank", Input).value = str(hp["lora_r"])
        if hp.get("target_modules") in ("all-linear", "attention"):
            self.query_one("#f-targets", Select).value = hp["target_modules"]
        if "num_epochs" in hp:
            self._set_cost_field("#c-epochs", f"{hp['num_epochs']:g}")

    def _set_cost_field(self, wid: str, value: str) -> None:
        from textual.widgets import Input

        if self.cost_form is not None:
            self.query_one(wid, Input).value = value  # its Changed recomputes the cost
        elif self.cost_values.get(wid) != value:
            self.cost_values[wid] = value
            self.recompute_cost()

    def action_focus_wizard(self) -> None:
        self.query_one("#wizard", WizardPanel).focus()

    async def action_tab(self, tab: str) -> None:
        from textual.widgets import TabbedContent

        if self._ready:
            if tab == "cost":
                await self.build_cost_form()  # before the switch: the tab never shows empty
            self.query_one("#calc-tabs", TabbedContent).active = tab

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "cost":  # a click on the tab (c builds the form before it switches)
            await self.build_cost_form()

    async def build_cost_form(self) -> None:
        """Build the cost form on its first showing, with the values kept meanwhile, then show its result."""
        from textual.widgets import Input, TabPane

        from ftui.tui.screens.plan_calc import CostForm

        if self.cost_form is not None or not self._ready:
            return
        form = CostForm(dict(self.cost_values), self._tokens_placeholder, self._cost_data)
        await self.query_one("#cost", TabPane).mount(form)
        self.cost_form = form
        # a dataset counted while it mounted (a worker's callback does not wait for the mount)
        self.query_one("#c-tokens", Input).placeholder = self._tokens_placeholder
        self.query_one("#cost-data", Static).update(self._cost_data)
        self.recompute_cost()

    # ---------------------------------------------------------------- the form
    def _text(self, wid: str) -> str:
        from textual.widgets import Input

        if self.cost_form is None and wid in self.cost_values:
            return self.cost_values[wid].strip()
        return self.query_one(wid, Input).value.strip()

    def _int(self, wid: str, name: str) -> int:
        text = self._text(wid)
        try:
            value = int(text)
        except ValueError:
            raise FieldError(f"{name}: type a whole number above 0.") from None
        if value <= 0:
            raise FieldError(f"{name} must be above 0 (got {value}).")
        return value

    def _float(self, wid: str, name: str, allow_zero: bool = False) -> float:
        text = self._text(wid)
        try:
            value = float(text)
        except ValueError:
            raise FieldError(f"{name}: type a number.") from None
        if value < 0 or (value == 0 and not allow_zero) or value != value:
            raise FieldError(f"{name} must be above 0 (got {text}).")
        return value

    def _select_value(self, wid: str) -> str:
        from textual.widgets import Select

        if self.cost_form is None and wid in self.cost_values:
            return self.cost_values[wid]
        return str(self.query_one(wid, Select).value)

    def current_arch(self) -> tuple[Architecture, str]:
        from ftui.advisor.architectures import PRESETS

        choice = self._select_value("#f-model")
        if choice != CUSTOM:
            return PRESETS[choice], f"{choice} = {PRESETS[choice].name}"
        path = self._text("#f-path")
        if not path:
            raise FieldError("Path/id: type a local model directory or a Hub id, or pick a size preset.")
        if self.custom_loading:
            raise FieldError("reading config.json …")
        if self.custom_error:
            raise FieldError(self.custom_error)
        if self.custom_arch is None:
            raise FieldError("press Enter in Path/id to read its config.json.")
        return self.custom_arch, path

    def current_config(self) -> RunConfig:
        """The form as a RunConfig: the calculator prices it exactly as the Train form and ``ftui train`` do."""
        from ftui.config import RunConfig

        method = self._select_value("#f-method")
        for wid in ("#f-rank", "#f-targets"):
            self.query_one(wid).disabled = method == "full"
        rank = 16
        if method != "full":
            text = self._text("#f-rank")
            try:
                rank = int(text)
            except ValueError:
                raise FieldError("LoRA rank: type a whole number (8–64 is typical).") from None
        gc = {"on": True, "off": False}.get(self._select_value("#f-gc"), "auto")
        return RunConfig(
            method=method,  # type: ignore[arg-type]
            max_seq_len=self._int("#f-seq", "Seq len"),
            micro_batch_size=self._int("#f-batch", "Batch"),
            gradient_checkpointing=gc,
            optimizer=self._select_value("#f-optim"),
            precision=self._select_value("#f-precision"),
            lora_r=rank,
            target_modules=self._select_value("#f-targets"),
        )

    def current_setup(self, arch: Architecture, gpu_gb: float | None) -> TrainSetup:
        from dataclasses import replace

        from ftui.train.preflight.estimate import train_setup

        setup = train_setup(self.current_config(), arch, gpu_gb)
        loss = self._select_value("#f-loss")
        return setup if loss == "auto" else replace(setup, loss=loss)

    def current_gpu_gb(self) -> tuple[float | None, str | None]:
        if self._text("#f-gpu"):
            return self._float("#f-gpu", "GPU GB"), "typed"
        return self.gpu_detected_gb, self.gpu_label

    def recompute(self) -> None:
        """Re-estimate from the form. Pure arithmetic: cheap enough for every keystroke."""
        from ftui.advisor.errors import AdvisorError
        from ftui.advisor.vram import cheapest_fix, estimate

        if not self._ready:
            return
        error = self.query_one("#mem-error", Static)
        self.estimate, self.fix, self.error = None, None, None
        try:
            arch, label = self.current_arch()
            gpu_gb, gpu_label = self.current_gpu_gb()
            setup = self.current_setup(arch, gpu_gb)
            est = estimate(arch, setup, gpu_gb)
            fix = cheapest_fix(arch, setup, gpu_gb) if est.fits is False else None
        except (FieldError, AdvisorError) as exc:
            self.error = str(exc)
            error.update(Text(one_line(str(exc), 400)))
            error.display = True
            self.query_one("#breakdown", Static).display = False
            self.query_one("#fix", Static).display = False
            self.query_one("#model-line", Static).update("")
            self.recompute_cost()
            return
        self.estimate, self.fix = est, fix
        error.display = False
        breakdown = self.query_one("#breakdown", Static)
        breakdown.display = True
        self.query_one("#fix", Static).display = True
        self.query_one("#model-line", Static).update(render_model_line(est, label))
        width = self.query_one("#calc-pane").size.width - 32
        breakdown.update(render_breakdown(est, gpu_label, bar_width=max(8, min(width, 36))))
        self.query_one("#fix", Static).update(render_fix(est, fix))
        self.recompute_cost()

    def recompute_cost(self) -> None:
        from ftui.advisor.errors import AdvisorError

        if not self._ready:
            return
        self.cost_lines = []
        try:
            self.cost_lines = self._cost_lines()
        except (FieldError, AdvisorError) as exc:
            if self.cost_form is None:
                return
            error = self.query_one("#cost-error", Static)
            error.update(Text(one_line(str(exc), 400)))
            error.display = True
            self.query_one("#cost-result", Static).update("")
            return
        if self.cost_form is None:
            return
        self.query_one("#cost-error", Static).display = False
        self.query_one("#cost-result", Static).update(render_cost(self.cost_lines))

    def _cost_lines(self) -> list[tuple[str, str, str]]:
        from ftui.advisor import cost as cost_mod

        money = cost_mod.money
        if self._text("#c-tokens"):
            tokens = self._int("#c-tokens", "Tokens")
        elif self.dataset_tokens is not None:
            tokens = self.dataset_tokens.tokens
        else:
            raise FieldError("Tokens: type the training tokens per epoch (no dataset is open).")
        epochs = self._float("#c-epochs", "Epochs")
        oa = cost_mod.openai_training_cost(tokens, epochs, self._select_value("#c-openai"))
        lines = [("OpenAI training", money(oa.cost), f"{oa.billable_tokens:,} billable tokens × ${oa.price_per_m:g}/1M")]
        sh = None
        if self.estimate is not None:
            hourly = self._float("#c-hourly", "$/hour", allow_zero=True) if self._text("#c-hourly") else None
            arch, setup = self.estimate.arch, self.estimate.setup
            sh = cost_mod.self_hosted_cost(arch.n_params, setup.method, tokens, epochs, self._select_value("#c-gpu"),
                                           hourly)
            lines.append(("Self-hosted", money(sh.cost), f"{cost_mod.duration(sh.hours)} on {sh.gpu} at "
                          f"${sh.hourly:.2f}/h, {sh.tokens_per_s:,.0f} tok/s"))
            lines.append(("", "", f"assumes {sh.assumption.split(' = ')[0]}"))
        else:
            lines.append(("Self-hosted", "—", "fix the memory form first"))
        if not self._text("#c-requests"):
            lines.append(("Break-even", "—", "type requests/day to see when the fine-tune pays back"))
            return lines
        requests = self._int("#c-requests", "Req/day")
        prices = cost_mod.load_prices()
        before = prices.openai_base[self._select_value("#c-today")]
        serve = self._select_value("#c-serve")
        if serve == "openai":
            after, fixed, train_cost = prices.openai_finetune[oa.model], 0.0, oa.cost
        else:
            if sh is None:
                raise FieldError("self-hosted serving needs a valid memory form (model and method).")
            after, fixed, train_cost = {"input_per_m": 0.0, "output_per_m": 0.0}, sh.hourly * 24, sh.cost
        be = cost_mod.break_even(train_cost, requests, self._int_or_zero("#c-before", "Prompt now"),
                                 self._int_or_zero("#c-after", "Prompt FT"), self._int_or_zero("#c-output", "Output"),
                                 before["input_per_m"], before["output_per_m"], after["input_per_m"],
                                 after["output_per_m"], fixed)
        lines.append(("Cost today", money(be.cost_before_per_day) + "/day",
                      f"{self._select_value('#c-today')} with the long prompt"))
        lines.append(("Cost after", money(be.cost_after_per_day) + "/day",
                      "fine-tuned on OpenAI" if serve == "openai" else f"one {sh.gpu} 24 h/day"))
        if be.days is None:
            lines.append(("Break-even", "never", f"saving {money(be.saving_per_day)}/day: fine-tuning costs more here"))
        else:
            lines.append(("Break-even", cost_mod.duration(be.days * 24),
                          f"saves {money(be.saving_per_day)}/day, {be.tokens_saved_per_day:,} prompt tokens/day"))
        return lines

    def _int_or_zero(self, wid: str, name: str) -> int:
        text = self._text(wid)
        try:
            value = int(text or "0")
        except ValueError:
            raise FieldError(f"{name}: type a whole number.") from None
        if value < 0:
            raise FieldError(f"{name} cannot be negative.")
        return value

    def on_input_changed(self, event: Input.Changed) -> None:
        from textual.widgets import Select

        if event.input.id == "f-path":
            self.custom_arch, self.custom_error = None, None
            if self._select_value("#f-model") != CUSTOM and event.value.strip():
                self.query_one("#f-model", Select).value = CUSTOM
            self.model_chosen = True
            if self._path_timer is not None:
                self._path_timer.stop()
            self._path_timer = self.set_timer(0.6, self._load_path)
        if event.input.id and event.input.id.startswith("c-"):
            self.recompute_cost()
        else:
            self.recompute()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "f-path":
            return
        if self._path_timer is not None:
            self._path_timer.stop()
        self._load_path()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-model":
            if event.value not in (CUSTOM, self._initial_model):
                self.model_chosen = True
            if event.value == CUSTOM and self.custom_arch is None and self._text("#f-path"):
                self._load_path()
        if event.select.id and event.select.id.startswith("c-"):
            self.recompute_cost()
        else:
            self.recompute()

    # ---------------------------------------------------------------- workers
    def _load_path(self) -> None:
        text = self._text("#f-path")
        if not text or self._select_value("#f-model") != CUSTOM:
            return
        self.custom_loading = True
        self.recompute()
        self.load_model_worker(text)

    @work(thread=True, exclusive=True, group="plan-model")
    def load_model_worker(self, text: str) -> None:
        from ftui.advisor.errors import AdvisorError
        from ftui.advisor.model_config import architecture_for

        try:
            arch, error = architecture_for(text), None
        except AdvisorError as exc:
            arch, error = None, str(exc)
        except Exception as exc:  # noqa: BLE001 - never a traceback on screen
            arch, error = None, f"cannot read the model's config: {type(exc).__name__}: {exc}"
        self.app.call_from_thread(self._model_loaded, text, arch, error)

    def _model_loaded(self, text: str, arch: Architecture | None, error: str | None) -> None:
        if text != self._text("#f-path"):
            return  # the user typed on; a newer load is coming
        self.custom_loading = False
        self.custom_arch, self.custom_error = arch, error
        if error:
            self.notify(one_line(error, 300), title="Model", severity="error", timeout=6)
        self.recompute()

    @work(thread=True, exclusive=True, group="plan-gpu")
    def detect_gpu_worker(self) -> None:
        from ftui.advisor.gpu import detect_gpu

        info = detect_gpu()
        self.app.call_from_thread(self._gpu_detected, info)

    def _gpu_detected(self, info) -> None:  # noqa: ANN001
        from textual.widgets import Input

        if info is None:
            self.gpu_detected_gb, self.gpu_label = None, "no GPU detected"
        else:
            self.gpu_detected_gb = info.total_gb
            self.gpu_label = "FTUI_GPU_GB" if info.source == "env" else one_line(info.name, 40)
            self.query_one("#f-gpu", Input).placeholder = f"auto: {info.total_gb:.0f}"
        self.recompute()

    @work(thread=True, exclusive=True, group="plan-tokens")
    def count_tokens_worker(self) -> None:
        from ftui.data.source import DatasetError
        from ftui.data.stats import dataset_tokens

        workspace = getattr(self.app, "workspace", None)
        path = getattr(workspace, "data_path", None)
        if path is None:
            return
        try:
            counted = dataset_tokens(path)
        except DatasetError:
            return
        self.app.call_from_thread(self._tokens_counted, counted)

    def _tokens_counted(self, counted: DatasetTokens) -> None:
        from textual.widgets import Input

        self.dataset_tokens = counted
        text = Text()
        text.append("Dataset: ", style="bold")
        text.append(one_line(Path(counted.path).name, 60))
        text.append(f" · {counted.examples:,} examples · ~{counted.tokens:,} tokens/epoch (≈ chars/4)", style="dim")
        self._cost_data, self._tokens_placeholder = text, f"dataset: {counted.tokens:,}"
        if self.cost_form is not None:
            self.query_one("#cost-data", Static).update(text)
            self.query_one("#c-tokens", Input).placeholder = self._tokens_placeholder
        self.recompute_cost()

    # ---------------------------------------------------------------- actions
    def plan_overrides(self) -> dict:
        from ftui.advisor.architectures import PRESET_HUB_IDS
        from ftui.advisor.overrides import plan_overrides

        setup = self.estimate.setup if self.estimate is not None else None
        model = None
        if self.model_chosen:
            choice = self._select_value("#f-model")
            model = PRESET_HUB_IDS.get(choice) if choice != CUSTOM else self._text("#f-path") or None
        overrides = plan_overrides(self.walker.outcome, setup, model)
        if setup is not None:
            overrides["precision"] = self._select_value("#f-precision")  # the form holds RunConfig precisions
            if self._select_value("#f-gc") == "auto":
                overrides["gradient_checkpointing"] = "auto"  # decided again on the GPU the run trains on
        if self.grad_accum > 1:
            overrides["grad_accum"] = self.grad_accum
        return overrides

    async def action_use_plan(self) -> None:
        """Carry the plan to Train. The first visit builds the Train screen (seconds on a busy machine): the
        notice and the mode bar's "Opening Train…" are drawn first, and the screen is built after that frame."""
        outcome = self.walker.outcome
        if outcome is None and self.estimate is None:
            self.notify("Answer the questions or fix the memory form first; there is no plan yet.",
                        severity="warning")
            return
        overrides = self.plan_overrides()
        self.app.workspace.plan_overrides = overrides  # type: ignore[attr-defined]
        summary = ", ".join(f"{k}={v}" for k, v in overrides.items() if k in ("method", "lora_r", "learning_rate",
                                                                               "num_epochs", "max_seq_len"))
        severity = "information"
        if outcome is not None and not outcome.trains:
            severity = "warning"
            summary = f"'{outcome.method_label}' is the advice; carried the later fine-tune settings: {summary}"
        elif outcome is None:
            summary = f"no outcome yet; carried the estimator settings: {summary}"
        self.notify(summary, title="Plan carried to Train", severity=severity, timeout=6)
        await self.app.run_action("switch_mode('train')")

    def action_apply_fix(self) -> None:
        """Put the cheapest fix into the form (the estimate then recomputes and should fit)."""
        from textual.widgets import Input, Select

        if self.fix is None or not self.fix.changes:
            message = "It already fits." if self.estimate is not None and self.estimate.fits else "No fix to apply."
            self.notify(message, timeout=3)
            return
        widgets = {"grad_checkpointing": "#f-gc", "optimizer": "#f-optim", "method": "#f-method",
                   "micro_batch": "#f-batch", "lora_r": "#f-rank", "seq_len": "#f-seq", "precision": "#f-precision"}
        for change in self.fix.changes:
            wid = widgets[change.field]
            if change.field == "grad_checkpointing":
                self.query_one(wid, Select).value = "on"
            elif change.field == "precision":
                from ftui.advisor.overrides import config_precision

                self.query_one(wid, Select).value = config_precision("full", str(change.value))
            elif change.field in ("optimizer", "method"):
                self.query_one(wid, Select).value = str(change.value)
            else:
                if change.field == "micro_batch" and self.estimate is not None:
                    self.grad_accum *= max(1, self.estimate.setup.micro_batch // int(change.value))
                self.query_one(wid, Input).value = str(change.value)
        self.notify("; ".join(c.says for c in self.fix.changes), title="Fix applied", timeout=5)

    def action_save_record(self) -> None:
        from ftui.advisor.record import render_record, save_record

        extra = []
        if self.cost_lines:
            extra = ["## Cost", ""] + [f"- {label or ' '}: {value} {detail}".rstrip() for label, value, detail in
                                       self.cost_lines]
        try:
            path = save_record(render_record(self.walker, self.estimate, extra=extra))
        except OSError as exc:
            self.notify(f"Could not write the record: {exc.strerror or exc}. Run ftui from a writable directory.",
                        severity="error")
            return
        self.last_record_path = path
        self.notify(Text(one_line(str(path), 200)).plain, title="Decision record saved", timeout=8)
