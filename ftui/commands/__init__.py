"""CLI subcommands, one module per area.

Each module exposes ``register(subparsers)`` that adds its sub-commands and sets
``func`` (a callable taking the parsed ``argparse.Namespace`` and returning an exit
code). Modules here must stay light at import time: heavy libraries are imported
inside the command functions.
"""

COMMAND_MODULES = ("demo", "data", "plan", "train", "evaluate", "merge", "export", "chat")
