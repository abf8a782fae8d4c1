"""Try it: talk to a run (or one of its checkpoints, or any model), its base model answering beside it.

The open comparison, labelled -- not the blind A/B. The core is ``ftui.evaluate.chat`` (the
evaluation's loader, the run's own prompt format through ``chat_template.render_prompt``, the same
stop ids and greedy settings). Loading and generation run in a thread worker; tokens stream
from transformers' ``TextIteratorStreamer`` and are posted to the UI at most every
``FLUSH_S`` (time-batched), so a fast model never floods the message queue. Model text is
untrusted: it is shown through ``Text`` after ``neutralize``, never as markup.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from ftui.textsafe import neutralize, one_line
from ftui.tui.widgets.field import TextField
from ftui.tui.widgets.key_footer import KeyFooter

FLUSH_S = 0.1
SIDES = ("tuned", "base")


class ChatLoaded(Message):
    def __init__(self, session: Any = None, error: str | None = None) -> None:  # evaluate.chat.ChatSession
        super().__init__()
        self.session = session
        self.error = error


class ChatDelta(Message):
    """New text of one side's reply (``final`` set once the reply is complete, normalised)."""

    def __init__(self, side: str, text: str, final: str | None = None, error: str | None = None) -> None:
        super().__init__()
        self.side = side
        self.text = text
        self.final = final
        self.error = error


class ChatTurnDone(Message):
    pass


