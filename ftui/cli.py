"""Command line: parse arguments, then call the core or launch the TUI.

Imports nothing heavy: ``ftui.tui`` is imported only when the TUI is launched, and
each sub-command module imports its heavy libraries inside its command function.
Every user error ends as one readable line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from ftui import __version__
from ftui.commands import COMMAND_MODULES, MODULE_OF_COMMAND
from ftui.errors import UserError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line with the fix, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.endswith("expected one argument"):
            # `--model -7B`: argparse takes a value that starts with '-' for another option
            option = message.removeprefix("argument ").split(":")[0].split("/")[-1]
            message += f": give it one (a value that starts with '-' as {option}=VALUE)"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


_TUI_OPTIONS_WITH_VALUE = ("--data", "--model", "--mode")


def _command_word(argv: Sequence[str]) -> str | None:
    """The first word of ``argv`` that is neither an option nor a TUI option's value (the sub-command),
    or a help option before it; None when there is none (the TUI)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in _TUI_OPTIONS_WITH_VALUE:
            skip = True
        elif token in ("-h", "--help") or not token.startswith("-"):
            return token
    return None


def _names_a_command(argv: Sequence[str]) -> bool:
    """Whether ``argv`` holds a sub-command (or asks for help): only then are the command
    parsers built, whose modules cost ~30 ms of imports before the TUI's first frame."""
    return _command_word(argv) is not None


def build_parser(commands: bool = True, only: str | None = None) -> argparse.ArgumentParser:
    """The ftui parser; ``only``: the one command module to register (``MODULE_OF_COMMAND``), not all."""
    parser = _Parser(
        prog="ftui",
        description="A terminal workbench for fine-tuning LLMs: plan, data, train, evaluate. "
        "Run with no command to open the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"ftui {__version__}")
    parser.add_argument("--data", metavar="PATH", help="open this dataset in the Data screen")
    parser.add_argument("--model", metavar="PATH_OR_ID", help="model to use (default: the built-in demo model)")
    parser.add_argument(
        "--mode", choices=("plan", "data", "train", "evaluate"), help="mode to open first (default: plan)"
    )
    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in (only,) if only else COMMAND_MODULES:
        module = importlib.import_module(f"ftui.commands.{name}")
        module.register(sub)
    return parser


def _launch_tui(args: argparse.Namespace) -> int:
    from ftui import paths

    if args.data is not None:
        data = Path(args.data).expanduser()
        if not data.exists():
            raise UserError(f"--data: {data} does not exist. Give the path of a .jsonl or .json dataset.")
        if data.is_dir():
            raise UserError(f"--data: {data} is a directory. Give the path of a .jsonl or .json file inside it.")
    for directory, what, env in (
        (paths.runs_dir(), "runs", "FTUI_RUNS_DIR"),
        (paths.cache_dir(), "cache", "FTUI_CACHE_DIR"),
    ):
        try:
            paths.ensure_writable_dir(directory, what, env)
        except paths.DirectoryError as exc:
            raise UserError(str(exc)) from None

    from ftui.tui.app import FtuiApp

    # What is loaded by now (Textual, Rich, our modules) lives as long as the process: moved out
    # of the collector's reach, the full collection that start-up would otherwise trigger in the
    # middle of the first frame (~35 ms on this machine, freeing nothing) does not happen.
    gc.freeze()

    def run_app() -> int:
        app = FtuiApp(data_path=args.data, model=args.model, start_mode=args.mode)
        app.run()
        return app.return_code or 0

    from ftui.tui.launch import run_detachable

    return run_detachable(run_app)  # "keep running" on quit then gives the shell its prompt back


def quiet_libraries() -> None:
    """Keep library chatter (weight-loading progress bars, advisory and deprecation warnings)
    out of our output: it buries the one line that matters in the CLI and scribbles over the
    TUI. Set before any ML library is imported; a user's explicit environment wins."""
    import logging
    import os
    import warnings

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)  # its per-retry warnings, not our one line
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _no_collection_at_exit() -> None:
    """The heap frozen at exit (the program itself only): the interpreter's finalization otherwise runs
    full collections over all that is loaded (the ML stack, a trained model), ~1.3 of the ~1.6 CPU-s (and
    ~2 s of wall time) a finished 'ftui train' spent after main() returned, to free memory the exit frees
    anyway. Exit handlers (log flushing, temp-dir clean-up) run as before; cycles of garbage still there
    are left to the OS as os._exit would leave them (a training run's have no finalizer: no file, no __del__)."""
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    quiet_libraries()
    own_process = argv is None  # the program itself, not a test or a host calling main(): may change process state
    if own_process:
        from ftui.train import import_speedups

        import_speedups.install()  # before any command imports the ML stack
        atexit.register(_no_collection_at_exit)
    argv = list(sys.argv[1:] if argv is None else argv)
    word = _command_word(argv)
    parser = build_parser(commands=word is not None, only=MODULE_OF_COMMAND.get(word or ""))
    args = parser.parse_args(argv)
    args.own_process = own_process
    try:
        if args.command is None:
            return _launch_tui(args)
        return int(args.func(args) or 0)
    except UserError as exc:
        from ftui.secrets import scrub_secrets
        from ftui.textsafe import neutralize

        # A path, a name or a remote error text: no key and no terminal escape may reach the terminal.
        print(f"ftui: {neutralize(scrub_secrets(str(exc)))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ftui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into `head` or a pager that quit: not an error worth a traceback
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
