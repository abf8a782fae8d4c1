"""One run event as one line of text: the words every view of a run uses.

The live TUI monitor, a past run reopened in it, ``ftui train``'s console and ``ftui attach``
all read the same event log; they describe its events through ``describe_event`` so a
run reads the same wherever it is watched. The text is terminal-safe (control sequences
neutralised, one line); each view picks its own style for ``tone``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ftui.textsafe import neutralize, one_line
from ftui.train.history import format_eval_time

# tone -> a Rich style, for the views that draw with Rich (the console and the TUI)
TONE_STYLE = {"info": "", "dim": "dim", "good": "green", "warn": "yellow", "bad": "bold red"}
LEVEL_TONE = {"error": "bad", "warning": "warn"}


@dataclass(frozen=True)
class EventLine:
    """What an event says: one line, how much it matters, and a second line when there is one (a fix)."""

    text: str
    tone: str = "info"  # info, dim, good, warn, bad
    detail: str = ""  # e.g. a failure's hint: shown under the line, after "hint: "

    @property
    def style(self) -> str:
        return TONE_STYLE.get(self.tone, "")


def _safe(text: object, limit: int = 300) -> str:
    return one_line(neutralize(str(text)), limit)


def describe_event(event: Any) -> EventLine | None:
    """``event`` (a ``ftui.train.events`` event) in words, or None for events that are only numbers (memory)."""
    t = event.type
    if t == "started":
        steps = f" · {event.total_steps} steps" if event.total_steps else ""  # OpenAI jobs: unknown until they run
        resumed = f", resumed at step {event.resumed_from_step}" if event.resumed_from_step else ""
        return EventLine(f"started {event.method} on {_safe(event.model, 60)} · {_safe(event.device or '?', 40)}"
                         f"{steps}{resumed}", "dim")
    if t == "log":
        parts = [f"step {event.step}"]
        if event.loss is not None:
            parts.append(f"loss {event.loss:.4f}")
        if getattr(event, "rewards_margin", None) is not None:
            parts.append(f"margin {event.rewards_margin:+.3f}")
        if getattr(event, "rewards_accuracy", None) is not None:
            parts.append(f"acc {event.rewards_accuracy:.0%}")
        if event.lr is not None:
            parts.append(f"lr {event.lr:.2e}")
        if event.tokens_per_s:
            parts.append(f"{event.tokens_per_s:,.0f} tok/s")
        return EventLine("  ".join(parts))
    if t == "eval":
        if event.eval_loss is None:
            return None
        took = f"  ({format_eval_time(event.runtime_s)})" if event.runtime_s is not None else ""
        return EventLine(f"eval  step {event.step:>6}  eval_loss {event.eval_loss:.4f}{took}")
    if t == "checkpoint":
        return EventLine(f"checkpoint step {event.step}: {_safe(event.path)}", "dim")
    if t == "data":  # rows cut or dropped by max_seq_len deserve attention
        return EventLine(_safe(event.describe(), 1000), "warn" if event.dropped or event.truncated or event.skipped_rows else "dim")
    if t == "message":
        return EventLine(_safe(event.text), LEVEL_TONE.get(event.level, "dim"))
    if t == "failed":
        return EventLine(f"failed: {_safe(event.message, 1000)}", "bad", _safe(event.hint, 1000) if event.hint else "")
    if t == "stopped":
        if event.saved and event.checkpoint:
            saved = f", checkpoint {_safe(event.checkpoint)}"
        else:
            saved = " (saved)" if event.saved else " (not saved)"
        return EventLine(f"stopped at step {event.step}{saved}", "warn")
    if t == "finished":
        where = event.adapter_path or event.merged_path or ""
        return EventLine(f"finished at step {event.step}" + (f": {_safe(where)}" if where else ""), "good")
    return None
