"""Generate the outputs of several systems on a test file, score them, compare them, and hand
them to a blind A/B session.

Systems (any subset, at least one): the base model, base + a training run's adapter (from
``ftui.train.runs.list_runs``), a merged model directory, the base model with a K-shot
prompt (examples from the workspace's training file), an OpenAI-compatible endpoint.

Generation runs in a thread worker through ``ftui.evaluate.pipeline`` (the steps ``ftui eval``
takes too: batched, cached per system and test file, so a cancelled or crashed run resumes where it stopped);
the UI thread only receives progress (throttled to 5 Hz) and the final tables.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Header, Input, ProgressBar, Select, Static

from ftui.evaluate import metrics as M
from ftui.evaluate.items import EvalItem
from ftui.textsafe import one_line, one_line_mid
from ftui.tui.screens.eval_common import RATER_PLACEHOLDER, TextPrompt, default_rater, rater_problem
from ftui.tui.screens.eval_results import class_table, comparisons_text, metrics_panel
from ftui.tui.widgets.choice import Choice
from ftui.tui.widgets.field import TextField, display_path
from ftui.tui.widgets.key_footer import KeyFooter
from ftui.workspace import test_split_beside

PROGRESS_EVERY_S = 0.2
NO_RUN = "none"


def _same_file(a: Path | str, b: Path | str) -> bool:
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except OSError:
        return False


class GenerateScreen(Screen[None]):
    """Choose systems and a test file; generate, score and compare; start blind rating."""

    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (110, "-wide")]
    BINDINGS: ClassVar = [
        Binding("f5", "generate", "Generate & score", id="gen.run", priority=True),
        Binding("f6", "blind", "Start blind rating", id="gen.blind", priority=True),
        Binding("f7", "reveal", "Show metrics", id="gen.reveal", priority=True),
        Binding("escape", "back", "Cancel / back", id="gen.back"),
        # no mode bar on this screen to say where help is: the footer does
        Binding("question_mark", "app.help", "Help", id="gen.help"),
    ]
    # tests inject a fake: (SystemSpec) -> ftui.evaluate.generate.Generator
    generator_factory: ClassVar[Callable[[Any], Any] | None] = None

    def __init__(self, on_session: Callable[..., Any] | None = None, run: str | None = None) -> None:
        super().__init__()
        self.on_session = on_session  # (session path, rater) -> opens the rating screen
        self.initial_run = run  # a run or RUN@checkpoint-N to preselect (the Train screen's Runs view, v)
        self.cancel = threading.Event()
        self.running = False
        self.items: list[EvalItem] = []
        self.outputs: dict[str, dict[str, str]] = {}
        self.metrics: dict[str, M.SystemMetrics] = {}
        self.comparisons: list[M.PairedComparison] = []
        self.test_path: Path | None = None
        self._test_filled = ""  # the test file the form offered (compose, a run chosen), to tell the user's own
        self._last_progress = 0.0
        self.specs: list[Any] = []  # the systems of the last generation (resolved into the session)
        self.revealed = False  # metrics by system shown: this rater can no longer start a blind session here
        self.complete = False  # the last generation finished for every system and item (not cancelled)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        ws = self.app.workspace  # type: ignore[attr-defined]
        runs = self._finished_runs()
        yield Header(icon="≡")
        with Horizontal(id="gen-body"):
            with VerticalScroll(id="gen-form"):
                yield Checkbox(f"base model ({one_line(ws.model, 30)})", True, id="g-base")
                yield Static("base + adapter of a training run", classes="gen-label")
                options = [(one_line(f"{r.run_id} · {r.method or '?'}", 50), r.run_id) for r in runs]
                if self.initial_run and self.initial_run not in {value for _, value in options}:
                    options.insert(0, (one_line(self.initial_run, 50), self.initial_run))  # a checkpoint, or unfinished
                first = self.initial_run or (runs[0].run_id if runs else NO_RUN)
                yield Choice(options + [("none", NO_RUN)], value=first, allow_blank=False, id="g-run", classes="gen-row")
                yield Static("few-shot base: K examples from the training file (empty = off)", classes="gen-label")
                yield TextField("", placeholder="e.g. 4", id="g-fewshot", classes="gen-row")
                yield Static("merged model directory (empty = off)", classes="gen-label")
                yield TextField("", placeholder="path/to/merged-model", id="g-merged", classes="gen-row")
                yield Static("OpenAI-compatible endpoint MODEL[@BASE_URL] (key: $OPENAI_API_KEY)",
                             classes="gen-label")
                yield TextField("", placeholder="gpt-4o-mini or llama@http://host:8000/v1", id="g-openai",
                            classes="gen-row")
                test, source = self._test_file_for(first)
                yield Static(self._test_label(source), classes="gen-label", id="g-test-label")
                yield TextField(test, placeholder="path/to/test.jsonl", id="g-test", classes="gen-row")
                self._test_filled = test  # what the form put there: replaced when the run changes, unless edited
                with Horizontal(classes="gen-row", id="g-numbers"):
                    with Vertical():
                        yield Static("items (empty = all)", classes="gen-label")
                        yield TextField("", placeholder="all", id="g-limit")
                    with Vertical():
                        yield Static("max new tokens", classes="gen-label")
                        yield TextField("64", id="g-max-tokens")
            with VerticalScroll(id="gen-out"):
                yield Static(Text("F5 generates every chosen system's outputs (cached: a rerun only fills what is "
                                  "missing), then scores and compares them.", style="dim"), id="gen-status")
                yield ProgressBar(id="gen-progress", show_eta=False)
                yield Static(id="gen-metrics")
                yield Static(id="gen-classes")
                yield Static(id="gen-compare")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Generate & compare"
        self.query_one("#gen-form").border_title = "Systems and test file"
        self.query_one("#gen-out").border_title = "Progress and metrics"
        self.query_one("#gen-progress").display = False

    def _test_file_for(self, run: str) -> tuple[str, str | None]:
        """The test file to offer with ``run`` chosen, and where it comes from (None: the workspace's).

        The workspace's held-out file where the run trained on the workspace's dataset. After the Data screen
        opened another dataset (the dirty sample, to lint it) the workspace has no held-out file, or another
        dataset's, and the run would be scored on rows of a task it never saw: then the held-out file of the
        run's own dataset, when this session knew one (the demo's test split; not the eval file that picked
        the run's best checkpoint), or the test split beside it by name (a relaunch forgets the first), else
        the run's own eval file."""
        ws = self.app.workspace  # type: ignore[attr-defined]
        workspace_test = display_path(ws.eval_path) if ws.eval_path else ""
        if run in (NO_RUN, Select.NULL):
            return workspace_test, None
        run_id = str(run).split("@", 1)[0]  # RUN@checkpoint-N: the run's files
        try:
            from ftui.train.runs import find_run, load_run_config

            config = load_run_config(find_run(run_id))
        except Exception:  # noqa: BLE001 - a run without a readable config: the workspace's file
            return workspace_test, None
        if ws.eval_path and ws.data_path and config.train_path and _same_file(ws.data_path, config.train_path):
            return workspace_test, None
        held_out = next((test for data, test in ws.held_out.items()
                         if config.train_path and _same_file(data, config.train_path)), None)
        if held_out is not None and Path(held_out).is_file():
            return display_path(held_out), f"the held-out file of {one_line_mid(Path(config.train_path).name, 40)}"
        beside = test_split_beside(config.train_path) if config.train_path else None
        if beside is not None:
            return display_path(beside), f"the test split beside {one_line_mid(Path(config.train_path).name, 40)}"
        if config.eval_path and Path(config.eval_path).is_file():
            return display_path(Path(config.eval_path)), f"the eval file of {one_line_mid(run_id, 40)}"
        return workspace_test, None

    @staticmethod
    def _test_label(source: str | None) -> Text:
        label = Text("test file (JSONL with reference answers)")
        if source:
            label.append(f" · {source}", style="italic")
        return label

    def on_select_changed(self, event: Select.Changed) -> None:
        """Another run chosen: offer its held-out file, unless the user typed a test file of their own."""
        if event.select.id != "g-run":
            return
        field = self.query_one("#g-test", Input)
        if field.value.strip() != self._test_filled.strip():
            return  # the user's own file stays
        test, source = self._test_file_for(str(event.value))
        self._test_filled = test
        field.value = test
        field.cursor_position = len(test)
        self.query_one("#g-test-label", Static).update(self._test_label(source))

    @staticmethod
    def _finished_runs() -> list[Any]:
        try:
            from ftui.train.runs import list_runs

            return [r for r in list_runs() if r.status == "finished"][:30]
        except Exception:  # noqa: BLE001 - a broken runs dir must not block evaluation
            return []

    # ------------------------------------------------------------------ form -> specs
    def _value(self, wid: str) -> str:
        return self.query_one(wid, Input).value.strip()

    def _int(self, wid: str, what: str, low: int, high: int) -> int | None:
        raw = self._value(wid)
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{what} must be a whole number, not {one_line(raw, 20)!r}") from None
        if not low <= value <= high:
            raise ValueError(f"{what} must be between {low} and {high}")
        return value

    def read_form(self) -> tuple[list[Any], Path, int | None, int]:
        """The chosen systems (parsed specs), test file, item limit and max new tokens; ValueError with
        a message naming the field when something is wrong."""
        from ftui.evaluate.systems import SystemError_, parse_system

        ws = self.app.workspace  # type: ignore[attr-defined]
        texts: list[str] = []
        if self.query_one("#g-base", Checkbox).value:
            texts.append("base")
        run = self.query_one("#g-run", Select).value
        if run not in (NO_RUN, Select.NULL):
            texts.append(f"run:{run}")
        k = self._int("#g-fewshot", "few-shot K", 1, 64)
        if k:
            texts.append(f"fewshot:{k}")
        if self._value("#g-merged"):
            texts.append(f"merged:{self._value('#g-merged')}")
        if self._value("#g-openai"):
            texts.append(f"openai:{self._value('#g-openai')}")
        if not texts:
            raise ValueError("choose at least one system (two or more to compare)")
        train = str(ws.data_path) if ws.data_path else None
        specs = []
        for text in texts:
            try:
                specs.append(parse_system(text, default_model=ws.model, train_file=train))
            except SystemError_ as exc:
                raise ValueError(str(exc)) from None
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError("two systems have the same name; choose different systems")
        test = self._value("#g-test")
        if not test:
            raise ValueError("give a test file (JSONL with reference answers)")
        path = Path(test).expanduser().absolute()  # the field shows it relative to here; the session keeps it whole
        if not path.is_file():
            raise ValueError(f"test file {one_line(str(path), 80)} does not exist")
        limit = self._int("#g-limit", "items", 1, 1_000_000)
        max_tokens = self._int("#g-max-tokens", "max new tokens", 1, 8192) or 64
        return specs, path, limit, max_tokens

    # ------------------------------------------------------------------ actions
    def action_generate(self) -> None:
        if self.running:
            self.notify("Generation is already running; Esc cancels it.", severity="warning")
            return
        try:
            specs, path, limit, max_tokens = self.read_form()
        except ValueError as exc:
            self._status(Text(str(exc), style="bold red"))
            self.notify(str(exc), severity="error", timeout=8)
            return
        from ftui.tui.screens.confirm import ChoiceScreen

        def answer(choice: str | None) -> None:
            if choice == "go" and not self.running:
                self._start_generation(specs, path, limit, max_tokens)

        names = ", ".join(one_line_mid(spec.name, 40) for spec in specs)
        items = f"the first {limit} items" if limit else "every item"
        question = (f"Generate and score {len(specs)} system(s) on {items} of {one_line(path.name, 40)}?\n\n"
                    f"systems  {names}\n"
                    "Outputs already generated are reused from the cache; Esc cancels midway.")
        self.app.push_screen(ChoiceScreen(question, [("y", "generate and score", "go")], opened_by="f5"), answer)

    def _start_generation(self, specs: list[Any], path: Path, limit: int | None, max_tokens: int) -> None:
        self.cancel.clear()
        self.running = True
        self.complete = False
        self.test_path = path
        self.specs = list(specs)
        bar = self.query_one("#gen-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self._status(Text("loading the test file…", style="dim"))
        self.run_generation(specs, path, limit, max_tokens)

    def _status(self, text: Text) -> None:
        self.query_one("#gen-status", Static).update(text)

    @work(thread=True, exclusive=True, group="generate")
    def run_generation(self, specs: list[Any], path: Path, limit: int | None, max_tokens: int) -> None:
        from ftui.evaluate import pipeline
        from ftui.evaluate.generate import GenerationConfig, GenerationError
        from ftui.evaluate.items import ItemsError, load_items
        from ftui.evaluate.systems import SystemError_

        call = self.app.call_from_thread
        labels = {spec.name: f"{i + 1}/{len(specs)} {one_line_mid(spec.name, 40)}" for i, spec in enumerate(specs)}
        started: set[str] = set()

        def progress(name: str, done: int, total: int) -> None:
            now = time.monotonic()
            first = name not in started  # the system's first report: its model may be loading now
            if first or done >= total or now - self._last_progress >= PROGRESS_EVERY_S:
                started.add(name)
                self._last_progress = now
                call(self._progress, labels[name], done, total, first)

        def done(name: str, result: Any) -> None:
            for warning in result.warnings:
                call(self.notify, warning, severity="warning")

        try:
            items = load_items(path, limit=limit)
            results = pipeline.generate_all(specs, items, GenerationConfig(max_new_tokens=max_tokens), test_path=path,
                                            progress=progress, on_done=done, cancel=self.cancel,
                                            generator_for=type(self).generator_factory)
            outputs = {name: result.outputs for name, result in results.items()}
            if any(result.cancelled for result in results.values()):
                call(self._finished, None, "cancelled — the outputs so far are cached; F5 resumes", items, outputs)
                return
            call(self._finished, None, None, items, outputs)
        except (GenerationError, SystemError_, ItemsError, OSError, ValueError) as exc:
            call(self._finished, str(exc), None, [], {})
        except Exception as exc:  # noqa: BLE001 - a library error must reach the user as one line
            from ftui.secrets import scrub_secrets

            call(self._finished, f"generation failed: {type(exc).__name__}: {scrub_secrets(str(exc))[:200]}", None, [], {})

    def _progress(self, label: str, done: int, total: int, starting: bool) -> None:
        bar = self.query_one("#gen-progress", ProgressBar)
        bar.update(total=total, progress=done)
        text = Text("generating ", style="dim")
        text.append(label, style="bold")
        text.append(f"  {done}/{total}" + ("  (loading model…)" if starting and not done else ""), style="dim")
        self._status(text)

    def _finished(self, error: str | None, note: str | None, items: list[EvalItem],
                  outputs: dict[str, dict[str, str]]) -> None:
        self.running = False
        self.query_one("#gen-progress", ProgressBar).display = False
        if error:
            self._status(Text(one_line(error, 300), style="bold red"))
            self.notify(one_line(error, 300), severity="error", timeout=10)
            return
        self.items = items
        self.outputs = outputs
        # a cancelled (partial) generation can be scored but never rated: the session would hold only
        # the items some systems reached
        self.complete = note is None and all(len(o) == len(items) for o in outputs.values())
        self.score()
        status = Text(f"{len(outputs)} system(s) × {len(items)} items", style="bold")
        if note:
            status.append(f" · {note}", style="yellow")
        elif len(outputs) >= 2:
            status.append("  ·  F6 starts a blind A/B session from these outputs", style="dim")
        self._status(status)

    def score(self) -> None:
        """Metrics per system on the items every system answered, and base-vs-other comparisons."""
        from ftui.evaluate import pipeline

        # the pipeline's scorer with the defaults a new session stores: this screen, 'ftui eval metrics' and
        # the session's results print the same intervals for the same outputs
        scored = pipeline.score_all(self.outputs, self.items)
        self.metrics, self.comparisons = scored.metrics, scored.comparisons
        self.show_metrics()

    def show_metrics(self) -> None:
        """The metrics panels: hidden (a neutral line) until F7, because whoever starts a blind session
        from here is its first rater, and accuracy or lengths by system would unblind them."""
        if not self.revealed:
            hidden = Text("Metrics by system are hidden", style="bold")
            hidden.append(" so that a blind session started here (F6) stays blind for you. F7 shows them; "
                          "after that, rate with another rater or from 'ftui eval session'.", style="dim")
            self.query_one("#gen-metrics", Static).update(hidden if self.outputs else "")
            self.query_one("#gen-classes", Static).update("")
            self.query_one("#gen-compare", Static).update("")
            return
        self.query_one("#gen-metrics", Static).update(Group(Text("Metrics", style="bold"),
                                                            metrics_panel(self.metrics)))
        classes = class_table(self.metrics)
        self.query_one("#gen-classes", Static).update(
            Group(Text("\nPer class (macro-F1 averages these; unparseable = not one known label)", style="bold"),
                  classes) if classes is not None else "")
        self.query_one("#gen-compare", Static).update(
            Group(Text("\nPaired comparison with the first system", style="bold"),
                  comparisons_text(self.comparisons)) if self.comparisons else "")

    def action_reveal(self) -> None:
        if not self.outputs:
            self.notify("Nothing to show yet: F5 generates and scores first.", severity="warning")
            return
        self.reveal_metrics()

    def reveal_metrics(self) -> None:
        """Show the metrics by system; from now on F6 refuses (the results would not be blind for you)."""
        self.revealed = True
        self.show_metrics()

    def action_blind(self) -> None:
        if self.running:
            self.notify("Wait for generation to finish (or Esc to cancel).", severity="warning")
            return
        if self.revealed:
            self.notify("You have seen the metrics by system on this screen, so a session you rate would not be "
                        "blind. Open Generate again (F5 reuses the cached outputs) and start it without F7, or "
                        "create it for another rater with 'ftui eval session'.", severity="warning", timeout=10)
            return
        if self.outputs and not self.complete:
            self.notify("The last generation was cancelled, so some systems lack outputs: F5 finishes it "
                        "(what is done is cached), then F6 starts the session.", severity="warning", timeout=8)
            return
        complete = {s: o for s, o in self.outputs.items() if o}
        if len(complete) < 2:
            self.notify("A blind comparison needs two systems' outputs: choose two or more systems and press F5.",
                        severity="warning")
            return

        def chosen(rater: str | None) -> None:
            if rater:
                self.create_session(rater, complete)

        self.app.push_screen(TextPrompt("Start a blind A/B session — your rater name", default_rater(),
                                        "Sides are counterbalanced and the order is shuffled per rater. "
                                        "Results stay hidden until you unblind.", rater_problem, RATER_PLACEHOLDER), chosen)

    def create_session(self, rater: str, outputs: dict[str, dict[str, str]]) -> Path | None:
        from ftui import paths
        from ftui.evaluate.ab import SessionError
        from ftui.evaluate.pipeline import start_session

        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.test_path.stem if self.test_path else "items")[:40]
        directory = paths.sessions_dir() / f"{stem}-{stamp}"
        names = list(outputs)
        try:
            start_session(directory, self.specs, self.items, outputs, rater,  # fresh random seed, base: the first
                         name=f"{stem}: {' vs '.join(names)}"[:80]).close()
        except (SessionError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return None
        self.dismiss(None)
        if self.on_session is not None:
            self.on_session(directory, rater)
        return directory

    def action_back(self) -> None:
        if self.running:
            self.cancel.set()
            self._status(Text("cancelling after the current batch…", style="yellow"))
            return
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return
        self.dismiss(None)
