"""The launcher form: every RunConfig field, presets, inline validation, VRAM preflight.

Generated from ``ftui.train.config_fields`` so a new config field appears here by
itself. A field that cannot be parsed, or that the engine's ``validate`` rejects,
turns red and its help text is replaced by the reason and the fix. The slow checks
(datasets, lint, model, GPU, memory estimate) run in a thread worker after the user
pauses typing; the form never blocks.
"""

from __future__ import annotations

import threading
from dataclasses import fields, replace
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Button, Checkbox, Collapsible, Input, Select, Static

from ftui.config import ConfigProblem, RunConfig
from ftui.textsafe import one_line
from ftui.train.config_fields import (
    SPECS,
    FieldError,
    FieldSpec,
    format_value,
    parse_value,
    preset_names,
    preset_values,
)
from ftui.tui.widgets.choice import Choice
from ftui.tui.widgets.field import FieldColumn, TextField
from ftui.tui.widgets.form_row import FormRow, FormSection
from ftui.tui.widgets.hanging import hanging

DEEP_CHECK_DELAY_S = 0.6
# One deep check at a time: a superseded thread worker runs on, and two threads importing transformers
# for the first time at once break its lazy module ("cannot import name 'AutoConfig'").
CHECK_LOCK = threading.Lock()
REVALIDATE_DELAY_S = 0.05
DATA_FIELDS = ("train_path", "eval_path", "data_format")
SECTIONS = (
    ("advanced", "Advanced: schedule, packing, optimizer, eval and checkpoints, seed"),
    ("qlora", "QLoRA quantisation"),
    ("openai", "OpenAI fine-tuning"),
)


class DeepCheckDone(Message):
    """Result of the slow checks (validate with files/model/env, preflight) for one form state."""

    def __init__(self, generation: int, problems: list[ConfigProblem], preflight: Any,
                 lint_counts: dict[str, int] | None = None) -> None:
        super().__init__()
        self.generation = generation
        self.problems = problems
        self.preflight = preflight
        self.lint_counts = lint_counts  # the train file's lint summary (errors, warnings, rows_with_errors)


