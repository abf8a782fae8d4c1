"""Screenshot scenarios and their canned data live in ``ftui.tui.screenshots``; product code never reads ``tests/``."""

from __future__ import annotations

import re
from pathlib import Path

import ftui

PACKAGE = Path(ftui.__file__).resolve().parent


def test_product_code_reads_nothing_from_tests() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"""["']tests["']|tests/fixtures""", path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_screens_declare_no_screenshots() -> None:
    screens = PACKAGE / "tui" / "screens"
    offenders = [
        path.name
        for path in screens.glob("*.py")
        if re.search(r"SCREENSHOT|screenshots|Scenario\(", path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_every_scenario_has_a_unique_name() -> None:
    from ftui.tui.screenshots.__main__ import SCENARIOS

    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names)) and len(names) >= 19, names
