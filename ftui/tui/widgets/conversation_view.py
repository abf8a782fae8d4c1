"""The selected row, rendered as a conversation: roles told apart, content shown literally.

Every piece of row text goes through ``neutralize`` and into ``rich.text.Text`` (never
markup), so ``[bold]`` in a row is shown as ``[bold]`` and an ANSI escape is shown as
``␛[…`` instead of reaching the terminal. Any format is shown: chat ``messages``
(with tool calls), ShareGPT, Alpaca, prompt-completion, preference pairs; anything
else is pretty-printed JSON. A row that did not parse is shown raw with the error.
"""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ftui.data.index import DisplayRow
from ftui.textsafe import neutralize
from ftui.tui.widgets.hanging import hanging

ROLE_STYLES = {
    "system": "bold white on #6c5b7b",
    "user": "bold black on #5fafd7",
    "assistant": "bold black on #87d787",
    "tool": "bold black on #d7af5f",
    "chosen": "bold black on #87d787",
    "rejected": "bold white on #d75f5f",
}
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system", "function_call": "assistant", "observation": "tool", "tool": "tool"}
SEVERITY_STYLE = {"error": ("✖", "bold red"), "warning": ("▲", "yellow"), "info": ("·", "dim")}
_ALPACA_ROLES = {"instruction": "user", "input": "user", "output": "assistant"}


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):  # content parts
        pieces = []
        for part in value:
            text = part.get("text", part.get("value"))  # parts with ``value``: the spelling some exporters use
            if part.get("type") in (None, "text") and isinstance(text, str):
                pieces.append(text)
            elif part.get("type") in ("reasoning", "thinking") and isinstance(text, str):
                pieces.append(f"<{part['type']}> {text}")
            else:
                pieces.append(f"<{part.get('type', 'part')}>")
        return "\n".join(pieces)
    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode("utf-8", errors="replace")


