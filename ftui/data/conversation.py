"""One conversation model every dataset format normalises to.

Linting, stats, conversion and display all work on ``Conversation`` so they do not
care whether the file was chat ``messages``, Alpaca, ShareGPT or prompt-completion.
The original row number and byte offset are kept so a finding can point back at the
exact line in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


@dataclass
class Message:
    """One turn. ``content`` is the text (list-of-parts content is flattened to text,
    the original parts kept in ``parts``)."""

    role: str
    content: str
    tool_calls: list[dict[str, Any]] | None = None
    name: str | None = None
    weight: int | None = None  # OpenAI per-message training weight (0 or 1)
    parts: list[dict[str, Any]] | None = None
    reasoning: str | None = None  # the model's reasoning (``reasoning_content``), apart from the answer
    tool_call_id: str | None = None


@dataclass
class Conversation:
    """A normalised row.

    ``row`` is the 1-based line number in a JSONL file (1-based element index in a
    JSON array); ``offset`` the byte offset where the row starts.
    """

    row: int
    offset: int
    messages: list[Message]
    source_format: str
    raw: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def by_role(self, role: str) -> list[Message]:
        return [m for m in self.messages if m.role == role]

    @property
    def prompt_text(self) -> str:
        """Everything the model is conditioned on (system + user/tool turns before the last assistant turn)."""
        last_assistant = max((i for i, m in enumerate(self.messages) if m.role == "assistant"), default=len(self.messages))
        return "\n".join(m.content for m in self.messages[:last_assistant] if m.role != "assistant")

    @property
    def completion_text(self) -> str:
        """The last assistant turn (what the model is trained to produce)."""
        for m in reversed(self.messages):
            if m.role == "assistant":
                return m.content
        return ""
