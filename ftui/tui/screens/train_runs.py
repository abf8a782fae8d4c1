"""The runs list and the comparison of two or more runs.

The list comes from ``ftui.train.runs.list_runs`` (read in a thread: a big runs
directory never blocks the UI). The comparison overlays the loss curves of the
marked runs and lists the config fields that differ between them.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ftui.textsafe import one_line
from ftui.train.history import RunHistory, config_diff, format_duration, read_run_config
from ftui.tui.widgets.hanging import hanging
from ftui.tui.widgets.metric_plot import PALETTE, MetricPlot, PlotLine, PlotSpec

STATUS_TEXT = {
    "running": ("● running", "green"),
    "finished": ("✔ finished", "cyan"),
    "failed": ("✖ failed", "red"),
    "stopped": ("■ stopped", "yellow"),
    "interrupted": ("▲ interrupted", "yellow"),
    "created": ("○ created", "dim"),
}
RESUMABLE = ("stopped", "failed", "interrupted")


class RunsLoaded(Message):
    def __init__(self, summaries: list, error: str | None = None) -> None:  # list[runs.RunSummary]
        super().__init__()
        self.summaries = summaries
        self.error = error  # the runs directory could not be read: what to fix


class CheckpointsLoaded(Message):
    def __init__(self, run_dir: Path, checkpoints: list, final: dict | None) -> None:  # list[CheckpointInfo]
        super().__init__()
        self.run_dir = run_dir
        self.checkpoints = checkpoints
        self.final = final  # run.json "final": which checkpoint the adapter is


class AfterWorkProgress(Message):
    """A line of progress (or the end) of a merge / export running in a thread."""

    def __init__(self, text: str, done: bool = False, error: bool = False, title: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.done = done
        self.error = error
        self.title = title  # of the error notice (default: "Export failed")


class ParentSessionReady(Message):
    """The blind session of a run against its parent is written (``b``): open it for rating."""

    def __init__(self, directory: Path, rater: str) -> None:
        super().__init__()
        self.directory = directory
        self.rater = rater


class RunsPanel(Vertical):
    """A table of every run (space marks runs for comparison) and the selected run's checkpoints.

    The after-training work lives here, on the selected run or -- with the checkpoints table
    focused (k) -- the selected checkpoint: try it (chat), merge, export, evaluate, resume.
    Merges and exports run in a thread; their progress shows under the tables.
    """

    BINDINGS: ClassVar = [
        # the footer has room for one more key; every key is on the line under the tables and in ? help
        Binding("k", "toggle_checkpoints", "Runs/checkpoints", id="runs.checkpoints", show=False),
        Binding("t", "try_it", "Try it", id="runs.try_it"),
        Binding("g", "merge", "Merge…", id="runs.merge", show=False),
        Binding("o", "export", "Export…", id="runs.export", show=False),
        Binding("v", "evaluate", "Evaluate run/checkpoint", id="runs.evaluate", show=False),
        Binding("u", "resume_here", "Resume (from checkpoint)…", id="runs.resume", show=False),
        Binding("b", "compare_parent", "Blind vs parent…", id="runs.compare_parent"),
    ]

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.summaries: list = []
        self.marked: list[Path] = []
        self.loaded = 0  # how many times the list was (re)loaded, for tests
        self.checkpoints: list = []  # CheckpointInfo of the selected run
        self.checkpoints_of: Path | None = None
        self.work_busy = False  # a merge / export is running
        self.work_log: list[str] = []  # its progress lines (tests read them)
        self._focus_on_mount = False  # focus_table was called before the panel was built

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="runs-note")  # the selected run's failure in full: the table's note column cuts it
        yield DataTable(id="ckpt-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="runs-work")
        yield Static(
            Text("enter open · space mark · c compare · k checkpoints\n"  # one line cut its last keys at 120 columns
                 "on a run or checkpoint: t try it · g merge · o export · v evaluate · u resume · b blind vs parent",
                 style="dim"),
            id="runs-help",
        )

    def on_mount(self) -> None:
        self.border_title = "runs"
        ckpt = self.query_one("#ckpt-table", DataTable)
        ckpt.border_title = "checkpoints"
        for key, label in (("name", "checkpoint"), ("step", "step"), ("eval", "eval loss"), ("size", "size"),
                           ("note", "note")):
            ckpt.add_column(label, key=key)
        self.query_one("#runs-work", Static).display = False
        self.query_one("#runs-note", Static).display = False
        table = self.query_one("#runs-table", DataTable)
        for key, label in (("mark", " "), ("run", "run"), ("status", "status"), ("method", "method"), ("model", "model"),
                           ("best", "best eval"), ("steps", "steps"), ("duration", "duration"), ("note", "note")):
            table.add_column(label, key=key)
        if self._focus_on_mount:
            table.focus()

    def focus_table(self) -> None:
        """Focus the runs table, now or as soon as it is built (the Train screen builds this panel on first show)."""
        if self.is_mounted:
            self.query_one("#runs-table", DataTable).focus()
        else:
            self._focus_on_mount = True

    @work(thread=True, exclusive=True, group="runs-list", exit_on_error=False)
    def reload(self) -> None:
        from ftui.train.runs import RunDirError, list_runs

        try:
            self.post_message(RunsLoaded(list_runs()))
        except RunDirError as exc:
            self.post_message(RunsLoaded([], error=str(exc)))

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self.summaries = message.summaries
        self.loaded += 1
        table = self.query_one("#runs-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        existing = {s.run_dir for s in self.summaries}
        self.marked = [m for m in self.marked if m in existing]
        for s in self.summaries:
            label, style = STATUS_TEXT.get(s.status, (s.status, ""))
            if s.status == "running" and not s.live:
                label, style = STATUS_TEXT["interrupted"]
            steps = f"{s.last_step or 0}/{s.total_steps}" if s.total_steps else str(s.last_step or "—")
            table.add_row(
                Text("✓" if s.run_dir in self.marked else " ", style="bold green"),
                Text(one_line(s.run_id, 48)),
                Text(label, style=style),
                Text(one_line(s.method or "—", 10)),
                Text(one_line(_short(s.model or "—"), 28)),
                Text(f"{s.best_eval_loss:.4f}" if _finite(s.best_eval_loss) else "—", justify="right"),
                Text(steps, justify="right"),
                Text(format_duration(s.duration_s), justify="right"),
                Text(one_line(s.message or "", 26), style="red") if s.message else Text(""),  # in full under the table
                key=str(s.run_dir),
            )
        if self.summaries:
            table.move_cursor(row=min(cursor, len(self.summaries) - 1))
            self._load_checkpoints_of_selected()
        self._show_note()
        self.query_one("#runs-help", Static).display = True
        if message.error:
            table.add_row(Text(one_line(message.error, 200), style="red"), *[""] * 8, key="__error__")
        elif not self.summaries:
            table.add_row(Text("no runs yet: press n for a new run", style="dim"), *[""] * 8, key="__empty__")

    @property
    def selected(self):  # noqa: ANN201 - runs.RunSummary | None
        table = self.query_one("#runs-table", DataTable)
        if not self.summaries or table.cursor_row is None or table.cursor_row >= len(self.summaries):
            return None
        return self.summaries[table.cursor_row]

    def toggle_mark(self) -> None:
        summary = self.selected
        if summary is None:
            return
        if summary.run_dir in self.marked:
            self.marked.remove(summary.run_dir)
        else:
            self.marked.append(summary.run_dir)
        table = self.query_one("#runs-table", DataTable)
        table.update_cell(str(summary.run_dir), "mark",
                          Text("✓" if summary.run_dir in self.marked else " ", style="bold green"))


    # ------------------------------------------------------------------ checkpoints
    @on(DataTable.RowHighlighted, "#runs-table")
    def _run_highlighted(self) -> None:
        self._load_checkpoints_of_selected()
        self._show_note()

    def _show_note(self) -> None:
        """The selected run's failure and its fix, wrapped in full under the table."""
        summary, note = self.selected, self.query_one("#runs-note", Static)
        note.display = bool(summary is not None and summary.message)
        if note.display:
            rows = [(Text("✖ failed  ", style="bold red"), Text(one_line(summary.message, 2000)))]
            if summary.hint:
                rows.append((Text("  fix     ", style="bold"), Text(one_line(summary.hint, 2000))))
            note.update(hanging(rows))

    def _load_checkpoints_of_selected(self) -> None:
        summary = self.selected
        # a training run saves (and rotates) checkpoints as it goes: re-read it with every list refresh
        if summary is not None and (summary.run_dir != self.checkpoints_of or summary.live):
            self.checkpoints_of = summary.run_dir
            self._read_checkpoints(summary.run_dir)

    @work(thread=True, exclusive=True, group="runs-checkpoints", exit_on_error=False)
    def _read_checkpoints(self, run_dir: Path) -> None:
        from ftui.train.checkpoints import list_checkpoints
        from ftui.train.runs import ADAPTER_DIR, read_run_metadata

        try:
            found, final = list_checkpoints(run_dir), read_run_metadata(run_dir).get("final")
            if not isinstance(final, dict) and found and found[-1].best and (run_dir / ADAPTER_DIR).is_dir():
                final = {"from": found[-1].name}  # the best was the last step: its weights are adapter/, unrecorded
        except OSError:
            found, final = [], None
        self.post_message(CheckpointsLoaded(run_dir, found, final if isinstance(final, dict) else None))

    @on(CheckpointsLoaded)
    def _checkpoints_loaded(self, message: CheckpointsLoaded) -> None:
        if message.run_dir != self.checkpoints_of:
            return
        from ftui.train.checkpoints import describe_size

        self.checkpoints = message.checkpoints
        table = self.query_one("#ckpt-table", DataTable)
        table.clear()
        kept = (message.final or {}).get("from")
        for c in message.checkpoints:
            notes = []
            if c.best:
                notes.append("best eval")
            if kept in (c.name, f"step {c.step}"):  # "step N": the adapter is the last step's, and N was saved
                notes.append("= adapter/")
            if c.problem:
                notes.append(f"damaged: {c.problem}")
            table.add_row(
                Text(c.name), Text(str(c.step), justify="right"),
                Text(f"{c.eval_loss:.4f}" if _finite(c.eval_loss) else "—", justify="right"),
                Text(describe_size(c.size_bytes), justify="right"),
                Text(one_line(" · ".join(notes), 60), style="red" if c.problem else "green" if c.best else ""),
                key=str(c.path),
            )
        if not message.checkpoints:
            table.add_row(Text("no checkpoints kept for this run", style="dim"), "", "", "", "", key="__none__")
        self.query_one("#ckpt-table", DataTable).border_title = f"checkpoints of {one_line(message.run_dir.name, 50)}"

    @property
    def selected_checkpoint(self):  # noqa: ANN201 - CheckpointInfo | None, only while the checkpoints table has focus
        table = self.query_one("#ckpt-table", DataTable)
        if not table.has_focus or not self.checkpoints or table.cursor_row is None:
            return None
        return self.checkpoints[min(table.cursor_row, len(self.checkpoints) - 1)]

    def action_toggle_checkpoints(self) -> None:
        runs_table, ckpt = self.query_one("#runs-table", DataTable), self.query_one("#ckpt-table", DataTable)
        if ckpt.has_focus:
            runs_table.focus()
        elif self.checkpoints:
            ckpt.focus()
        else:
            self.app.notify("This run kept no checkpoints.", severity="warning")

    def _target(self) -> tuple[Path, str | None] | None:
        """(run dir, checkpoint name or None = the final adapter) of what the keys act on."""
        summary = self.selected
        if summary is None:
            self.app.notify("No run selected.", severity="warning")
            return None
        checkpoint = self.selected_checkpoint
        return summary.run_dir, checkpoint.name if checkpoint is not None else None

    def _describe(self, run_dir: Path, checkpoint: str | None) -> str:
        return f"{one_line(run_dir.name, 50)}" + (f" @ {checkpoint}" if checkpoint else " (final adapter)")

    # ------------------------------------------------------------------ after training
    def action_try_it(self) -> None:
        target = self._target()
        if target is None:
            return
        from ftui import paths
        from ftui.tui.screens.chat import ChatScreen

        run_dir, checkpoint = target
        name = run_dir.name if paths.runs_dir() / run_dir.name == run_dir else str(run_dir)  # short when it can be
        self.app.push_screen(ChatScreen(name + (f"@{checkpoint}" if checkpoint else "")))

    def action_evaluate(self) -> None:
        target = self._target()
        if target is None:
            return
        run_dir, checkpoint = target
        ref = run_dir.name + (f"@{checkpoint}" if checkpoint else "")
        app = self.app

        def open_generate() -> None:
            from ftui.tui.screens.eval_generate import GenerateScreen

            screen = app.screen
            app.push_screen(GenerateScreen(on_session=getattr(screen, "open_session", None), run=ref))

        app.switch_mode("evaluate")
        app.call_after_refresh(open_generate)

    def action_merge(self) -> None:
        target = self._target()
        if target is None or self._work_running():
            return
        from ftui.train import runs
        from ftui.tui.screens.confirm import ChoiceScreen

        run_dir, checkpoint = target
        out = run_dir / (runs.MERGED_DIR + (f"-{checkpoint}" if checkpoint else ""))
        question = (f"Merge {self._describe(run_dir, checkpoint)} into its base model?\n\n"
                    f"writes a standalone safetensors model to {one_line(str(out), 70)}\n"
                    "(on the GPU when the base fits there, else one shard at a time)")

        def answer(choice: str | None) -> None:
            if choice == "merge":
                self._start_work("merged", run_dir, checkpoint, out)

        self.app.push_screen(ChoiceScreen(question, [("y", "merge", "merge")], opened_by="g"), answer)

    def action_export(self) -> None:
        target = self._target()
        if target is None or self._work_running():
            return
        from ftui.train.export import default_out
        from ftui.tui.screens.confirm import ChoiceScreen

        run_dir, checkpoint = target
        where = one_line(str(default_out(run_dir, "WHAT", checkpoint)), 70)
        question = (f"Export {self._describe(run_dir, checkpoint)}\n\ninto {where}\n"
                    "a  the adapter (PEFT directory)\n"
                    "f  the merged full model (safetensors)\n"
                    "q  a GGUF file (llama.cpp's convert_hf_to_gguf.py; the command is shown when it is not installed)")

        def answer(choice: str | None) -> None:
            if choice in ("adapter", "merged", "gguf"):
                self._start_work(choice, run_dir, checkpoint, default_out(run_dir, choice, checkpoint))

        choices = [("a", "adapter", "adapter"), ("f", "merged model", "merged"), ("q", "GGUF", "gguf")]
        self.app.push_screen(ChoiceScreen(question, choices, opened_by="o"), answer)

    def action_resume_here(self) -> None:
        checkpoint = self.selected_checkpoint
        if checkpoint is None:
            self.screen.action_resume()  # the run's latest checkpoint, as u does everywhere
            return
        summary = self.selected
        screen = self.screen
        if summary is None or summary.live or screen._busy("stop it first"):
            if summary is not None and summary.live:
                self.app.notify("This run is training; stop it before resuming it from a checkpoint.", severity="warning")
            return
        from ftui.tui.screens.confirm import ChoiceScreen

        later = [c.name for c in self.checkpoints if c.step > checkpoint.step]
        note = (f"\n\nthe later checkpoints ({', '.join(later)}) are set aside as superseded-… (kept on disk)"
                if later else "")
        question = f"Resume {one_line(summary.run_id, 50)} from {checkpoint.name} (step {checkpoint.step})?{note}"

        def answer(choice: str | None) -> None:
            if choice != "resume" or screen._busy("stop it first"):
                return
            from ftui.train.runs import request_resume_from

            try:
                request_resume_from(summary.run_dir, checkpoint.path)
            except OSError as exc:
                self.app.notify(Text(one_line(str(exc), 200)), title="Cannot resume", severity="error")
                return
            screen._starting = True
            self.app.notify(Text(f"Resuming {one_line(summary.run_id, 60)} from {checkpoint.name}…"), title="Resume")
            screen._resume_worker(summary.run_dir)

        self.app.push_screen(ChoiceScreen(question, [("y", "resume training", "resume")], opened_by="u"), answer)

    def action_compare_parent(self) -> None:
        """A blind session of the selected run (a DPO run from votes) against the run it trained on from."""
        summary = self.selected
        if summary is None:
            self.app.notify("No run selected.", severity="warning")
            return
        if summary.status != "finished":
            self.app.notify("Select a finished run (a DPO run from votes) to rate it blind against its parent.",
                            severity="warning")
            return
        if self._work_running():
            return
        from ftui.evaluate.parent_session import votes_rater
        from ftui.tui.screens.eval_common import RATER_PLACEHOLDER, TextPrompt, default_rater, rater_problem

        def chosen(rater: str | None) -> None:
            if rater and not self._work_running():
                self._show_work_start("blind session vs parent")
                self._parent_session(summary.run_dir, rater)

        title = f"Rate {one_line(summary.run_id, 40)} blind against its parent — rater name"
        hint = ("Generates both runs' answers to held-out prompts (the parent's test file, less what this run "
                "trained on), then opens the blind session.")
        rater = votes_rater(summary.run_dir) or default_rater()
        self.app.push_screen(TextPrompt(title, rater, hint, rater_problem, RATER_PLACEHOLDER), chosen)

    def _work_running(self) -> bool:
        if self.work_busy:
            self.app.notify("A merge or export is already running; wait for it.", severity="warning")
        return self.work_busy

    def _start_work(self, what: str, run_dir: Path, checkpoint: str | None, out: Path) -> None:
        self._show_work_start(what)
        self._run_work(what, run_dir, checkpoint, out)

    def _show_work_start(self, what: str) -> None:
        self.work_busy = True
        self.work_log = []
        line = self.query_one("#runs-work", Static)
        line.display = True
        line.update(Text(f"{what}: starting…", style="bold"))

    @work(thread=True, exclusive=True, group="runs-after", exit_on_error=False)
    def _run_work(self, what: str, run_dir: Path, checkpoint: str | None, out: Path) -> None:
        from ftui.train.export import ExportError, export_run

        def say(text: str) -> None:
            self.post_message(AfterWorkProgress(text))

        try:
            result = export_run(run_dir, what, out, checkpoint=checkpoint, say=say)
        except ExportError as exc:
            self.post_message(AfterWorkProgress(str(exc), done=True, error=True))
            return
        except Exception as exc:  # noqa: BLE001 - never a traceback on screen
            self.post_message(AfterWorkProgress(f"{type(exc).__name__}: {exc}", done=True, error=True))
            return
        self.post_message(AfterWorkProgress(f"{what} written to {result.path}", done=True))

    @work(thread=True, exclusive=True, group="runs-after", exit_on_error=False)
    def _parent_session(self, run_dir: Path, rater: str) -> None:
        """Both runs' answers, then the blind session; ParentSessionReady opens it."""
        from ftui.evaluate.parent_session import ParentError, parent_comparison, start_parent_session

        def say(text: str) -> None:
            self.post_message(AfterWorkProgress(text))

        last = [0.0]

        def progress(name: str, done: int, total: int) -> None:
            if done in (0, total) or time.monotonic() - last[0] >= 0.25:
                last[0] = time.monotonic()
                say(f"generating {name}: {done}/{total}")

        try:
            comparison = parent_comparison(run_dir)
            say(f"{len(comparison.items)} prompts from {comparison.source}"
                + (" — in-sample: this run trained on them" if comparison.in_sample else ""))
            directory = start_parent_session(comparison, rater, progress=progress)
        except ParentError as exc:
            self.post_message(AfterWorkProgress(str(exc), done=True, error=True, title="No parent to compare with"))
            return
        except Exception as exc:  # noqa: BLE001 - a model or file error reaches the user as one line
            self.post_message(AfterWorkProgress(f"{type(exc).__name__}: {exc}", done=True, error=True,
                                                title="Blind session failed"))
            return
        if directory is None:
            self.post_message(AfterWorkProgress("cancelled", done=True, error=True, title="Blind session"))
            return
        self.post_message(AfterWorkProgress(f"blind session written to {directory}", done=True))
        self.post_message(ParentSessionReady(directory, rater))

    @on(ParentSessionReady)
    def _open_parent_session(self, message: ParentSessionReady) -> None:
        """Rate it where every session is rated: the Evaluate mode's rating screen (results after unblind)."""
        app = self.app

        def open_rating() -> None:
            from ftui.tui.screens.evaluate import EvaluateScreen

            home = next((s for s in app.screen_stack if isinstance(s, EvaluateScreen)), None)
            if home is None:
                app.notify(Text(f"Rate it from Evaluate: {one_line(str(message.directory), 200)}"), severity="warning")
                return
            while app.screen is not home:  # e.g. the Results the DPO run was started from
                app.pop_screen()
            home.open_session(message.directory, message.rater)

        app.switch_mode("evaluate")
        app.call_after_refresh(open_rating)

    @on(AfterWorkProgress)
    def _work_progress(self, message: AfterWorkProgress) -> None:
        self.work_log.append(message.text)
        line = self.query_one("#runs-work", Static)
        style = "red" if message.error else "green" if message.done else ""
        line.update(Text(one_line(message.text, 400), style=style))
        if message.done:
            self.work_busy = False
            if message.error:
                self.app.notify(Text(message.text), title=message.title or "Export failed", severity="error", timeout=30)
            else:
                self.app.notify(Text(one_line(message.text, 300)), title="Done", timeout=10)
            self.checkpoints_of = None
            self._load_checkpoints_of_selected()


