"""What the app has open: the dataset and the model. Shared by every screen.

``ftui`` with no arguments opens the demo workspace: the sample support-ticket data
and the built-in demo model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui import paths

DEMO_MODEL = "demo"
DEMO_TRAIN = "support_tickets_train.jsonl"
DEMO_TEST = "support_tickets_test.jsonl"


@dataclass
class Workspace:
    data_path: Path | None
    model: str
    eval_path: Path | None = None
    # RunConfig field overrides carried from the Plan screen's "use this plan" to the Train form
    plan_overrides: dict[str, Any] = field(default_factory=dict)
    # the held-out file of each dataset opened so far: it follows its dataset, not whatever is open now
    held_out: dict[Path, Path] = field(default_factory=dict)
    # the dataset is one the Data screen opened, not the one given at launch: the Train form says so beside it
    opened_in_data: bool = False

    @property
    def is_demo(self) -> bool:
        return self.model == DEMO_MODEL

    @classmethod
    def create(cls, data_path: str | Path | None = None, model: str | None = None) -> Workspace:
        """The workspace for the given arguments; missing parts come from the demo."""
        if data_path is None:
            data = paths.sample_data(DEMO_TRAIN)
            eval_path: Path | None = paths.sample_data(DEMO_TEST)
        else:
            data, eval_path = Path(data_path).expanduser(), None
        return cls(data_path=data, model=model or DEMO_MODEL, eval_path=eval_path)

    def open_data(self, path: Path) -> None:
        """Make ``path`` the dataset. Its held-out file is the one it came with (the demo's test split) when it
        had one, else none: another file's test split would evaluate one dataset on another's rows."""
        previous = self.data_path
        if previous is not None and self.eval_path is not None:
            self.held_out[previous.resolve()] = self.eval_path
        if previous is None or previous.resolve() != path.resolve():
            self.eval_path = self.held_out.get(path.resolve())
            self.opened_in_data = True
        self.data_path = path

    def describe(self) -> str:
        data = self.data_path.name if self.data_path else "no dataset"
        model = "demo model" if self.is_demo else self.model
        return f"{data} · {model}"


_TRAIN_PART = re.compile(r"(?<![A-Za-z])train(?![A-Za-z])")


def test_split_beside(train_path: str | Path) -> Path | None:
    """The test split that sits beside a training file by name (``tickets_train.jsonl`` → ``tickets_test.jsonl``,
    ``train.jsonl`` → ``test.jsonl``), when it exists: how split datasets are usually laid out, the demo's too."""
    path = Path(train_path).expanduser()
    matches = list(_TRAIN_PART.finditer(path.name))
    if not matches:
        return None
    last = matches[-1]
    sibling = path.with_name(path.name[:last.start()] + "test" + path.name[last.end():])
    return sibling if sibling.is_file() else None