def turns_of(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """(turns, unshown keys). A turn: {"label", "style_role", "content", "tool_calls", "note"}."""
    if not isinstance(value, dict):
        return [], []
    turns: list[dict[str, Any]] = []
    used: set[str] = set()
    if isinstance(value.get("messages"), list):
        used.add("messages")
        for m in value["messages"]:
            if not isinstance(m, dict):
                turns.append({"label": "?", "style_role": "", "content": _to_text(m)})
                continue
            role = str(m.get("role", "?"))
            notes = [f"{k}={m[k]}" for k in ("name", "weight", "tool_call_id") if k in m]
            notes += [f"{k}: {m[k]}" for k in ("reasoning_content", "thinking", "reasoning") if isinstance(m.get(k), str)]
            turns.append(
                {"label": role, "style_role": role, "content": _to_text(m.get("content") or ""),
                 "tool_calls": m.get("tool_calls"), "note": " ".join(notes)}
            )
    elif isinstance(value.get("conversations"), list):
        used.add("conversations")
        for m in value["conversations"]:
            if isinstance(m, dict):
                who = str(m.get("from", m.get("role", "?")))
                turns.append({"label": who, "style_role": SHAREGPT_ROLES.get(who, who), "content": _to_text(m.get("value", m.get("content", "")))})
    elif "chosen" in value or "rejected" in value:
        for key, role in (("prompt", "user"), ("chosen", "chosen"), ("rejected", "rejected")):
            if key in value:
                used.add(key)
                turns.extend(_field_turns(key, role, value[key]))
    elif "instruction" in value or "output" in value:
        for key, role in _ALPACA_ROLES.items():
            if key in value:
                used.add(key)
                turns.append({"label": key, "style_role": role, "content": _to_text(value[key])})
    elif "prompt" in value or "completion" in value:
        for key, role in (("prompt", "user"), ("completion", "assistant")):
            if key in value:
                used.add(key)
                turns.extend(_field_turns(key, role, value[key]))
    elif isinstance(value.get("text"), str):
        used.add("text")
        turns.append({"label": "text", "style_role": "assistant", "content": value["text"]})
    return turns, [k for k in value if k not in used]


def _field_turns(key: str, role: str, field: Any) -> list[dict[str, Any]]:
    if isinstance(field, dict) and ("role" in field or "from" in field):
        field = [field]  # one message object (LLaMA-Factory's chosen / rejected)
    if isinstance(field, list):
        field = [{"role": SHAREGPT_ROLES.get(m["from"], m["from"]), "content": m.get("value")}
                 if isinstance(m, dict) and "role" not in m and isinstance(m.get("from"), str) else m for m in field]
    if isinstance(field, list) and field and all(isinstance(m, dict) and "role" in m for m in field):
        return [{"label": f"{key}·{m['role']}", "style_role": role if key != "prompt" else str(m["role"]), "content": _to_text(m.get("content") or "")} for m in field]
    return [{"label": key, "style_role": role, "content": _to_text(field)}]


def render_row(row: DisplayRow, findings: list[Any] | None = None) -> RenderableType:
    """The whole detail for one row (a Rich renderable: texts, and grids for the findings' hanging indents)."""
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"Row {row.row:,}", "bold")
    head.append(f"   offset {row.offset:,} · {row.size:,} bytes", "dim")
    parts.append(head)
    for f in findings or []:  # a finding's message and fix wrap under themselves, right of its id
        glyph, style = SEVERITY_STYLE.get(_attr(f, "severity"), ("·", "dim"))
        rows: list[tuple[Text | str, RenderableType]] = [
            (Text(f"{glyph} {_attr(f, 'id')} ", style), Text(neutralize(str(_attr(f, "message") or ""))))]
        hint = _attr(f, "hint")
        if hint:
            rows.append(("", Text(f"fix: {neutralize(str(hint))}", "dim italic")))
        parts.append(hanging(rows))
    if row.note:
        parts.append(Text(neutralize(row.note), "yellow"))
    parts.append(Text(""))
    if row.value is None:
        parts.append(Text(neutralize(row.error or "could not parse"), "bold red"))
        parts.append(Text("raw text:", "dim"))
        parts.append(Padding(Text(neutralize(row.text)), (0, 0, 0, 2)))
        return Group(*parts)
    pair = preference_sides(row.value)
    if pair is not None:
        parts.extend(_pair_parts(*pair))
        return Group(*parts)
    turns, other_keys = turns_of(row.value)
    if not turns:
        parts.append(Text(neutralize(_to_text(row.value))))
        return Group(*parts)
    for turn in turns:
        label = Text()
        label.append(f" {neutralize(turn['label']).upper()} ", ROLE_STYLES.get(turn["style_role"], "bold reverse"))
        if turn.get("note"):
            label.append(f"  {neutralize(turn['note'])}", "dim")
        parts.append(label)
        content = turn["content"]
        body = Text(neutralize(content)) if content else Text("(empty)", "dim italic")
        parts.append(Padding(body, (0, 0, 0, 1)))
        for call in turn.get("tool_calls") or []:
            parts.append(Padding(_tool_call_text(call), (0, 0, 0, 1)))
        parts.append(Text(""))
    if other_keys:
        extra = {k: row.value[k] for k in other_keys}
        parts.append(Text("other keys:", "dim"))
        parts.append(Padding(Text(neutralize(_to_text(extra)), "dim"), (0, 0, 0, 2)))
    return Group(*parts)


def preference_sides(value: Any) -> tuple[list[dict[str, Any]], list[tuple[str, str, list[dict[str, Any]]]]] | None:
    """A preference row as (prompt turns, [(side label, style role, turns)]): the two sides of a
    pair (an implicit prompt is the turns both open with), or the one labelled completion of an
    unpaired (KTO) row. None for any other row."""
    if not isinstance(value, dict):
        return None
    if "chosen" in value and "rejected" in value:
        chosen, rejected = _field_turns("chosen", "chosen", value["chosen"]), _field_turns("rejected", "rejected", value["rejected"])
        prompt = _field_turns("prompt", "user", value["prompt"]) if "prompt" in value else []
        if "prompt" not in value and ("conversations" in value or "instruction" in value):  # LLaMA-Factory
            prompt, _ = turns_of({k: v for k, v in value.items() if k not in ("chosen", "rejected", "output")})
        if isinstance(value["chosen"], list) and isinstance(value["rejected"], list) and not isinstance(value.get("prompt"), list):
            shared = 0  # TRL's implicit prompt: the turns both sides open with
            while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared]["content"] == rejected[shared]["content"]:
                shared += 1
            prompt = [dict(t, label=t["label"].split("·")[-1], style_role=t["label"].split("·")[-1]) for t in chosen[:shared]]
            chosen, rejected = chosen[shared:], rejected[shared:]
        return prompt, [("chosen", "chosen", chosen), ("rejected", "rejected", rejected)]
    if isinstance(value.get("label"), bool) and ("completion" in value or "messages" in value):
        if "messages" in value:
            turns, _ = turns_of({"messages": value["messages"]})
            last = max((i for i, t in enumerate(turns) if t["style_role"] == "assistant"), default=len(turns))
            prompt, completion = turns[:last], turns[last:]
        else:
            prompt = _field_turns("prompt", "user", value.get("prompt"))
            completion = _field_turns("completion", "assistant", value.get("completion"))
        side = ("desirable ✓", "chosen", completion) if value["label"] else ("undesirable ✗", "rejected", completion)
        return prompt, [side]
    return None


