"""The training errors that several train modules raise or catch.

Defined here, below the worker and the backends, so that ``hf_backend`` can raise a
``TrainError`` without importing ``worker`` (which imports the backends to run them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ftui.config import ConfigProblem


class InvalidRunConfig(Exception):
    """The config has problems; ``problems`` lists each with its field and fix."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class RunDirError(Exception):
    """A run directory cannot be created, found or used; the message says how to fix it."""


class MaskingError(Exception):
    """A template or tokenizer problem that stops training; ``message`` says what, ``fix`` what to do."""

    def __init__(self, message: str, fix: str, field: str = "model") -> None:
        super().__init__(f"{message}. {fix}")
        self.message = message
        self.fix = fix
        self.field = field


class TrainError(Exception):
    """A failure the backend already explained: ``str()`` is the message, ``hint`` the fix."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
