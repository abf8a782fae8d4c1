"""CLI sub-commands for the train area (see ftui/commands/__init__.py for the contract)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the ftui parser."""