class ChatPane(VerticalScroll):
    """One side's transcript: the user's turns and the model's replies, re-rendered as one Text."""

    DEFAULT_CSS = """
    ChatPane { width: 1fr; height: 1fr; border: round $panel-lighten-2; border-title-color: $text; padding: 0 1; }
    ChatPane > Static { height: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.turns: list[tuple[str, str]] = []  # (role, text)

    def compose(self) -> ComposeResult:
        yield Static(Text("…", style="dim"), classes="transcript")

    def add(self, role: str, text: str = "") -> None:
        self.turns.append((role, text))
        self.render_turns()

    def extend_last(self, text: str) -> None:
        if self.turns:
            role, old = self.turns[-1]
            self.turns[-1] = (role, old + text)
            self.render_turns()

    def replace_last(self, text: str) -> None:
        if self.turns:
            self.turns[-1] = (self.turns[-1][0], text)
            self.render_turns()

    def clear_turns(self, note: str = "") -> None:
        self.turns = []
        self.query_one(".transcript", Static).update(Text(note, style="dim"))

    def reply_text(self) -> str:
        return self.turns[-1][1] if self.turns and self.turns[-1][0] == "model" else ""

    def render_turns(self) -> None:
        out = Text()
        for role, text in self.turns:
            if role == "user":
                out.append("you  ", style="bold cyan")
                out.append(neutralize(text) + "\n\n")
            elif role == "note":
                out.append(neutralize(text) + "\n\n", style="dim italic")
            elif role == "empty":
                out.append("(no reply: the model ended its turn at once)\n\n", style="dim italic")
            else:
                out.append(neutralize(text) or "…", style="" if text else "dim")
                out.append("\n\n")
        self.query_one(".transcript", Static).update(out)
        self.scroll_end(animate=False)


class ChatScreen(Screen[None]):
    """Chat with a model / run / checkpoint (top field), its base beside it; Enter sends, Esc stops or goes back."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Stop / back", id="chat.back"),
        Binding("f5", "load", "Load the model above", id="chat.load"),
        Binding("f6", "new_conversation", "New conversation", id="chat.new"),
        # no mode bar on this screen to say where help is: the footer does
        Binding("question_mark", "app.help", "Help", id="chat.help"),
    ]
    DEFAULT_CSS = """
    ChatScreen #chat-target-row { height: 3; padding: 0 1; }
    ChatScreen #chat-target-row > Static { width: auto; padding: 1 1 0 0; color: $text-muted; }
    ChatScreen #chat-target { width: 1fr; }
    ChatScreen #chat-status { height: 1; padding: 0 1; color: $text-muted; }
    ChatScreen #chat-panes { height: 1fr; }
    ChatScreen #chat-input { margin: 0 1; }
    """
    # tests may inject the session factory: (target text) -> evaluate.chat.ChatSession
    session_factory: ClassVar[Any] = None

    def __init__(self, target: str = "latest", max_new_tokens: int = 200) -> None:
        super().__init__()
        self.target = target
        self.max_new_tokens = max_new_tokens
        self.session: Any = None
        self.busy = False  # loading or answering
        self.cancel = threading.Event()
        self.turns_done = 0  # completed user turns (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        with Horizontal(id="chat-target-row"):
            yield Static("model / run / checkpoint")
            yield TextField(self.target, placeholder="RUN, RUN@checkpoint-N, latest, base, merged:PATH", id="chat-target")
        yield Static(id="chat-status")
        with Horizontal(id="chat-panes"):
            yield ChatPane(id="chat-tuned")
            yield ChatPane(id="chat-base")
        yield TextField("", placeholder="type a message; Enter sends", id="chat-input")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Try it"
        self.sub_title = "open comparison: both sides are labelled (the blind A/B is in Evaluate)"
        self.query_one("#chat-tuned", ChatPane).border_title = "fine-tuned"
        self.query_one("#chat-base", ChatPane).border_title = "base"
        self.action_load()

    # ------------------------------------------------------------------ loading
    def _status(self, text: str, style: str = "dim") -> None:
        self.query_one("#chat-status", Static).update(Text(one_line(text, 300), style=style))

    def action_load(self) -> None:
        if self.busy:
            self.notify("Wait for the reply to finish (Esc stops it).", severity="warning")
            return
        self.target = self.query_one("#chat-target", Input).value.strip() or "latest"
        self.busy = True
        self.session = None
        self._status(f"loading {self.target}…")
        for side in SIDES:
            self.query_one(f"#chat-{side}", ChatPane).clear_turns("loading…")
        self._load(self.target)

    @work(thread=True, exclusive=True, group="chat-load", exit_on_error=False)
    def _load(self, target: str) -> None:
        try:
            factory = type(self).session_factory
            if factory is not None:
                session = factory(target)
            else:
                from ftui.evaluate.chat import ChatSession, resolve_target

                session = ChatSession(resolve_target(target))
        except Exception as exc:  # noqa: BLE001 - ChatError and anything a model load raises: one line
            self.post_message(ChatLoaded(error=str(exc) or type(exc).__name__))
            return
        self.post_message(ChatLoaded(session))

    @on(ChatLoaded)
    def _loaded(self, message: ChatLoaded) -> None:
        self.busy = False
        if message.error:
            self._status(f"cannot load: {message.error}", style="red")
            for side in SIDES:
                self.query_one(f"#chat-{side}", ChatPane).clear_turns("nothing loaded")
            self.query_one("#chat-target", Input).focus()
            return
        self.session = message.session
        label = message.session.target.label
        tuned, base = self.query_one("#chat-tuned", ChatPane), self.query_one("#chat-base", ChatPane)
        tuned.border_title = one_line(label, 60)
        has_base = message.session.base is not None
        base.border_title = one_line(f"base: {message.session.target.base.model}", 60) if has_base else "base"
        base.display = has_base
        shared = " (the same weights with the adapter off)" if has_base and message.session.base is message.session.tuned else ""
        self._status(f"{label} loaded{' · base beside it' + shared if has_base else ''} · greedy, up to "
                     f"{self.max_new_tokens} new tokens, the run's chat template")
        tuned.clear_turns("say something: Enter sends")
        base.clear_turns("")
        self.query_one("#chat-input", Input).focus()

    # ------------------------------------------------------------------ talking
    @on(Input.Submitted, "#chat-target")
    def _target_submitted(self) -> None:
        self.action_load()

    @on(Input.Submitted, "#chat-input")
    def _send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.session is None or self.busy:
            self.notify("The model is still loading or answering." if self.busy else "No model loaded (F5 loads the one named above).",
                        severity="warning")
            return
        event.input.value = ""
        self.busy = True
        self.cancel.clear()
        for side in self.session.sides():
            pane = self.query_one(f"#chat-{side}", ChatPane)
            pane.add("user", text)
            pane.add("model", "")
        self._status("answering… (Esc stops)")
        self._answer(text)

    @work(thread=True, exclusive=True, group="chat-answer", exit_on_error=False)
    def _answer(self, text: str) -> None:
        from ftui.evaluate.chat import CHAT_DEFAULTS

        config = CHAT_DEFAULTS.__class__(max_new_tokens=self.max_new_tokens, temperature=0.0, batch_size=1)
        for side in self.session.sides():
            buffer: list[str] = []
            last = time.monotonic()

            def on_text(piece: str, side: str = side, buffer: list[str] = buffer) -> None:
                nonlocal last
                buffer.append(piece)
                now = time.monotonic()
                if now - last >= FLUSH_S:
                    last = now
                    self.post_message(ChatDelta(side, "".join(buffer)))
                    buffer.clear()

            try:
                final = self.session.ask(side, text, on_text, config, cancel=self.cancel)
            except Exception as exc:  # noqa: BLE001 - one line on screen
                self.post_message(ChatDelta(side, "".join(buffer), error=str(exc) or type(exc).__name__))
                break
            self.post_message(ChatDelta(side, "".join(buffer), final=final))
            if self.cancel.is_set():
                break
        self.post_message(ChatTurnDone())

    @on(ChatDelta)
    def _delta(self, message: ChatDelta) -> None:
        pane = self.query_one(f"#chat-{message.side}", ChatPane)
        if message.text:
            pane.extend_last(message.text)
        if message.final is not None:
            pane.replace_last(message.final)  # cut where evaluation would cut it: that is what the history holds
            if not message.final and pane.turns:
                pane.turns[-1] = ("empty", "")
                pane.render_turns()
        if message.error:
            pane.add("note", f"error: {message.error}")

    @on(ChatTurnDone)
    def _turn_done(self) -> None:
        self.busy = False
        for side in SIDES:  # a side the stop came before was never asked: its history has no such turn
            pane = self.query_one(f"#chat-{side}", ChatPane)
            if pane.turns and pane.turns[-1] == ("model", ""):
                pane.turns[-1] = ("note", "not asked: stopped before this side's turn")
                pane.render_turns()
        self.turns_done += 1
        stopped = " (stopped)" if self.cancel.is_set() else ""
        self._status(f"{self.session.target.label if self.session else ''} · turn {self.turns_done} done{stopped}")

    # ------------------------------------------------------------------ keys
    def action_back(self) -> None:
        if self.busy and self.session is not None:
            self.cancel.set()  # stop the reply at the next token; a second Esc goes back
            return
        self.cancel.set()
        self.app.pop_screen()

    def action_new_conversation(self) -> None:
        if self.busy or self.session is None:
            return
        self.session.reset()
        for side in SIDES:
            self.query_one(f"#chat-{side}", ChatPane).clear_turns("new conversation: say something")
        self.turns_done = 0
        self._status("new conversation")
