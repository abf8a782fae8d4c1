"""The check catalogue in docs/data-cli.md lists every check the linter has, with its severity, and the
preference checks in their own table (issue 16: the catalogue docs show the preference checks)."""

from __future__ import annotations

import re

from ftui import paths
from ftui.data.checks.catalogue import CHECKS

DOC = paths.REPO_ROOT / "docs" / "data-cli.md"


def _catalogue_rows() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8").split("## The check catalogue", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| ([EWI]\d{3}) \| (error|warning|info) \|", text, re.M)}


def test_every_check_is_in_the_docs_catalogue_with_its_severity() -> None:
    rows = _catalogue_rows()
    assert set(rows) == set(CHECKS), (set(CHECKS) - set(rows), set(rows) - set(CHECKS))
    assert {cid: info.severity for cid, info in CHECKS.items()} == rows


def test_the_preference_checks_have_their_own_table() -> None:
    text = DOC.read_text(encoding="utf-8").split("### Preference checks", 1)[1].split("\n## ", 1)[0]
    for cid in ("E006", "E016", "W002", "W004", "W018", "W019", "I006"):
        assert f"| {cid} |" in text, cid
    assert "W020" in DOC.read_text(encoding="utf-8").split("### Preference checks", 1)[0]  # images: the dialects table
