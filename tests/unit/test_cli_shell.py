"""The CLI's own surface: --version, --help, and one clear line (exit 2) for each bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ftui import __version__


def run_ftui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_version() -> None:
    result = run_ftui("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"ftui {__version__}"


def test_help_lists_commands() -> None:
    result = run_ftui("--help")
    assert result.returncode == 0
    assert "usage: ftui" in result.stdout
    assert "--data" in result.stdout


def test_unknown_subcommand() -> None:
    assert_one_line_error(run_ftui("frobnicate"), "frobnicate", "--help")


def test_an_option_value_that_starts_with_a_dash_gets_the_fix() -> None:
    # argparse reads "-7B" as another option and says only "expected one argument"
    assert_one_line_error(run_ftui("plan", "--model", "-7B"), "--model", "--model=VALUE")


def test_missing_data_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    assert_one_line_error(run_ftui("--data", str(missing)), "does not exist", str(missing))


def test_data_path_is_directory(tmp_path: Path) -> None:
    assert_one_line_error(run_ftui("--data", str(tmp_path)), "is a directory")


def test_runs_dir_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_ftui(env={"FTUI_RUNS_DIR": str(blocker / "runs")})
    assert_one_line_error(result, "runs directory", "FTUI_RUNS_DIR")


def test_cache_dir_not_writable(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits; a path below a regular file fails for everyone
        blocker = tmp_path / "cache-file"
        blocker.write_text("x")
        cache = blocker / "cache"
    else:
        cache = tmp_path / "ro"
        cache.mkdir()
        cache.chmod(0o500)
    result = run_ftui(env={"FTUI_CACHE_DIR": str(cache)})
    assert_one_line_error(result, "cache directory", "FTUI_CACHE_DIR")


def test_runs_dir_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("not a directory")
    result = run_ftui(env={"FTUI_RUNS_DIR": str(blocker)})
    assert_one_line_error(result, "is a file, not a directory", "FTUI_RUNS_DIR")
    result = run_ftui("runs", env={"FTUI_RUNS_DIR": str(blocker)})
    assert_one_line_error(result, "is a file, not a directory", "FTUI_RUNS_DIR")


def test_runs_dir_that_cannot_be_read(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    """Permission bits do not stop root, so the refusal is simulated where the OS would give it."""
    from ftui import paths
    from ftui.cli import main

    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("FTUI_RUNS_DIR", str(runs))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == runs else real_access(p, mode))
    try:
        paths.ensure_writable_dir(runs, "runs", "FTUI_RUNS_DIR")
    except paths.DirectoryError as exc:
        assert "not readable and writable" in str(exc) and "FTUI_RUNS_DIR" in str(exc)
    else:
        raise AssertionError("an unreadable runs directory passed the start-up check")

    real_iterdir = Path.iterdir

    def iterdir(self: Path):  # noqa: ANN202
        if self == runs:
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert main(["runs"]) == 2
    err = capsys.readouterr().err
    assert "cannot read the runs directory" in err and "Permission denied" in err and "Traceback" not in err


def test_only_a_command_line_with_a_command_builds_the_command_parsers() -> None:
    from ftui.cli import _names_a_command

    assert not _names_a_command([])
    assert not _names_a_command(["--data", "train.jsonl", "--mode", "data", "--model", "org/name"])
    assert _names_a_command(["lint", "x.jsonl"]) and _names_a_command(["--help"]) and _names_a_command(["bogus"])
    assert _names_a_command(["--data", "x.jsonl", "plan"])