class ComparePanel(Vertical):
    """Overlaid train and eval loss of several runs, and what differs in their configs."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="cmp-plots"):
            yield MetricPlot("train loss", id="cmp-train")
            yield MetricPlot("eval loss", id="cmp-eval")
        with Horizontal(id="cmp-bottom"):
            yield DataTable(id="cmp-summary", cursor_type="none", show_cursor=False)
            yield DataTable(id="cmp-diff", cursor_type="row", zebra_stripes=True)

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.run_dirs: list[Path] = []
        self.histories: list[RunHistory] = []
        self.xaxis = "step"
        self.ylog = False

    def on_mount(self) -> None:
        self.border_title = "compare"
        self.query_one("#cmp-summary").border_title = "runs"
        self.query_one("#cmp-diff").border_title = "config differences"

    def show_runs(self, run_dirs: list[Path], histories: list[RunHistory], configs: list[dict]) -> None:
        self.run_dirs = run_dirs
        self.histories = histories
        self._draw_plots()
        summary = self.query_one("#cmp-summary", DataTable)
        summary.clear(columns=True)
        for label in ("", "run", "final loss", "best eval", "step"):
            summary.add_column(label)
        # 18: the five columns fit half of 120 columns (at 28, "@ step" was behind a scrollbar)
        shown_ids = shorten_ids([run_dir.name for run_dir in run_dirs], 18)
        for i, h in enumerate(histories):
            best = h.best_eval()
            summary.add_row(
                Text("━━", style=_rich_color(PALETTE[i % len(PALETTE)])),
                Text(f"{i + 1} " + shown_ids[i]),
                Text(f"{h.loss.last():.4f}" if _finite(h.loss.last()) else "—", justify="right"),
                Text(f"{best[1]:.4f}" if best else "—", justify="right"),
                Text(str(best[0]) if best else "—", justify="right"),
            )
        diff = self.query_one("#cmp-diff", DataTable)
        diff.clear(columns=True)
        diff.add_column("field")
        for i in range(len(run_dirs)):
            diff.add_column(Text(f"run {i + 1}", style=_rich_color(PALETTE[i % len(PALETTE)])))
        rows = config_diff(configs)
        for name, values in rows:
            diff.add_row(Text(name, style="bold"), *[Text(one_line(_fmt(v), 40)) for v in values])
        if not rows:
            diff.add_row(Text("the configs are identical", style="dim"), *[""] * len(run_dirs))

    def set_view(self, xaxis: str | None = None, ylog: bool | None = None) -> None:
        if xaxis is not None:
            self.xaxis = xaxis
        if ylog is not None:
            self.ylog = ylog
        self._draw_plots()

    def _draw_plots(self) -> None:
        train, evals = [], []
        for i, h in enumerate(self.histories):
            color = PALETTE[i % len(PALETTE)]
            label = f"run {i + 1}"
            train.append(PlotLine(label, h.loss.xs(self.xaxis), h.loss.values, color=color))
            evals.append(PlotLine(label, h.eval_loss.xs(self.xaxis), h.eval_loss.values, color=color))
        with self.app.batch_update():
            self.query_one("#cmp-train", MetricPlot).show(PlotSpec(train, xlabel=self.xaxis, ylog=self.ylog))
            self.query_one("#cmp-eval", MetricPlot).show(
                PlotSpec(evals, xlabel=self.xaxis, ylog=self.ylog, empty_text="no eval loss logged")
            )


def load_comparison(run_dirs: list[Path]) -> tuple[list[RunHistory], list[dict]]:
    """Histories and configs of the runs (call from a thread: reads whole logs)."""
    histories = [RunHistory.from_run_dir(d) for d in run_dirs]
    configs = [read_run_config(d) for d in run_dirs]
    for config in configs:
        config.pop("output_dir", None)  # always differs, says nothing
    return histories, configs


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _short(model: str) -> str:
    return model if len(model) <= 28 else "…" + model[-27:]


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _rich_color(plotext_color: str) -> str:
    return {"orange": "dark_orange", "white": "bright_white"}.get(plotext_color, plotext_color)


def shorten_ids(ids: list[str], width: int) -> list[str]:
    """Run ids cut to ``width`` from their common prefix, not from the end: runs of one day share
    their first dozen characters and differ in the rest, which a cut at the end would hide."""
    names = [one_line(i, 10_000) for i in ids]
    if all(len(n) <= width for n in names):
        return names
    common = 0
    if len(names) > 1:
        first, last = min(names), max(names)
        while common < min(len(first), len(last)) and first[common] == last[common]:
            common += 1
    out = []
    for name in names:
        if len(name) <= width:
            out.append(name)
        elif len(name) - common <= width - 1:
            out.append("…" + name[-(width - 1):])  # the differing end, with what context fits
        else:
            out.append("…" + name[common:common + width - 1])  # from where the ids differ
    return out
