"""The dataset linter: one streaming pass over the rows, then the file-wide checks.

Public API: ``lint_file`` (-> ``LintReport`` of ``Finding``s), ``report_json``, and
``lint_in_child`` (the same lint in a child process, streaming findings and progress to
a UI); ``LintState`` is what the pass gathers, the contract between the modules:

- ``drive``: batches of rows (~1 MB of whole JSONL lines), the RE2/pyarrow prefilter in a
  thread, and each batch to the columnar fast path (``fast``: plain chat rows as arrays)
  or the Python path (``rows``: the per-row checks as named steps);
- ``state``: file-wide state as compact ``array`` columns (offsets, lengths, kinds, 64-bit
  text keys: a few dozen bytes per row) and small counters;
- ``finish``: duplicates, contradictions, near duplicates and leakage (``evalset``) from
  those columns after the pass, then the corpus checks (``checks.corpus``) and the stats;
- ``parallel``: a large file split into byte ranges linted by processes, merged in order;
- ``api.lint_file``: ``on_progress(rows_done, bytes_done, bytes_total)`` and
  ``on_findings(list)`` are called once per batch so a UI can stream; ``cancel`` (anything
  with ``is_set()``) stops early. Duplicate and contradiction findings arrive at the end.

Check ids, severities and fixes live in ``checks.catalogue``. Names are loaded on first
use, so ``ftui.data.lint.stream`` (what a UI imports) stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ftui.data.lint.api import lint_file
    from ftui.data.lint.report import Finding, LintReport, report_json
    from ftui.data.lint.state import LintState
    from ftui.data.lint.stream import LintOutcome, lint_in_child

_HOMES = {
    "lint_file": "api",
    "Finding": "report",
    "LintReport": "report",
    "report_json": "report",
    "LintState": "state",
    "LintOutcome": "stream",
    "lint_in_child": "stream",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)


__all__ = ["Finding", "LintOutcome", "LintReport", "LintState", "lint_file", "lint_in_child", "report_json"]
