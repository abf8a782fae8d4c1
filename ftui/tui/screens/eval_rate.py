"""The blind A/B rating screen (spec: shared/reference/blind-ab.md, "The screen").

What it deliberately does NOT show: system names, a running score, lengths, latencies,
colours per side, streaming. Both outputs are rendered by the same code at the same
width. One key per decision, no confirmation; the vote is fsynced by the core
(``BlindSession.vote``) before the next pair appears.

Decision keys are ignored for ``lock_s`` (0.3 s) after a pair loads, so a key pressed
twice over a laggy SSH link cannot vote on the next pair unseen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from ftui.evaluate.ab import BREAK_EVERY, BlindSession, SessionError, ShownPair, VoteRecord
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.eval_common import TextPrompt, shown, word_diff
from ftui.tui.widgets.key_footer import KeyFooter

INPUT_LOCK_S = 0.3
FLAG = "flag"
_ROLE_STYLE = {"system": "dim", "user": "", "assistant": "italic"}


class RateScreen(Screen[None]):
    """Rate the pairs of one rater's queue; ``q`` returns to the Evaluate home."""

    AUTO_FOCUS = "#pane-1"
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]
    BINDINGS: ClassVar = [
        Binding("1", "decide('left')", "Left better", id="rate.left"),
        Binding("2", "decide('right')", "Right better", id="rate.right"),
        Binding("3,t", "decide('tie')", "Tie", id="rate.tie"),
        Binding("4,b", "decide('both_bad')", "Both bad", id="rate.both_bad"),
        Binding("s", "decide('skip')", "Skip this pair", id="rate.skip"),
        Binding("u,backspace", "undo", "Undo: reopen the previous pair", id="rate.undo"),
        Binding("n", "note", "Note on this pair", id="rate.note"),
        Binding("f", "flag", "Flag this pair", id="rate.flag"),
        Binding("d", "diff", "Word diff on/off", id="rate.diff"),
        Binding("r", "reference", "Show/hide the reference answer", id="rate.reference"),
        Binding("p", "prompt", "Collapse/expand the prompt", id="rate.prompt"),
        Binding("tab", "switch_pane", "Switch pane (scroll with arrows)", id="rate.pane"),
        Binding("i", "details", "Session details: how outputs were normalised", id="rate.details"),
        Binding("x", "unblind", "Unblind and see results…", id="rate.unblind"),
        Binding("q", "save_quit", "Save and quit", id="rate.quit"),
    ]

    def __init__(self, session: BlindSession, lock_s: float = INPUT_LOCK_S,
                 on_unblind: Callable[[BlindSession], None] | None = None) -> None:
        super().__init__()
        self.session = session
        self.lock_s = lock_s
        self.on_unblind = on_unblind  # opens the results (set by the Evaluate home)
        self.pair: ShownPair | None = None
        self.note = ""
        self.flags: set[str] = set()
        self.diff = False
        self.show_reference = False
        self.prompt_open = True
        self._ready_at = 0.0
        self.ignored_keys = 0  # decision keys dropped by the input lock (tests read it)
        self.last_vote: VoteRecord | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        with Horizontal(id="rate-top"):
            yield Static(id="rate-status")
            yield Static(id="rate-marks")
        with VerticalScroll(id="rate-prompt"):
            yield Static(id="rate-prompt-text")
            yield Static(id="rate-reference")
        with Container(id="rate-panes"):
            with VerticalScroll(id="pane-1", classes="rate-pane"):
                yield Static(id="out-1", classes="rate-output")
            with VerticalScroll(id="pane-2", classes="rate-pane"):
                yield Static(id="out-2", classes="rate-output")
        yield Static(id="rate-done")
        yield Static(self._legend(), id="rate-keys")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Blind A/B rating"
        # neither the plan name nor the directory name: either may name the systems
        self.sub_title = f"session #{self.session.blind_id}"
        self.query_one("#rate-prompt").border_title = "Prompt"
        self.query_one("#pane-1").border_title = "Output 1"
        self.query_one("#pane-2").border_title = "Output 2"
        for warning in self.session.warnings:
            self.notify(warning, severity="warning", timeout=8)
        self.load(self.session.current())

    @staticmethod
    def _legend() -> Text:
        """The keys, grouped; fits one line at 120 columns (wraps when narrow). p (prompt) and Tab (pane)
        are in the ``?`` help."""
        text = Text()
        groups = (
            (("1", "left"), ("2", "right"), ("3", "tie"), ("4", "both bad"), ("s", "skip")),
            (("u", "undo"), ("n", "note"), ("f", "flag")),
            (("d", "diff"), ("r", "reference"), ("?", "more")),  # i (details) is in the ? help
            (("x", "unblind"), ("q", "quit")),
        )
        for g, keys in enumerate(groups):
            if g:
                text.append(" │ ", style="dim")
            for i, (key, label) in enumerate(keys):
                if i:
                    text.append("  ")
                text.append(key, style="bold")
                text.append(f" {label}", style="dim")
        return text

    # ------------------------------------------------------------------ state -> screen
    def load(self, pair: ShownPair | None, note: str = "", flags: tuple[str, ...] = ()) -> None:
        """Show ``pair`` (None: the queue is done). Starts the input lock."""
        self.pair = pair
        self.note = note
        self.flags = set(flags)
        self.show_reference = False
        self._ready_at = time.monotonic() + self.lock_s
        rating = pair is not None
        for wid in ("#rate-prompt", "#rate-panes"):
            self.query_one(wid).display = rating and (wid != "#rate-prompt" or self.prompt_open)
        self.query_one("#rate-done").display = not rating
        if pair is None:
            self._show_done()
        else:
            self._show_prompt()
            self._show_outputs()
            for wid in ("#pane-1", "#pane-2", "#rate-prompt"):
                self.query_one(wid, VerticalScroll).scroll_home(animate=False)
        self._show_status()

    def _show_status(self) -> None:
        p = self.session.progress()
        status = Text()
        if self.pair is not None:
            status.append(f"item {self.pair.position}/{self.pair.total}", style="bold")
        else:
            status.append(f"{p.total}/{p.total} done", style="bold")
        status.append(f" · decisive {p.decisive} · {int(p.elapsed_s // 60)} min · rater ")
        status.append(self.session.rater, style="bold")
        self.query_one("#rate-status", Static).update(status)
        marks = Text(justify="right")
        if getattr(self.session, "read_only", False):
            marks.append(" read-only: open elsewhere ", style="bold reverse")
        if self.note:
            marks.append(" ✎ note ", style="bold")
        if FLAG in self.flags:
            marks.append(" ⚑ flagged ", style="bold")
        if self.diff:
            marks.append(" diff on ", style="reverse")
        self.query_one("#rate-marks", Static).update(marks)

    def _show_prompt(self) -> None:
        assert self.pair is not None
        text = Text()
        messages = [m for m in self.pair.messages if m.get("content")]
        for i, m in enumerate(messages):
            role = m.get("role", "")
            if i:
                text.append("\n")
            if len(messages) > 1 or role != "user":
                text.append(f"{role}: ", style="bold dim")
            text.append_text(shown(m.get("content", ""), _ROLE_STYLE.get(role, "")))
        self.query_one("#rate-prompt-text", Static).update(text)
        self._show_reference()

    def _show_reference(self) -> None:
        ref = self.query_one("#rate-reference", Static)
        if self.pair is None or self.pair.reference is None:
            ref.update(Text("no reference answer for this item", style="dim italic"))
        elif self.show_reference:
            text = Text("reference: ", style="bold")
            text.append_text(shown(self.pair.reference))
            ref.update(text)
        else:
            ref.update(Text("reference hidden — r shows it", style="dim italic"))

    def _show_outputs(self) -> None:
        assert self.pair is not None
        if self.diff:
            left, right = word_diff(self.pair.output_left, self.pair.output_right)
        else:
            left, right = shown(self.pair.output_left), shown(self.pair.output_right)
        self.query_one("#out-1", Static).update(left)
        self.query_one("#out-2", Static).update(right)

    def _show_done(self) -> None:
        p = self.session.progress()
        text = Text("Every pair of this session is rated.\n\n", style="bold")
        text.append(f"{p.done} recorded: {p.decisive} decisive, {p.ties} ties, {p.both_bad} both bad, "
                    f"{p.skipped} skipped, {p.identical} identical (recorded automatically).\n"
                    "Every vote is saved.\n\n")
        text.append(" x ", style="bold reverse")
        text.append(" unblind and see the results      ")
        text.append(" u ", style="bold reverse")
        text.append(" undo the last vote      ")
        text.append(" q ", style="bold reverse")
        text.append(" back to Evaluate")
        self.query_one("#rate-done", Static).update(text)

    # ------------------------------------------------------------------ actions
    def _locked(self) -> bool:
        if time.monotonic() < self._ready_at:
            self.ignored_keys += 1
            return True
        return False

    def action_decide(self, choice: str) -> None:
        if self.pair is None or self._locked():
            return
        try:
            vote = self.session.vote(choice, note=self.note, flags=tuple(sorted(self.flags)))
        except (SessionError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.last_vote = vote
        if vote.fast:
            self.notify("That vote came faster than the outputs can be read; it is kept, marked 'fast'.",
                        severity="warning", timeout=3)
        progress = self.session.progress()
        self.load(self.session.current())
        if progress.suggest_break and choice != "skip" and not progress.finished:
            self.notify(f"{BREAK_EVERY} more pairs rated — a short break keeps judgements sharp. "
                        "q saves and quits; resume any time.", title="Break?", timeout=8)

    def action_undo(self) -> None:
        if self._locked():  # a double press must not undo two votes (the reopened pair re-arms the lock)
            return
        previous = {v.task: v for v in self.session.votes()}
        try:
            pair = self.session.undo()
        except (SessionError, OSError) as exc:
            self.notify(str(exc), severity="error")
            return
        if pair is None:
            self.notify("Nothing to undo yet.", timeout=2)
            return
        old = previous.get(pair.task)
        self.load(pair, note=old.note if old else "", flags=old.flags if old else ())
        self.notify("Previous vote withdrawn; rate this pair again.", timeout=2)

    def action_note(self) -> None:
        if self.pair is None:
            return

        def save(value: str | None) -> None:
            if value is not None:
                self.note = value
                self._show_status()

        self.app.push_screen(TextPrompt("Note on this pair (saved with your vote)", self.note,
                                        "Why you prefer one, what is wrong, anything to look at later."), save)

    def action_flag(self) -> None:
        if self.pair is None:
            return
        self.flags ^= {FLAG}
        self._show_status()

    def action_diff(self) -> None:
        self.diff = not self.diff
        if self.pair is not None:
            self._show_outputs()
        self._show_status()

    def action_reference(self) -> None:
        self.show_reference = not self.show_reference
        if self.pair is not None:
            if self.show_reference and not self.prompt_open:
                self.action_prompt()
            self._show_reference()
            if self.show_reference:  # the reference sits below the prompt: bring it into view
                self.call_after_refresh(self.query_one("#rate-prompt", VerticalScroll).scroll_end, animate=False)

    def action_prompt(self) -> None:
        self.prompt_open = not self.prompt_open
        self.query_one("#rate-prompt").display = self.prompt_open and self.pair is not None

    def action_switch_pane(self) -> None:
        other = "#pane-2" if self.focused is not None and self.focused.id == "pane-1" else "#pane-1"
        self.query_one(other, VerticalScroll).focus()

    def details_text(self) -> str:
        """The session header's details: nothing that names a system, and the normalisation rules every
        system's outputs went through."""
        plan = self.session.plan
        rules = (plan.normalisation or {}).get("rules") or []
        lines = [f"Session #{self.session.blind_id} · {len(plan.items)} items · {len(plan.systems)} systems · "
                 f"{len(self.session.tasks)} pairs for you",
                 "Sides are counterbalanced and the order is shuffled for you (a seed stored in the session).",
                 "", "Every output, of every system, went through the same normaliser"
                 + (f" (version {plan.normalisation.get('version')}):" if rules else ":")]
        lines += [f"  {i}. {rule}" for i, rule in enumerate(rules, 1)] or ["  (a session from an older ftui: "
                                                                            "not recorded)"]
        return "\n".join(lines)

    def action_details(self) -> None:
        self.app.push_screen(ChoiceScreen(self.details_text(), [("c", "close", "close")]))

    def action_unblind(self) -> None:
        p = self.session.progress()
        left = p.total - p.done
        question = ("Unblind this session?\n\nUnblinding ends blind rating for this session: you will see which "
                    "system wrote each output, and your votes become final.")
        if left:
            question += f"\n{left} pair(s) are still unrated; you will not be able to rate them."
        question += "\nThe unblind is recorded in your votes log."

        def answer(choice: str | None) -> None:
            if choice != "unblind":
                return
            try:
                self.session.unblind()
            except (SessionError, OSError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.dismiss(None)
            if self.on_unblind is not None:
                self.on_unblind(self.session)

        self.app.push_screen(ChoiceScreen(question, [("y", "unblind", "unblind"), ("n", "keep rating", "no")]), answer)

    def action_save_quit(self) -> None:
        """Votes are already durable; this only closes the log and goes back."""
        self.session.close()
        self.dismiss(None)
