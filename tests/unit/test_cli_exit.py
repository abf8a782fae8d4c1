"""The program itself exits without collecting its heap (issue 17): a finished 'ftui train' spent ~1.3 CPU-s
and ~2 s of wall time in the interpreter's final collections over the ML stack and the model."""

from __future__ import annotations

import atexit
import subprocess
import sys

import pytest

from ftui.cli import main


def test_the_program_freezes_its_heap_before_the_interpreter_finalizes() -> None:
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 1000))  # runs after ftui's own handler\n"
        "from ftui import cli\n"
        "import json, argparse, pathlib  # something on the heap\n"
        "sys.argv = ['ftui', '--version']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "frozen True"


def test_a_host_calling_main_keeps_its_exit_as_it_is() -> None:
    before = atexit._ncallbacks()
    with pytest.raises(SystemExit):
        main(["--version"])
    assert atexit._ncallbacks() == before
