"""A sub-command builds only its own module's parsers (issue 17: every CLI child started ~65 ms later
importing and building all eight); help and unknown words still see every command."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from ftui import cli
from ftui.commands import COMMAND_MODULES, MODULE_OF_COMMAND


def test_the_table_names_the_module_that_registers_each_command() -> None:
    registered = {}
    for name in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"ftui.commands.{name}").register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == MODULE_OF_COMMAND


def test_a_command_imports_only_its_own_command_module() -> None:
    script = (
        "import sys\n"
        "from ftui import cli\n"
        "sys.argv = ['ftui', '--mode', 'data', 'runs', '--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('ftui.commands.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "list training runs" in out.stdout.lower() or "usage: ftui runs" in out.stdout
    assert out.stdout.splitlines()[-1] == "['ftui.commands.train']"


@pytest.mark.parametrize("argv", [["--help"], ["-h", "train"], ["bogus"]], ids=["help", "help-first", "unknown"])
def test_help_and_unknown_words_see_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "demo-model" in text and "checkpoints" in text  # listed (help) or offered as choices (unknown)


def test_the_command_word_skips_the_tui_options() -> None:
    assert cli._command_word(["--data", "train.jsonl", "--mode", "plan", "--model", "x", "lint", "f"]) == "lint"
    assert cli._command_word(["--help", "train"]) == "--help" and cli._command_word(["--mode", "data"]) is None
