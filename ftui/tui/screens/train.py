"""The Train mode: launch a run, watch it live, list, reopen, compare and resume runs.

Four panels in one screen (``n`` / ``m`` / ``r`` / ``c`` show them; Tab moves between fields only):

- launcher  (``LauncherForm``)  every RunConfig field, presets, inline validation, VRAM preflight
- monitor   (``RunMonitor``)    live charts, progress, diagnostics and log of the watched run
- runs      (``RunsPanel``)     every run on disk; open, mark, compare, resume, reattach
- compare   (``ComparePanel``)  overlaid loss curves and the config diff of marked runs

Runs started here train in a thread of this process (``ftui.train.worker.start_run``);
any run — started here, by another ftui, by ``ftui train`` or ``accelerate launch`` —
is watched the same way, by tailing its event log (``tui.bridge``). Heavy work
(validation that reads files and models, starting the worker, reading logs) runs in
thread workers; the UI thread only applies events and redraws at 4 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, Static

from ftui.textsafe import one_line
from ftui.train.config_fields import preset_values
from ftui.train.events import TERMINAL_TYPES, Failed, Finished, Stopped
from ftui.tui.bridge import RunEvents, RunFeedEnded, RunSnapshot, watch_run
from ftui.tui.screens.base import ModeScreen
from ftui.tui.screens.train_form import LauncherForm
from ftui.tui.widgets.field import display_path as _display_path

if TYPE_CHECKING:  # pragma: no cover - the panels (and plotext) load when one is first shown
    from textual.widgets import DataTable

    from ftui.tui.screens.train_monitor import RunMonitor
    from ftui.tui.screens.train_runs import ComparePanel, RunsPanel

PANELS = ("launcher", "monitor", "runs", "compare")
PANEL_TITLES = {"launcher": "New run", "monitor": "Monitor", "runs": "Runs", "compare": "Compare"}
RUNS_REFRESH_S = 2.0


@dataclass
class RunStarted(Message):
    """The start (or resume) worker has a run training: watch it."""

    worker: Any  # ftui.train.worker.TrainingWorker


@dataclass(frozen=True)
class Refusal:
    """One reason a run did not start: the field at fault and the message with its fix."""

    field: str
    text: str
    data: bool = False  # the dataset's content is at fault (lint or reader): the Data screen can show it
    skippable: int = 0  # bad rows on_bad_rows: skip would leave out (0: skipping does not fix this)
    rows_left: int = 0  # the rows that would then train

    @classmethod
    def from_problem(cls, problem: Any) -> Refusal:  # ftui.config.ConfigProblem
        return cls(problem.field, f"{problem.message}. {problem.fix}", data=problem.kind == "data",
                   skippable=getattr(problem, "skippable", 0), rows_left=getattr(problem, "rows_left", 0))


@dataclass
class StartRefused(Message):
    """Nothing was started, for these reasons."""

    refusals: list[Refusal]

    @property
    def data_at_fault(self) -> bool:
        return any(r.data for r in self.refusals)

    @property
    def skippable(self) -> tuple[int, int]:
        """(bad rows, rows left) when skipping the bad rows answers every data refusal, else (0, 0)."""
        from ftui.tui.screens.train_form import skippable_rows

        return skippable_rows(self.refusals)


class ComparisonLoaded(Message):
    def __init__(self, run_dirs: list[Path], histories: list, configs: list[dict]) -> None:
        super().__init__()
        self.run_dirs = run_dirs
        self.histories = histories
        self.configs = configs


class LiveRunFound(Message):
    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir


class PanelBar(Static):
    """Which panel is showing, and the key for each."""

    DEFAULT_CSS = "PanelBar { height: 1; padding: 0 1; color: $text-muted; }"

    def show(self, current: str, run_label: str | None) -> None:
        text = Text()
        for key, panel in (("n", "launcher"), ("m", "monitor"), ("r", "runs"), ("c", "compare")):
            style = "bold reverse" if panel == current else ""
            text.append(f" {key} ", style="bold")
            text.append(f"{PANEL_TITLES[panel]} ", style=style)
            text.append("  ")
        if run_label:
            text.append("  watching ", style="dim")
            text.append(one_line(run_label, 60), style="bold")
        self.update(text)


class TrainScreen(ModeScreen):
    MODE = "train"
    TITLE_TEXT = "Train"
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (34, "-tall")]
    BINDINGS: ClassVar = [
        Binding("f5", "start", "Start run", id="train.start", priority=True),
        Binding("s", "start", "Start run", id="train.start_key", show=False),
        Binding("x", "stop", "Stop…", id="train.stop"),
        # the panels have their own keys, in the footer; Tab only moves between fields
        Binding("n", "panel('launcher')", "New run", id="train.new"),
        Binding("m", "panel('monitor')", "Monitor", id="train.monitor"),
        Binding("r", "panel('runs')", "Runs", id="train.runs"),
        Binding("c", "compare", "Compare", id="train.compare"),
        Binding("u", "resume", "Resume", id="train.resume"),
        Binding("space", "mark", "Mark", id="train.mark"),
        Binding("l", "toggle_log", "Log y", id="train.log_y"),
        Binding("e", "toggle_axis", "Step/epoch", id="train.x_axis"),
        Binding("a", "apply_fix", "Apply memory fix", id="train.apply_fix"),
        Binding("d", "open_data", "Open data", id="train.open_data"),
        Binding("b", "skip_bad_rows", "Skip bad rows…", id="train.skip_bad_rows"),
        Binding("escape", "leave_field", "Leave field", id="train.leave_field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.panel = "launcher"
        self.worker: Any = None  # the TrainingWorker started from this screen, if any
        # a start (or resume) is being checked in a thread: until RunStarted / StartRefused, refuse another
        self._starting = False
        self._log_error_shown: Any = None  # the worker whose unwritable event log was reported
        self.watched: Path | None = None
        self.ylog = False
        self.xaxis = "step"
        self.ended: list[tuple[str, str]] = []  # (run id, status) of runs seen ending live
        self._applied_overrides: dict[str, Any] | None = None
        self._workspace_applied: Any = False
        self._panels: dict[str, Any] = {}  # the panels built so far besides the launcher (see _panel)
        self._shown = False  # resumed (shown) at least once: built off-screen, it may not have been

    # ------------------------------------------------------------------ layout
    def compose_body(self) -> ComposeResult:
        yield PanelBar(id="panel-bar")
        with ContentSwitcher(initial="launcher", id="panels"):
            yield LauncherForm(id="launcher")
            # the monitor, runs and compare panels are built when first needed (``_panel``)

    def on_mount(self) -> None:
        self._show_panel_bar()
        self.set_interval(RUNS_REFRESH_S, self._refresh_runs_if_shown)
        self.set_interval(RUNS_REFRESH_S, self._report_log_error)
        # the form as the workspace has it, laid out with the screen's first frame (a screen built before it
        # shows, ftui.tui.prebuild, is then ready; on resume only a change since is applied)
        self._apply_workspace()
        self.form.revalidate_now()

    @work(thread=True, exclusive=True, group="train-find-live", exit_on_error=False)
    def _find_live_run(self) -> None:
        """A run still training (another ftui, ``ftui train``, a kept-running run): attach to the newest."""
        from ftui.train.runs import RunDirError, list_runs

        try:
            live = [s for s in list_runs() if s.live and s.status == "running"]
        except RunDirError:
            return  # the runs list says what is wrong with the directory
        if live:
            self.post_message(LiveRunFound(live[0].run_dir))

    @on(LiveRunFound)
    def _live_run_found(self, message: LiveRunFound) -> None:
        if self.watched is not None or self.panel != "launcher":
            return  # the user is already busy with something else
        self.notify(Text(f"Reattached to {one_line(message.run_dir.name, 80)}, still training."), title="Live run")
        self.open_run(message.run_dir)

    def on_screen_suspend(self) -> None:
        self.form.pause_deep_check()

    def on_screen_resume(self) -> None:
        self.form.resume_deep_check()
        self._apply_workspace()  # ModeScreen's handler runs after this one and sets the header from header_text
        if not self._shown:
            self._shown = True
            self._find_live_run()  # reattaching says so: not before the user is on this screen

    def header_text(self) -> str:
        """The file the form trains on, also when a dialog (the start question) closes, not the workspace's."""
        return self.form.header_text()

    @property
    def form(self) -> LauncherForm:
        return self.query_one(LauncherForm)

    @property
    def monitor(self) -> RunMonitor:
        return self._panel("monitor")

    @property
    def runs_panel(self) -> RunsPanel:
        return self._panel("runs")

    @property
    def compare_panel(self) -> ComparePanel:
        return self._panel("compare")

    def _panel(self, panel_id: str) -> Any:
        """The panel ``panel_id`` ("launcher" is always there), built (mounted hidden into the switcher) the first
        time it is asked for; the runs and compare panels together (compare is reached from the runs list).

        The first switch to Train shows the launcher only: building the monitor's four charts and the runs and
        compare tables (and importing plotext) made up a third of that switch (bench/mode_switch.py)."""
        panel = self._panels.get(panel_id)
        if panel is not None:
            return panel
        if panel_id == "launcher":
            return self.form
        if panel_id == "monitor":
            from ftui.tui.screens.train_monitor import RunMonitor

            built = [RunMonitor(id="monitor")]
        else:
            from ftui.tui.screens.train_runs import ComparePanel, RunsPanel

            built = [RunsPanel(id="runs"), ComparePanel(id="compare")]
        for widget in built:
            widget.display = False  # as the switcher shows only its current panel
            self._panels[str(widget.id)] = widget
        self.query_one("#panels", ContentSwitcher).mount(*built)
        return self._panels[panel_id]

    def _apply_workspace(self) -> None:
        """Fill the form from the workspace once, and from the Plan's "use this plan" whenever it changes."""
        workspace = getattr(self.app, "workspace", None)
        if workspace is None:
            return
        seen = (workspace.data_path, workspace.eval_path, workspace.model)
        if seen != self._workspace_applied:
            # first visit, or the Data screen opened another file since: follow the workspace
            first = self._workspace_applied is False
            self._workspace_applied = seen
            values: dict[str, Any] = {"model": workspace.model}
            if workspace.data_path is not None:
                values["train_path"] = _display_path(workspace.data_path)
                values["eval_path"] = _display_path(workspace.eval_path) if workspace.eval_path else None
            remembered = self.form.remembered_values() if first else {}
            if remembered:
                # the form as the last session left it; the workspace's dataset and model win
                values = {**remembered, **{k: v for k, v in values.items() if v is not None}}
            elif first and workspace.is_demo:
                # the demo workspace: the run that learns the task (~1 min on 2 CPU cores), so the blind A/B
                # after it has a real difference to find; demo-quick (20 steps, the loop only) is in the presets
                values = {**values, **preset_values("demo-long")}
                self.form.show_preset("demo-long")
            if (not first or workspace.opened_in_data) and values.get("train_path"):
                self.form.data_from = str(values["train_path"])  # said beside the dataset while it stays
            self.form.set_values(values)
            if not first and self._shown:
                self.notify(Text(f"Dataset and model follow the workspace: {one_line(workspace.describe(), 80)}"))
        overrides = dict(workspace.plan_overrides or {})
        self.form.offer_plan_preset(bool(overrides))
        if overrides and overrides != self._applied_overrides:
            self._applied_overrides = overrides
            self.form.set_values(overrides)
            self.form.show_preset("plan")
            self.notify("Filled the form from the plan; check it and press F5 to start.", title="Plan applied")
            self.show_panel("launcher")

    def prefill(self, values: dict[str, Any], note: str) -> None:
        """Fill the form with a run prepared elsewhere (a DPO run from votes) and say what it is; F5 starts it."""
        self.form.set_values(values)
        self.form.show_preset("custom")
        self.show_panel("launcher")
        self.notify(Text(one_line(note, 300)), title="DPO run from votes: check it and press F5", timeout=8)

    # ------------------------------------------------------------------ panels
    def show_panel(self, panel: str) -> None:
        self.panel = panel
        self._panel(panel)  # built on first show
        self.query_one("#panels", ContentSwitcher).current = panel
        if panel == "runs":
            self.runs_panel.reload()
            self.runs_panel.focus_table()
        elif panel != "launcher" and isinstance(self.focused, Input):
            self.set_focus(None)
        self._show_panel_bar()
        self.refresh_bindings()

    def _show_panel_bar(self) -> None:
        self.query_one(PanelBar).show(self.panel, self.watched.name if self.watched else None)

    def action_panel(self, panel: str) -> None:
        self.show_panel(panel)

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def _refresh_runs_if_shown(self) -> None:
        if self.panel == "runs":
            self.runs_panel.reload()

    def _report_log_error(self) -> None:
        """Our run's event log could not be written: the monitor, fed by that log, cannot say so itself."""
        worker = self.worker
        error = getattr(worker, "log_error", None)
        if error and worker is not self._log_error_shown:
            self._log_error_shown = worker
            self.notify(Text(one_line(error, 300)), title="Event log not written", severity="error", timeout=30)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        panel = self.panel
        if action == "start":
            return panel == "launcher"
        if action in ("apply_fix", "open_data", "skip_bad_rows"):
            # the footer asks as the screen mounts, before the form is (nothing checked yet, nothing to offer)
            form = self.query_one_optional(LauncherForm)
            if panel != "launcher" or form is None:
                return False
            if action == "apply_fix":
                return bool(form.preflight and form.preflight.fix_changes)
            if action == "open_data":
                return form.has_data_problems
            return form.skippable[0] > 0
        if action == "stop":
            return panel == "monitor" and self._watched_is_live()
        if action in ("toggle_log", "toggle_axis"):
            return panel in ("monitor", "compare")
        if action in ("mark", "compare"):
            return panel in ("runs", "compare")
        if action == "resume":
            if panel == "monitor":
                history = self.monitor.history
                return history is not None and (
                    history.status in _resumable() or (history.status == "running" and not self._watched_is_live())
                )
            return panel == "runs"
        return True

    # ------------------------------------------------------------------ start
    def action_start(self) -> None:
        form = self.form
        config = form.config()
        problems = form.all_problems
        if config is None or problems:
            self._refuse(problems, lint=form.has_data_problems, skippable=form.skippable)
            return
        if self._busy("stop it first (m, then x)"):
            return
        from ftui.tui.screens.confirm import ChoiceScreen

        def answer(choice: str | None) -> None:
            if choice != "start" or self._busy("stop it first (m, then x)"):
                return
            self._starting = True
            self.notify("Checking the data, model and memory, then starting…", title="Starting")
            self._start_worker(config)

        length = f"{config.max_steps} steps" if config.max_steps > 0 else f"{config.num_epochs:g} epochs"
        question = (
            f"Start a {config.method} run?\n\n"
            f"model    {one_line(str(config.model), 60)}\n"
            f"dataset  {one_line(str(config.train_path), 60)}\n"
            f"length   {length}"
        )
        self.app.push_screen(
            ChoiceScreen(question, [("y", "start the run", "start")], opened_by=("f5", "s")), answer
        )

    def _busy(self, fix: str) -> bool:
        """True (with a notice) while a run trains in this ftui or one is being started."""
        if self._starting:
            self.notify("A run is already starting; wait for it (the monitor opens when it has).", severity="warning")
            return True
        if self.worker is not None and self.worker.is_alive():
            self.notify(f"A run is already training in this ftui; {fix}.", severity="warning")
            return True
        return False

    def _refuse(self, problems: list[tuple[str, str]], lint: bool = False, skippable: tuple[int, int] = (0, 0)) -> None:
        self.show_panel("launcher")
        first = problems[0] if problems else ("form", "fix the fields in red")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.notify(Text(f"{first[0]}: {one_line(first[1], 1000)}{more}"), title="Nothing started", severity="error",
                    timeout=8)
        self.form.focus_first_problem()
        if lint:
            self._offer_data_screen(first[1], skippable)

    def _offer_data_screen(self, message: str, skippable: tuple[int, int] = (0, 0)) -> None:
        from ftui.tui.screens.confirm import ChoiceScreen

        def answer(choice: str | None) -> None:
            if choice == "data":
                self.action_open_data()
            elif choice == "skip":
                self._set_skip(bad, left)

        bad, left = skippable
        choices = [("d", "open in Data", "data")]
        question = f"The dataset has lint errors:\n{one_line(message, 200)}\n\nOpen it in the Data screen to fix it?"
        if bad:
            choices.append(("b", f"skip {_rows(bad)} (on_bad_rows: skip), train on the other {left:,}", "skip"))
            question += f"\nOr skip the {_rows(bad)} that cannot train (each is listed in the run)?"
        self.app.push_screen(ChoiceScreen(question, choices), answer)

    def action_skip_bad_rows(self) -> None:
        """Set on_bad_rows: skip, after a question answered with another key than b (Enter and Esc: no)."""
        from ftui.tui.screens.confirm import ChoiceScreen

        bad, left = self.form.skippable
        if not bad:
            self.notify("No rows to skip: the data checks found none that skipping would fix.")
            return

        def answer(choice: str | None) -> None:
            if choice == "skip":
                self._set_skip(bad, left)

        question = (f"Skip {_rows(bad)} that cannot train and train on the other {left:,}?\n\n"
                    "This sets on_bad_rows: skip. The run lists every skipped row and why (run.json, the run log).")
        self.app.push_screen(ChoiceScreen(question, [("y", f"skip {_rows(bad)}", "skip")], opened_by="b"), answer)

    def _set_skip(self, bad: int, left: int) -> None:
        self.show_panel("launcher")
        self.form.set_values({"on_bad_rows": "skip"})
        self.notify(f"on_bad_rows: skip. {_rows(bad).capitalize()} will be left out; F5 starts on the other {left:,}.",
                    title="Bad rows")

    @work(thread=True, exclusive=True, group="train-start", exit_on_error=False)
    def _start_worker(self, config) -> None:  # noqa: ANN001 - RunConfig
        from ftui.train import runs
        from ftui.train.preflight import validate
        from ftui.train.worker import InvalidRunConfig, start_run
        from ftui.tui.screens.train_form import CHECK_LOCK

        try:
            with CHECK_LOCK:  # not alongside a form check (see CHECK_LOCK)
                problems = validate(config)
            if problems:
                self.post_message(StartRefused([Refusal.from_problem(p) for p in problems]))
                return
            worker = start_run(config, check=False, share_cores=True)
        except InvalidRunConfig as exc:
            self.post_message(StartRefused([Refusal.from_problem(p) for p in exc.problems]))
            return
        except runs.RunDirError as exc:
            self.post_message(StartRefused([Refusal("output_dir", str(exc))]))
            return
        except Exception as exc:  # noqa: BLE001 - never a traceback on screen
            self.post_message(StartRefused([Refusal("run", f"{type(exc).__name__}: {exc}")]))
            return
        self.post_message(RunStarted(worker))

    @on(StartRefused)
    def _start_refused(self, message: StartRefused) -> None:
        self._starting = False
        self._refuse([(r.field, r.text) for r in message.refusals], lint=message.data_at_fault, skippable=message.skippable)

    @on(RunStarted)
    def _run_started(self, message: RunStarted) -> None:
        self._starting = False
        self.worker = message.worker
        self.notify(Text(f"Training {one_line(message.worker.run_id, 80)}"), title="Run started")
        self.open_run(Path(message.worker.run_dir))

    # ------------------------------------------------------------------ watching
    def open_run(self, run_dir: Path) -> None:
        """Show ``run_dir`` in the monitor: its whole log, then live events while it runs (reattach)."""
        self.watched = Path(run_dir)
        self.monitor.history = None
        watch_run(self, self.watched)
        self.show_panel("monitor")

    @on(RunSnapshot)
    def _snapshot(self, message: RunSnapshot) -> None:
        if message.run_dir != self.watched:
            return
        self.monitor.ylog, self.monitor.xaxis = self.ylog, self.xaxis
        self.monitor.load(message.run_dir, message.history)
        self.refresh_bindings()

    @on(RunEvents)
    def _events(self, message: RunEvents) -> None:
        if message.run_dir != self.watched:
            return
        self.monitor.apply(message.events)
        for event in message.events:
            if event.type in TERMINAL_TYPES:
                self._run_ended(event)

    @on(RunFeedEnded)
    def _feed_ended(self, message: RunFeedEnded) -> None:
        if message.run_dir == self.watched and self._trains_here(message.run_dir):
            # A resumed run's log ends with its last stop until the new `started` lands (the model loads
            # first), and the feed gives up a second after a terminal event: follow on while we train it.
            watch_run(self, message.run_dir)
            return
        self.refresh_bindings()
        if self.panel == "runs":
            self.runs_panel.reload()

    def _run_ended(self, event) -> None:  # noqa: ANN001 - a terminal Event
        run_id = self.monitor.history.run_id if self.monitor.history else (self.watched.name if self.watched else "")
        self.ended.append((run_id, event.type))
        self.app.bell()
        if isinstance(event, Finished):
            best = f" · best eval loss {event.best_eval_loss:.4f}" if event.best_eval_loss is not None else ""
            if event.kept_checkpoint:  # the best checkpoint became the adapter; the last step's is beside it
                best += f" · adapter = {one_line(Path(event.kept_checkpoint).name, 30)} (last step in adapter-last/)"
            self.notify(Text(f"{one_line(run_id, 80)} finished{best}"), title="Run finished", timeout=10)
        elif isinstance(event, Failed):
            hint = f"\n{one_line(event.hint, 200)}" if event.hint else ""
            self.notify(Text(f"{one_line(event.message, 200)}{hint}"), title="Run failed", severity="error", timeout=15)
        elif isinstance(event, Stopped):
            saved = "saved" if event.saved else "not saved"
            self.notify(Text(f"{one_line(run_id, 80)} stopped ({saved})"), title="Run stopped", severity="warning")
        self.refresh_bindings()

    def _trains_here(self, run_dir: Path | None) -> bool:
        """True while the worker started from this screen trains ``run_dir``."""
        worker = self.worker
        return worker is not None and run_dir is not None and Path(worker.run_dir) == run_dir and worker.is_alive()

    def _watched_is_live(self) -> bool:
        if self.watched is None:
            return False
        if self._trains_here(self.watched):
            return True
        history = self.monitor.history
        return history is not None and history.status == "running" and _is_live(self.watched)

    # ------------------------------------------------------------------ stop / resume
    def action_stop(self) -> None:
        if not self._watched_is_live():
            self.notify("The run shown is not training.", severity="warning")
            return
        from ftui.tui.screens.confirm import ChoiceScreen

        name = self.watched.name if self.watched else ""
        question = (
            f"Stop run {one_line(name, 60)}?\n\n"
            "s  stop and save: write a checkpoint and the adapter first (resumable)\n"
            "w  stop without saving: keep only the checkpoints already saved\n"
            "Esc / Enter  keep training"
        )
        choices = [("s", "stop and save", "save"), ("w", "stop without saving", "stop")]
        self.app.push_screen(ChoiceScreen(question, choices, opened_by="x"), self._stop_answer)

    def _stop_answer(self, choice: str | None) -> None:
        if choice not in ("save", "stop") or self.watched is None:
            return
        save = choice == "save"
        if self._trains_here(self.watched):
            self.worker.stop(save=save)
        else:
            from ftui.train.run_lock import request_stop

            request_stop(self.watched, save=save)  # the other process polls control.json
        self.notify("Stopping at the next step boundary" + (" after saving…" if save else "…"), title="Stop requested")

    def action_resume(self) -> None:
        run_dir: Path | None = None
        if self.panel == "runs":
            summary = self.runs_panel.selected
            if summary is None:
                return
            if summary.status not in _resumable():
                self.notify(f"Only a stopped, failed or interrupted run can be resumed (this one is {summary.status}).",
                            severity="warning")
                return
            run_dir = summary.run_dir
        elif self.watched is not None and self.monitor.history is not None:
            if self.monitor.history.status not in _resumable() and not (
                self.monitor.history.status == "running" and not self._watched_is_live()
            ):
                self.notify("Only a stopped, failed or interrupted run can be resumed.", severity="warning")
                return
            run_dir = self.watched
        if run_dir is None or self._busy("stop it first"):
            return
        from ftui.tui.screens.confirm import ChoiceScreen

        def answer(choice: str | None) -> None:
            if choice != "resume" or self._busy("stop it first"):
                return
            self._starting = True
            self.notify(Text(f"Resuming {one_line(run_dir.name, 80)} from its last checkpoint…"), title="Resume")
            self._resume_worker(run_dir)

        question = f"Resume {one_line(run_dir.name, 60)} from its last checkpoint?"
        self.app.push_screen(ChoiceScreen(question, [("y", "resume training", "resume")], opened_by="u"), answer)

    @work(thread=True, exclusive=True, group="train-start", exit_on_error=False)
    def _resume_worker(self, run_dir: Path) -> None:
        from ftui.train import runs
        from ftui.train.worker import InvalidRunConfig, start_run

        try:
            config = runs.load_run_config(run_dir)
            worker = start_run(config, run_dir=run_dir, resume=True, share_cores=True)
        except InvalidRunConfig as exc:
            self.post_message(StartRefused([Refusal.from_problem(p) for p in exc.problems]))
            return
        except Exception as exc:  # noqa: BLE001 - RunDirError, ConfigError: one line on screen
            self.app.call_from_thread(self._cannot_resume, one_line(str(exc), 300))
            return
        self.post_message(RunStarted(worker))

    def _cannot_resume(self, text: str) -> None:
        self._starting = False
        self.notify(Text(text), title="Cannot resume", severity="error", timeout=10)

    # ------------------------------------------------------------------ runs list and compare
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # by name, not @on(DataTable.RowSelected, ...): the first switch to Train then does not import DataTable
        # (~5 ms), which only the runs and compare panels use, built when first shown
        if event.data_table.id != "runs-table":
            return
        key = event.row_key.value
        if key and key != "__empty__":
            self.open_run(Path(key))

    def action_mark(self) -> None:
        if self.panel != "runs":
            self.show_panel("runs")
            return
        self.runs_panel.toggle_mark()

    def action_compare(self) -> None:
        marked = list(self.runs_panel.marked)
        if len(marked) < 2:
            if self.panel != "runs":
                self.show_panel("runs")
            self.notify("Mark two or more runs with space in the runs list, then press c.", severity="warning")
            return
        self._load_comparison(marked)

    @work(thread=True, exclusive=True, group="train-compare", exit_on_error=False)
    def _load_comparison(self, run_dirs: list[Path]) -> None:
        from ftui.tui.screens.train_runs import load_comparison

        histories, configs = load_comparison(run_dirs)
        self.post_message(ComparisonLoaded(run_dirs, histories, configs))

    @on(ComparisonLoaded)
    def _comparison_loaded(self, message: ComparisonLoaded) -> None:
        compare = self.compare_panel
        compare.xaxis, compare.ylog = self.xaxis, self.ylog
        self.show_panel("compare")
        compare.show_runs(message.run_dirs, message.histories, message.configs)

    # ------------------------------------------------------------------ view toggles
    def action_toggle_log(self) -> None:
        self.ylog = not self.ylog
        if self.panel == "compare":
            self.compare_panel.set_view(ylog=self.ylog)
        else:
            self.monitor.set_ylog(self.ylog)

    def action_toggle_axis(self) -> None:
        self.xaxis = "epoch" if self.xaxis == "step" else "step"
        if self.panel == "compare":
            self.compare_panel.set_view(xaxis=self.xaxis)
        else:
            self.monitor.set_xaxis(self.xaxis)

    # ------------------------------------------------------------------ launcher helpers
    def action_apply_fix(self) -> None:
        if self.form.apply_fix():
            self.notify("Applied the cheapest memory fix to the form.")
        else:
            self.notify("No memory fix to apply: the run fits, or no estimate is available.")

    def action_open_data(self) -> None:
        self.app.switch_mode("data")


def _resumable() -> tuple[str, ...]:
    from ftui.tui.screens.train_runs import RESUMABLE

    return RESUMABLE


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def _is_live(run_dir: Path) -> bool:
    from ftui.train.run_lock import is_live

    return is_live(run_dir)
