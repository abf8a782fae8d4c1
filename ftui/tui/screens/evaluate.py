"""The Evaluate mode: generate and score systems, then rate them blind.

Home (this screen): the blind A/B sessions on disk (``ftui.evaluate.session_plan.list_sessions``),
with keys to start / resume rating one (asks the rater name, default ``$USER``), to see
its results (only after a recorded unblind), and to open the generation screen (systems,
test file, batched generation, metric table and paired comparison).

Sub-screens: ``eval_rate.RateScreen`` (blind rating), ``eval_results.ResultsScreen`` /
``DrillScreen`` (after unblind), ``eval_generate.GenerateScreen``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from ftui.evaluate.session_plan import SessionError, SessionSummary, list_sessions, rater_problem
from ftui.textsafe import one_line
from ftui.tui.screens.base import ModeScreen
from ftui.tui.screens.eval_common import RATER_PLACEHOLDER, TextPrompt, default_rater
from ftui.tui.widgets.hanging import indented

if TYPE_CHECKING:  # pragma: no cover - the session code (metrics, statistics) loads in the worker that opens one
    from ftui.evaluate.ab import BlindSession


def _when(created: str) -> str:
    """``2026-11-23T18:50:00.000Z`` -> ``11-23 18:50`` (UTC)."""
    return created[5:16].replace("T", " ") if created else "–"


class EvaluateScreen(ModeScreen):
    MODE = "evaluate"
    TITLE_TEXT = "Evaluate"
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]
    BINDINGS: ClassVar = [
        # priority: the sessions table (focused) has its own Enter, which hid this one from the footer, and the
        # footer then recomposed without it after the first paint (bench/mode_switch.py); both open the session
        Binding("enter", "rate", "Rate / resume session", id="eval.rate", priority=True),
        Binding("x", "results", "Results (unblind)…", id="eval.results"),
        Binding("g", "generate", "Generate & metrics", id="eval.generate"),
        Binding("f5", "refresh", "Refresh", id="eval.refresh"),
        Binding("t", "try_it", "Try it (chat)", id="eval.try_it"),
    ]
    # the rating screen's input lock; tests set it to ~0
    rate_lock_s: ClassVar[float | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[SessionSummary] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="eval-home"):
            with Vertical(id="eval-sessions"):
                yield DataTable(id="session-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="session-hint")
            yield Static(self._guide(), id="eval-guide")

    @staticmethod
    def _guide() -> Group:
        text = Text()
        text.append("Is the fine-tune worth keeping?\n", style="bold")
        text.append("Compare it with the base model and with the base model given a few-shot prompt, on held-out "
                    "data — by metrics, then by your own blind judgement.", style="")
        steps = (
            ("g", "Generate & metrics", "choose systems and a test file; outputs are cached and resumable; "
                                        "accuracy, macro-F1, ROUGE-L, JSON validity, McNemar and bootstrap CIs"),
            ("F6", "Start blind rating", "on the generate screen: a session of pairs, sides counterbalanced"),
            ("Enter", "Rate / resume", "the selected session, as you (rater name); one key per decision"),
            ("x", "Results", "only after you unblind (recorded): win rate, sign test, power, κ, Bradley–Terry"),
        )
        blocks: list[RenderableType] = [text]
        for key, title, desc in steps:  # a step's description wraps under itself, 3 columns in
            blocks += [Text(""), Text.assemble((f" {key} ", "bold reverse"), (f" {title}", "bold")),
                       indented(Text(desc, style="dim"), 3)]
        blocks += [Text(""), Text("Votes are fsynced one by one: quit any time, nothing is lost.", style="dim italic")]
        return Group(*blocks)

    def on_mount(self) -> None:
        table = self.query_one("#session-table", DataTable)
        table.add_columns("session", "systems", "items", "raters", "created")
        self.query_one("#eval-sessions").border_title = "Blind A/B rating sessions"
        self.query_one("#eval-guide").border_title = "Evaluate"
        self.refresh_sessions()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.refresh_sessions()

    # ------------------------------------------------------------------ sessions list
    def refresh_sessions(self) -> None:
        self._load_sessions()

    @work(thread=True, exclusive=True, group="eval-list")
    def _load_sessions(self) -> None:
        """Read the sessions off the UI thread: each session.json holds every output of the plan."""
        try:
            sessions = list_sessions()
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"cannot read the sessions directory: {exc}", severity="error")
            sessions = []
        self.app.call_from_thread(self._show_sessions, sessions)

    def _show_sessions(self, sessions: list[SessionSummary]) -> None:
        self.sessions = sessions
        table = self.query_one("#session-table", DataTable)
        selected = table.cursor_row
        table.clear()
        for i, s in enumerate(self.sessions):
            table.add_row(one_line(s.name, 24), one_line(", ".join(s.systems), 24), str(s.n_items),
                          one_line(", ".join(s.raters) or "–", 16), _when(s.created), key=str(i))
        if self.sessions:
            table.move_cursor(row=min(max(selected, 0), len(self.sessions) - 1))
            hint = Text("Enter rate or resume · x results after unblind · g generate", style="dim")
        else:
            hint = Text("No rating sessions yet. Press g to generate two systems' outputs on a test file, then F6 "
                        "to start rating them blind.", style="dim")
        self.query_one("#session-hint", Static).update(hint)

    def selected(self) -> SessionSummary | None:
        table = self.query_one("#session-table", DataTable)
        if not self.sessions or table.cursor_row < 0:
            return None
        return self.sessions[min(table.cursor_row, len(self.sessions) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_rate()

    # ------------------------------------------------------------------ actions
    def action_refresh(self) -> None:
        self.refresh_sessions()

    def action_rate(self) -> None:
        self._ask_rater(results=False)

    def action_results(self) -> None:
        self._ask_rater(results=True)

    def action_try_it(self) -> None:
        """Talk to the newest finished run beside its base (the field at the top picks another run or checkpoint)."""
        from ftui.tui.screens.chat import ChatScreen

        self.app.push_screen(ChatScreen("latest"))

    def action_generate(self) -> None:
        from ftui.tui.screens.eval_generate import GenerateScreen

        self.app.push_screen(GenerateScreen(on_session=self.open_session))

    def _ask_rater(self, results: bool) -> None:
        summary = self.selected()
        if summary is None:
            self.notify("No session selected. Generate outputs (g), then start a blind session (F6).",
                        severity="warning")
            return
        known = ", ".join(summary.raters)
        help_text = ("Your votes are kept per rater; the same name resumes where you stopped, with the same sides."
                     + (f"\nRaters so far: {known}" if known else ""))

        def chosen(name: str | None) -> None:
            if name:
                self.open_session(summary.path, name, results=results)

        title = f"{'Results of' if results else 'Rate'} {one_line(summary.name, 40)} — rater name"
        self.app.push_screen(TextPrompt(title, default_rater(), help_text, rater_problem, RATER_PLACEHOLDER), chosen)

    @work(thread=True, exclusive=True, group="eval-open")
    def open_session(self, path: Path, rater: str, results: bool = False) -> None:
        """Open (or start) ``rater``'s queue off the UI thread: replaying a long log reads the whole file."""
        from ftui.evaluate.ab import BlindSession

        try:
            session = BlindSession(path, rater)
        except (SessionError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        self.app.call_from_thread(self._opened, session, results)

    def _opened(self, session: BlindSession, results: bool) -> None:
        if session.is_unblinded:
            self.show_results(session)
        elif results:
            self.show_rating(session)
            self.app.screen.action_unblind()  # type: ignore[attr-defined]
        else:
            self.show_rating(session)

    def show_rating(self, session: BlindSession) -> None:
        from ftui.tui.screens.eval_rate import INPUT_LOCK_S, RateScreen

        lock = INPUT_LOCK_S if self.rate_lock_s is None else self.rate_lock_s
        self.app.push_screen(RateScreen(session, lock_s=lock, on_unblind=self.show_results))

    def show_results(self, session: BlindSession) -> None:
        from ftui.tui.screens.eval_results import ResultsScreen

        self.app.push_screen(ResultsScreen(session))
