"""CLI subcommands, one module per area.

Each module exposes ``register(subparsers)`` that adds its sub-commands and sets
``func`` (a callable taking the parsed ``argparse.Namespace`` and returning an exit
code). Modules here must stay light at import time: heavy libraries are imported
inside the command functions.
"""

COMMAND_MODULES = ("demo", "data", "plan", "train", "evaluate", "merge", "export", "chat")

# The module that registers each top-level command: `ftui train ...` builds (and imports) only that module's
# parsers, ~65 ms less start-up for every command; anything else (help, an unknown word) builds them all.
# tests/unit/test_cli_parser.py checks it against what the modules register.
MODULE_OF_COMMAND = {
    "demo-model": "demo", "lint": "data", "data": "data", "plan": "plan", "train": "train", "runs": "train",
    "attach": "train", "eval": "evaluate", "merge": "merge", "export": "export", "checkpoints": "export",
    "chat": "chat",
}