def _pair_parts(prompt: list[dict[str, Any]], sides: list[tuple[str, str, list[dict[str, Any]]]]) -> list[RenderableType]:
    """The prompt, then the sides next to each other (one column each), every text literal."""
    from rich.table import Table

    parts: list[RenderableType] = []
    for turn in prompt:
        parts.append(Text(f" {neutralize(turn['label']).upper()} ", ROLE_STYLES.get(turn["style_role"], "bold reverse")))
        parts.append(Padding(Text(neutralize(turn["content"])) if turn["content"] else Text("(empty)", "dim italic"), (0, 0, 0, 1)))
    parts.append(Text(""))
    table = Table(expand=True, show_lines=False, box=None, padding=(0, 1))
    cells = []
    for label, style_role, turns in sides:
        table.add_column(Text(f" {label.upper()} ", ROLE_STYLES.get(style_role, "bold reverse")), ratio=1)
        cell = Text()
        for k, turn in enumerate(turns):
            if k:
                cell.append("\n")
            if len(turns) > 1:
                cell.append(f"{neutralize(turn['label'])}: ", "dim")
            cell.append(neutralize(turn["content"]) if turn["content"] else "(empty)")
            chars = len(turn["content"])
            cell.append(f"\n({chars:,} characters)", "dim")
        cells.append(cell)
    table.add_row(*cells)
    parts.append(table)
    return parts


def _tool_call_text(call: Any) -> Text:
    text = Text()
    text.append("⚙ tool call ", "bold #d7af5f")
    if isinstance(call, dict):
        fn = call.get("function") if isinstance(call.get("function"), dict) else {}
        name = fn.get("name", call.get("name", "?"))
        args = fn.get("arguments", call.get("arguments", ""))
        text.append(neutralize(str(name)), "bold")
        text.append("(")
        text.append(neutralize(args if isinstance(args, str) else _to_text(args)))
        text.append(")")
        if call.get("id"):
            text.append(f"  id={neutralize(str(call['id']))}", "dim")
    else:
        text.append(neutralize(_to_text(call)))
    return text


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class ConversationView(VerticalScroll, can_focus=True):
    """Scrollable detail of one row."""

    DEFAULT_CSS = """
    ConversationView { padding: 0 1; }
    ConversationView > #conversation-body { width: 100%; height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("No row selected.", "dim"), id="conversation-body")

    _shown: tuple[Any, Any] | None = None  # the (row, findings) the body shows; None after a message

    def show(self, row: DisplayRow | None, findings: list[Any] | None = None) -> None:
        """Show ``row`` with ``findings``; what is shown already is left as it is (scrolled where the user left
        it): the cursor resting on the row the screen opened with showed it again after the first paint, and
        each Static.update lays the whole screen out again (bench/mode_switch.py)."""
        if self._shown is not None and self._shown == (row, findings):
            return
        self._shown = (row, findings)
        body = self.query_one("#conversation-body", Static)
        if row is None:
            body.update(Text("No row selected.", "dim"))
        else:
            body.update(render_row(row, findings))
        self.scroll_home(animate=False)

    def show_message(self, message: str, style: str = "dim") -> None:
        self._shown = None
        self.query_one("#conversation-body", Static).update(Text(neutralize(message), style))
