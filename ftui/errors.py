"""Errors that the core, the CLI and the TUI all name, so neither side imports the other for them.

``UserError`` is "the user can fix this": the CLI prints it as one line and exits 2,
the TUI shows it as a notice. It lives here, below both faces, rather than in ``cli.py``.
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""
