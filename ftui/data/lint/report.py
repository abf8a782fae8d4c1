"""What a lint run hands back: findings, the report, and the callback types a caller passes in."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ftui.data.checks.catalogue import SEVERITY_ORDER


@dataclass(slots=True)
class Finding:
    """One problem: ``row``/``offset`` are None for findings about the whole file."""

    id: str
    severity: str
    row: int | None
    offset: int | None
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "row": self.row, "offset": self.offset,
                "message": self.message, "hint": self.hint}


@dataclass
class LintReport:
    format: str
    rows: int
    findings: list[Finding]
    summary: dict[str, Any]
    stats: dict[str, Any]
    path: str = ""
    profile: str = "trl"
    format_label: str = ""
    cancelled: bool = False
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.summary.get("errors", 0)

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` object (docs/data-cli.md)."""
        return {
            "format": self.format,
            "format_label": self.format_label,
            "path": self.path,
            "profile": self.profile,
            "rows": self.rows,
            "cancelled": self.cancelled,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "stats": self.stats,
        }

    def by_id(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.id, []).append(f)
        return dict(sorted(out.items(), key=lambda kv: (SEVERITY_ORDER[kv[1][0].severity], kv[0])))


class CancelFlag(Protocol):
    """Anything with ``is_set()`` (a ``threading.Event``): set it to stop a lint early."""

    def is_set(self) -> bool: ...


ProgressFn = Callable[[int, int, int], None]  # (rows_done, bytes_done, bytes_total)
FindingsFn = Callable[[list[Finding]], None]


def report_json(report: LintReport) -> bytes:
    return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2 if os.environ.get("FTUI_JSON_INDENT") else 0)