class LauncherForm(Horizontal):
    """Left: the fields. Right: dataset, preflight, problems, the start button."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self._base = RunConfig()
        self.parse_errors: dict[str, str] = {}
        self.problems: list[ConfigProblem] = []
        self.deep_problems: list[ConfigProblem] = []
        self.preflight: Any = None
        self._generation = 0
        self._loading = False
        self._deep_timer = None
        self._deep_waiting: tuple[RunConfig, int] | None = None  # a check due while the Train mode was away
        self._deep_due: tuple[RunConfig, int] | None = None  # the check the deep timer will start
        self._revalidate_timer = None
        self._shown: dict[str, str | None] = {}
        self._side_shown: dict[str | None, tuple] = {}  # what each side panel Static shows (_show_side)
        self._data_cache: tuple[tuple, list[ConfigProblem]] | None = None
        self._preset_shown: list[str] = []
        self._plan_offered = False
        self.deep_pending = True
        self.data_from: str | None = None  # the train_path the Data screen put in (shown as such while it stays)
        self.lint_counts: dict[str, int] | None = None
        self._lint_counts: dict[str, int] | None = None  # the deep check's, cached with the data problems
        # The collapsed sections' rows (two thirds of the form's ~300 widgets) are built when a section
        # first opens, or a field of it is asked for: until then their values are kept here, as the
        # widgets would hold them (a bool, a choice or the text).
        self._unbuilt: dict[str, Any] = {
            spec.name: _widget_value(spec, getattr(self._base, spec.name))
            for spec in SPECS.values() if spec.section != "basic"
        }
        self._mounting: dict[str, Any] = {}  # fields of a section just built, until their rows have mounted

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with FieldColumn(id="form-fields"):
            yield self._row_for_preset()
            for spec in SPECS.values():
                if spec.section == "basic":
                    yield self._row(spec)
            for section, title in SECTIONS:
                yield FormSection(title=title, collapsed=True, id=f"sec-{section}")
        with Vertical(id="form-side"):
            yield Static("", id="form-dataset")
            yield Static(Text("checking memory…", style="dim"), id="form-preflight")
            yield Static("", id="form-problems")
            yield Button("Start run  (F5)", id="form-start", variant="success")

    def _row_for_preset(self) -> FormRow:
        select = Choice([(n, n) for n in preset_names(False)], value="custom", allow_blank=False, compact=True,
                        id="f-preset")
        return FormRow("preset", select, "fills the fields below", classes="field-row")

    def _row(self, spec: FieldSpec, mount_field: bool = True) -> FormRow:
        """The row of field ``spec``: its label, its widget holding the form's value, and its help (or problem)."""
        row = FormRow(spec.label, self._field_widget(spec, self._row_value(spec)), self._help_for(spec),
                      classes="field-row", id=f"row-{spec.name}", mount_field=mount_field)
        row.set_class(self._shown.get(spec.name) is not None, "-invalid", update=False)
        return row

    def _row_value(self, spec: FieldSpec) -> Any:
        if spec.name in self._unbuilt:
            return self._unbuilt.pop(spec.name)
        return _widget_value(spec, getattr(self._base, spec.name))

    def _help_for(self, spec: FieldSpec) -> str | Text:
        message = self._shown.get(spec.name)
        return Text(one_line(message, 1000)) if message else spec.help  # wrapped in full

    def _field_widget(self, spec: FieldSpec, value: Any) -> Any:
        """The field of one row, holding ``value`` (as ``_widget_value`` gives it)."""
        widget: Any
        if spec.kind == "bool":
            widget = Checkbox("", value=bool(value), compact=True, id=f"f-{spec.name}")
        elif spec.kind == "choice":
            widget = Choice([(c, c) for c in spec.choices], value=value, allow_blank=False,
                            compact=True, id=f"f-{spec.name}")
        else:
            widget = TextField(value, compact=True, id=f"f-{spec.name}")
        widget.tooltip = spec.help or None
        return widget

    def build_section(self, section: str) -> None:
        """Build a collapsed section's rows now (they are queryable at once; each field mounts next)."""
        names = [spec.name for spec in SPECS.values() if spec.section == section and spec.name in self._unbuilt]
        if not names:
            return
        contents = self.query_one(f"#sec-{section}", Collapsible).query_one(Collapsible.Contents)
        for name in names:
            # the row first, then its field: a Select mounted as part of a row mounted into an already mounted
            # section runs its on_mount before its own parts are composed (NoMatches '#label')
            value = self._unbuilt[name]
            row = self._row(SPECS[name], mount_field=False)
            contents.mount(row)
            row.mount(row.field)
            # until the field has mounted it is read and set here: an unmounted Select reads Select.NULL, which a
            # start or a check then took for a wrong value ("load_in_4bit_quant_type: one of nf4, fp4"; stress run)
            self._mounting[name] = _Pending(row.field, value)
            row.field.call_later(self._field_mounted, name)  # runs once the field has mounted

    @on(Collapsible.Expanded)
    def _section_opened(self, event: Collapsible.Expanded) -> None:
        self.build_section(str(event.collapsible.id).removeprefix("sec-"))

    def query_one(self, selector: Any, expect_type: Any = None) -> Any:
        """Textual's query_one; a field of a section not built yet (``#f-`` or ``#row-`` + its name) is built first."""
        if isinstance(selector, str) and selector.startswith(("#f-", "#row-")):
            name = selector.split("-", 1)[1]
            if name in self._unbuilt:
                self.build_section(SPECS[name].section)
        return super().query_one(selector, expect_type) if expect_type is not None else super().query_one(selector)

    def _field(self, name: str) -> Any:
        """The widget of field ``name``, or the value it will be built with (``_Unbuilt``) while its section is not,
        or the value it was built with (``_Pending``) while it mounts."""
        if name in self._unbuilt:
            return _Unbuilt(self._unbuilt, name)
        if name in self._mounting:
            return self._mounting[name]
        try:
            return super().query_one(f"#f-{name}")
        except NoMatches:
            # a section just built: the field is mounted into its row once the row has mounted. A revalidation
            # due meanwhile (a plan's QLoRA settings applied on a first switch) read it and ended ftui (NoMatches)
            if name in self._mounting:
                return self._mounting[name]
            raise

    def _field_mounted(self, name: str) -> None:
        """A field of a section just built has mounted: a value set while it was mounting reaches it now."""
        pending = self._mounting.pop(name, None)
        if pending is None or not pending.changed:
            return
        self._loading = True
        try:
            pending.widget.value = pending.value
        finally:
            self._loading = False
        self.schedule_revalidate()

    def on_mount(self) -> None:
        self.query_one("#form-fields").border_title = "new run"
        self.query_one("#form-side").border_title = "before you start"
        self.schedule_revalidate()

    # ------------------------------------------------------------------ values
    def set_values(self, values: dict[str, Any], base: RunConfig | None = None) -> None:
        """Fill the form (from a preset, the plan, a workspace or a past run's config)."""
        if base is not None:
            self._base = base
            values = {f.name: getattr(base, f.name) for f in fields(RunConfig)} | values
        self._loading = True
        try:
            for name, value in values.items():
                spec = SPECS.get(name)
                if spec is None:
                    continue
                widget = self._field(name)
                if isinstance(widget, (_Unbuilt, _Pending)):
                    if spec.kind != "choice" or format_value(spec, value) in spec.choices:
                        widget.value = _widget_value(spec, value)
                elif isinstance(widget, Checkbox):
                    widget.value = bool(value)
                elif isinstance(widget, Select):
                    if format_value(spec, value) in spec.choices:
                        widget.value = format_value(spec, value)
                elif isinstance(widget, Input):
                    widget.value = format_value(spec, value)
        finally:
            self._loading = False
        self.schedule_revalidate()

    def show_preset(self, name: str) -> None:
        """Show ``name`` as the chosen preset without applying it again (the caller filled the values)."""
        select = self.query_one("#f-preset", Select)
        if select.value != name:
            self._preset_shown.append(name)
            select.value = name

    def offer_plan_preset(self, available: bool) -> None:
        select = self.query_one("#f-preset", Select)
        names = preset_names(available)
        if available == self._plan_offered:
            return
        self._plan_offered = available
        current = str(select.value)
        select.set_options([(n, n) for n in names])  # resets to the first option, "custom": a no-op
        self.show_preset(current if current in names else "custom")

    def raw_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(parsed values, parse errors) of every field as typed."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in SPECS.values():
            widget = self._field(spec.name)
            if isinstance(widget, Checkbox) or spec.kind == "bool":
                values[spec.name] = widget.value
                continue
            text = str(widget.value) if isinstance(widget, Select) else widget.value
            try:
                values[spec.name] = parse_value(spec, text)
            except FieldError as exc:
                errors[spec.name] = str(exc)
        return values, errors

    def config(self) -> RunConfig | None:
        """The config as typed, or None when a field cannot be parsed."""
        values, errors = self.raw_values()
        if errors:
            return None
        return replace(self._base, **values)

    @property
    def all_problems(self) -> list[tuple[str, str]]:
        """(field, message) of everything wrong now: parse errors first, then the engine's checks."""
        out = [(name, f"{message}") for name, message in self.parse_errors.items()]
        seen = {(n, m) for n, m in out}
        for p in self.problems + self.deep_problems:
            item = (p.field, f"{p.message}. {p.fix}")
            if item not in seen and p.field not in self.parse_errors:
                seen.add(item)
                out.append(item)
        return out

    # ------------------------------------------------------------------ validation
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event: Message) -> None:
        if self._loading:
            return
        control = getattr(event, "control", None) or getattr(event, "select", None)
        if control is not None and control.id == "f-preset":
            if str(event.value) in self._preset_shown:  # type: ignore[attr-defined]
                self._preset_shown.remove(str(event.value))  # type: ignore[attr-defined]
                return  # set by show_preset: the values are already in
            self._apply_preset(str(event.value))  # type: ignore[attr-defined]
            return
        if control is not None and control.id == "f-method":
            section = {"qlora": "qlora", "openai": "openai"}.get(str(event.value))  # type: ignore[attr-defined]
            if section:
                self.query_one(f"#sec-{section}", Collapsible).collapsed = False
        self.schedule_revalidate()

    def schedule_revalidate(self) -> None:
        """Coalesce a burst of changes (a preset fills ten fields) into one validation."""
        self.deep_pending = True
        if self._revalidate_timer is not None:
            self._revalidate_timer.stop()
        self._revalidate_timer = self.set_timer(REVALIDATE_DELAY_S, self.revalidate)

    def revalidate_now(self) -> None:
        """Run a pending revalidation now: the form's problems and side panels then make the screen's first
        layout, not a relayout of the whole screen 50 ms after it."""
        if self._revalidate_timer is not None:
            self._revalidate_timer.stop()
            self.revalidate()

    def _apply_preset(self, name: str) -> None:
        if name == "custom":
            return
        overrides = getattr(self.app, "workspace", None)
        plan = getattr(overrides, "plan_overrides", {}) if overrides is not None else {}
        self.set_values(preset_values(name, plan))

    def revalidate(self) -> None:
        """Cheap checks now (parse + the field checks); deep checks (preflight) after a pause."""
        from ftui.train.preflight import field_checks

        self._revalidate_timer = None
        values, self.parse_errors = self.raw_values()
        # fields that do not parse keep their last good value, so the others are still checked
        candidate = replace(self._base, **values)
        self.problems = field_checks(candidate)
        config = None if self.parse_errors else candidate
        self._show_field_states()
        if self.is_mounted and not self._loading:
            self.remember()
        self._generation += 1
        if self._deep_timer is not None:
            self._deep_timer.stop()
        self.deep_pending = config is not None
        if config is not None:
            self._schedule_deep_check(config, self._generation)
        self._update_side()

    def _schedule_deep_check(self, config: RunConfig, generation: int) -> None:
        if self._deep_timer is not None:
            self._deep_timer.stop()
            self._deep_timer = None
        if self.screen not in self.app.screen_stack:
            # built ahead, or a change that lands after the user left (a field's late Changed): it waits for the
            # screen to show (``resume_deep_check``), as one that fell due while it was away does
            self._deep_waiting, self._deep_due = (config, generation), None
            return
        self._deep_due = (config, generation)
        self._deep_timer = self.set_timer(DEEP_CHECK_DELAY_S, lambda: self._deep_check_if_shown(config, generation))

    def _deep_check_if_shown(self, config: RunConfig, generation: int) -> None:
        """Start the slow checks while the Train mode shows. They import the model's libraries (a second of CPU
        the first time): a check that falls due after the user went to another mode would slow that mode's
        first switch, so it waits until the Train screen comes back (``resume_deep_check``)."""
        self._deep_timer = self._deep_due = None
        if self.screen not in self.app.screen_stack:
            self._deep_waiting = (config, generation)
            return
        self._deep_check(config, generation)

    def pause_deep_check(self) -> None:
        """The Train screen goes: a check not started yet waits for it to come back, and starts once it has
        shown for DEEP_CHECK_DELAY_S again. Twenty quick mode switches then start none (each would have
        left a timer behind, and the check, seconds of CPU in a thread, slowed every switch after it)."""
        if self._deep_timer is not None:
            self._deep_timer.stop()
            self._deep_timer = None
        if self._deep_due is not None:
            self._deep_waiting, self._deep_due = self._deep_due, None

    def resume_deep_check(self) -> None:
        """The Train screen shows again: run the check that fell due while it was away (if still current)."""
        waiting, self._deep_waiting = self._deep_waiting, None
        if waiting is not None and waiting[1] == self._generation:
            self._schedule_deep_check(*waiting)

    @work(thread=True, exclusive=True, group="form-deep-check", exit_on_error=False)
    def _deep_check(self, config: RunConfig, generation: int) -> None:
        with CHECK_LOCK:
            if generation != self._generation:
                return  # the form changed while another check ran: a newer one is coming
            self._run_deep_check(config, generation)

    def _run_deep_check(self, config: RunConfig, generation: int) -> None:
        from ftui.train.preflight import preflight, validate

        try:
            # the data checks lint whole files: redo them only when a data path or file changes
            key = _data_key(config)
            cached = self._data_cache
            if cached is not None and cached[0] == key:
                problems = validate(config, check_files=False, check_model=True) + cached[1]
            else:
                problems = validate(config, check_model=True)
                self._data_cache = (key, [p for p in problems if p.field in DATA_FIELDS])
                self._lint_counts = _lint_counts(config.train_path)
        except Exception as exc:  # noqa: BLE001 - a checker bug must not break the form
            problems = [ConfigProblem("model", f"could not check: {one_line(str(exc))}", "Check the model and paths.")]
        result = preflight(config)
        self.post_message(DeepCheckDone(generation, problems, result, self._lint_counts))

    @on(DeepCheckDone)
    def _deep_done(self, message: DeepCheckDone) -> None:
        if message.generation != self._generation:
            return  # the form changed since; a newer check is coming
        cheap = {(p.field, p.message) for p in self.problems}
        self.deep_problems = [p for p in message.problems if (p.field, p.message) not in cheap]
        self.preflight = message.preflight
        self.lint_counts = message.lint_counts
        self.deep_pending = False
        self._show_field_states()
        self._update_side()
        self.screen.refresh_bindings()

    @property
    def checked(self) -> bool:
        """True once the slow checks have answered for the form exactly as it is now."""
        return not self.deep_pending

    def _show_field_states(self) -> None:
        by_field: dict[str, str] = {}
        for name, message in self.all_problems:
            by_field.setdefault(name.split(".")[0], message)
        for spec in SPECS.values():
            message = by_field.get(spec.name)
            # restyling 40 rows on every keystroke is what makes a form sluggish; a row not in ``_shown`` was
            # built valid (its help, no "-invalid"): the first check re-set every help to itself, and each
            # Static.update asks for a layout of the screen (part of a ~50 ms relayout after the first paint)
            if self._shown.get(spec.name) == message:
                continue
            self._shown[spec.name] = message
            if spec.name in self._unbuilt:
                continue  # built with this state when its section opens
            row = self.query_one(f"#row-{spec.name}", FormRow)
            row.set_class(message is not None, "-invalid")
            row.set_help(self._help_for(spec))
        # open a collapsed section that hides a red field, so the user sees why
        for section, _ in SECTIONS:
            if any(SPECS[n].section == section for n in by_field if n in SPECS):
                self.query_one(f"#sec-{section}", Collapsible).collapsed = False

    def _update_side(self) -> None:
        self._update_dataset()
        self._update_preflight()
        self._update_problems()

    def header_text(self, values: dict[str, Any] | None = None) -> str:
        """The header names the file the form will train on, not the one the workspace opened first."""
        if values is None:
            values, _ = self.raw_values()
        model = values.get("model")
        return (f"{getattr(self.screen, 'TITLE_TEXT', '')} · {_file_name(values.get('train_path'), 36)}"
                f" · {'demo model' if model == 'demo' else one_line(str(model), 40)}")

    def _update_dataset(self) -> None:
        widget = self.query_one("#form-dataset", Static)
        values, _ = self.raw_values()
        dataset = Text(_file_name(values.get("train_path")))
        if self.data_from is not None and str(values.get("train_path")) == self.data_from:
            dataset.append("  from the Data screen", style="bold yellow")
        self.screen.sub_title = self.header_text(values)
        eval_path = values.get("eval_path")
        lint = Text()
        data_problems = [p for p in self.deep_problems if p.field in ("train_path", "eval_path")]
        if self.preflight is None:
            lint.append("checking…", style="dim")
        elif data_problems:
            counts = self.lint_counts
            if counts and counts.get("errors"):  # as 'ftui lint' and the Data screen count: findings, not messages
                lint.append(f"✖ {counts['errors']} error(s)", style="bold red")
                lint.append(f" · {counts.get('warnings', 0)} warning(s) in {counts.get('rows_with_errors', 0)} row(s)\n")
            else:
                lint.append(f"✖ {len(data_problems)} problem(s)\n", style="bold red")
            lint.append(one_line(data_problems[0].message, 400))  # wrapped, not cut
            lint.append("\nd: open it in the Data screen", style="dim")
            bad, left = self.skippable
            if bad:
                lint.append(f"\nb: skip {bad:,} row{'s' if bad != 1 else ''}, train on the other {left:,}", style="dim")
        elif values.get("on_bad_rows") == "skip" and self.lint_counts and self.lint_counts.get("rows_with_errors"):
            bad = self.lint_counts["rows_with_errors"]
            lint.append(f"▲ {bad:,} row(s) with errors will be skipped (on_bad_rows: skip)", style="yellow")
        else:
            lint.append("✔ no errors", style="green")
            if self.lint_counts and self.lint_counts.get("warnings"):
                lint.append(f" · {self.lint_counts['warnings']} warning(s)", style="yellow")
        # wrapped lines keep under their text, not back at the panel's edge
        eval_text = Text(_file_name(eval_path)) if eval_path else Text("held out from train", style="dim")
        self._show_side(widget, (dataset, eval_text, lint), lambda: hanging(
            [(_side_label("dataset"), dataset), (_side_label("eval"), eval_text), (_side_label("lint"), lint)]))

    def _update_preflight(self) -> None:
        widget = self.query_one("#form-preflight", Static)
        result = self.preflight
        memory = Text()
        if result is None:
            memory.append("estimating…", style="dim")
        else:
            style = {"fits": "green", "does-not-fit": "bold red", "no-gpu": "yellow"}.get(result.verdict, "dim")
            mark = {"fits": "✔ ", "does-not-fit": "✖ ", "no-gpu": "▲ "}.get(result.verdict, "")
            memory.append(mark + one_line(result.summary, 1000), style=style)
            if result.fix:
                memory.append("\ncheapest fix: ", style="bold")
                memory.append(one_line(result.fix, 1000))  # in full: the panel wraps it
                memory.append("\na: apply it", style="dim")
        self._show_side(widget, (memory,), lambda: hanging([(_side_label("memory"), memory)]))

    def _update_problems(self) -> None:
        widget = self.query_one("#form-problems", Static)
        problems = self.all_problems
        values, _ = self.raw_values()
        shape = Text()
        batch, accum = values.get("micro_batch_size"), values.get("grad_accum")
        if isinstance(batch, int) and isinstance(accum, int):
            shape.append(f"effective batch {batch * accum}")
        steps = values.get("max_steps")
        epochs = values.get("num_epochs")
        if isinstance(steps, int) and steps > 0:
            shape.append(f" · {steps} steps")
        elif isinstance(epochs, float):
            shape.append(f" · {epochs:g} epochs")
        run = hanging([(_side_label("run"), shape)])
        if not problems:
            valid = Text("✔ every field is valid", style="green")
            self._show_side(widget, (shape, valid), lambda: Group(run, Text(""), valid))
            return
        text = Text()
        text.append(f"✖ {len(problems)} problem(s) to fix before starting\n", style="bold red")
        for index, (name, message) in enumerate(problems[:6]):
            text.append(f"{name}: ", style="bold")
            # the first problem in full (its fix is often a command to copy), the rest as previews
            text.append(one_line(message, 1000 if index == 0 else 150) + "\n")
        self._show_side(widget, (shape, text), lambda: Group(run, Text(""), text))

    def _show_side(self, widget: Static, texts: tuple[Text, ...], build: Any) -> None:
        """Update a side panel Static with ``build()`` unless it shows ``texts`` already: every check re-set
        the three panels, and each Static.update lays the whole screen out again (~15-50 ms on 2 cores)."""
        key = tuple((text.plain, tuple(text.spans), str(text.style)) for text in texts)
        if self._side_shown.get(widget.id) == key:
            return
        self._side_shown[widget.id] = key
        widget.update(build())

    def remember(self) -> None:
        """Keep the fields' texts for the next launch (app.remember)."""
        remember = getattr(self.app, "remember", None)
        if remember is None:
            return
        values, _ = self.raw_values()
        texts = {name: format_value(SPECS[name], value) for name, value in values.items() if value is not None}
        remember(train_form=texts)

    def remembered_values(self) -> dict[str, Any]:
        """The fields of the last session that still parse (a field renamed or retyped since is left out)."""
        out: dict[str, Any] = {}
        for name, text in getattr(self.app, "remembered_at_start", {}).get("train_form", {}).items():
            spec = SPECS.get(name)
            if spec is None:
                continue
            try:
                out[name] = parse_value(spec, text)
            except FieldError:
                continue
        return out

    @property
    def has_data_problems(self) -> bool:
        return any(p.field in ("train_path", "eval_path") for p in self.deep_problems)

    @property
    def skippable(self) -> tuple[int, int]:
        """(bad rows that on_bad_rows: skip would leave out, the rows that would then train); (0, 0) when skipping fixes nothing."""
        return skippable_rows(self.deep_problems)

    def apply_fix(self) -> bool:
        """Apply the preflight's cheapest fix to the form; False when there is none."""
        if self.preflight is None or not self.preflight.fix_changes:
            return False
        values = {name: value for name, value in self.preflight.fix_changes if name in SPECS}
        if values.get("micro_batch_size"):
            current, _ = self.raw_values()
            old = int(current.get("micro_batch_size") or 1)
            values["grad_accum"] = int(current.get("grad_accum") or 1) * max(1, old // values["micro_batch_size"])
        self.set_values(values)
        return True

    def focus_first_problem(self) -> None:
        problems = self.all_problems
        if not problems:
            return
        name = problems[0][0].split(".")[0]
        if name in SPECS:
            self.query_one(f"#f-{name}").focus()


def skippable_rows(problems: list[Any]) -> tuple[int, int]:
    """(bad rows skipping would leave out, rows left to train) over the data problems, each file counted once;
    (0, 0) when some data problem is not one skipping fixes (a missing file, an error about the whole file)."""
    data = [p for p in problems if p.field in ("train_path", "eval_path")]
    if not data or any(not getattr(p, "skippable", 0) for p in data):
        return 0, 0
    per_file = {p.field: (p.skippable, p.rows_left) for p in data}
    bad = sum(n for n, _ in per_file.values())
    left = per_file.get("train_path", next(iter(per_file.values())))[1]
    return bad, left


def _widget_value(spec: FieldSpec, value: Any) -> Any:
    """``value`` as the field's widget holds it: a bool for a checkbox, else the text (a choice's name)."""
    return bool(value) if spec.kind == "bool" else format_value(spec, value)


class _Unbuilt:
    """A field of a section not built yet, read and set like its widget: ``value``, kept in the form's store."""

    def __init__(self, store: dict[str, Any], name: str) -> None:
        self._store, self._name = store, name

    @property
    def value(self) -> Any:
        return self._store[self._name]

    @value.setter
    def value(self, value: Any) -> None:
        self._store[self._name] = value


class _Pending:
    """A field of a section just built, until it has mounted: read and set like its widget (``value``, as the
    widget holds it), the value it was built with or set to since; ``_field_mounted`` hands a set one over."""

    def __init__(self, widget: Any, value: Any) -> None:
        self.widget, self._value = widget, value
        self.changed = False

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value, self.changed = value, True


def _file_name(value: object, width: int = 200) -> str:
    """The file name only (the full path is in the field): keeps the side panel readable."""
    from pathlib import Path

    return one_line(Path(str(value)).name, width) if value else "—"


def _side_label(name: str) -> Text:
    """A label of the side panel's column (the longest, 'dataset', and two spaces)."""
    return Text(f"{name:<9}", style="bold")


def _lint_counts(train_path: object) -> dict[str, int] | None:
    """The train file's lint counts, by finding, from the lint ``ftui lint`` and the Data screen run."""
    if not train_path:
        return None
    try:
        from ftui.data.lint.stream import lint_counts
        from ftui.paths import resolve_data_path

        return lint_counts(resolve_data_path(str(train_path)))
    except Exception:  # noqa: BLE001 - the counts are a courtesy; validate already said what is wrong
        return None


def _data_key(config: RunConfig) -> tuple:
    """Identity of the data a config reads: paths, sizes, modification times."""
    import os

    from ftui.paths import resolve_data_path

    key: list = [config.data_format, config.on_bad_rows, config.max_seq_len]  # the verdict depends on the policy and limit too
    for value in (config.train_path, config.eval_path):
        path = resolve_data_path(value) if value else None
        try:
            stat = os.stat(path) if path is not None else None
        except OSError:
            stat = None
        key.append((str(value), stat.st_size if stat else None, stat.st_mtime_ns if stat else None))
    return tuple(key)
