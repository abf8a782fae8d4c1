"""Close the loop's last step: a blind session that puts a run trained on from another (a DPO run from
votes, ``init_adapter``) against that parent, so the raters judge whether the preference tuning helped.

The prompts are held out where possible: the parent's own test file (``eval_path``) without the prompts
the child trained on. Without one, the voted session's prompts are reused, and the session's name says
"in-sample" (the child was tuned on exactly those, so a win there flatters it). The Runs view's ``b``
calls this in a thread; ``ftui eval session --system parent=run:P --system dpo=run:C`` is the same by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from threading import Event
from typing import Any

from ftui.evaluate.from_votes import run_dir_of
from ftui.evaluate.items import EvalItem

DEFAULT_ITEMS = 40  # enough prompts for a first verdict, few enough to generate in a minute on a CPU
DEFAULT_MAX_NEW_TOKENS = 64


class ParentError(Exception):
    """The run cannot be compared with a parent; the message says why and what to do instead."""


@dataclass
class ParentComparison:
    run_dir: Path  # the child (e.g. the DPO run)
    parent_dir: Path
    items: list[EvalItem]
    source: str  # where the prompts come from, for the notice
    in_sample: bool  # the child trained on these prompts
    rater: str | None  # the voted session's rater, a sensible default

    @property
    def systems(self) -> list[str]:
        """The ``--system`` texts: the parent first (the session's base), then the child."""
        return [f"parent=run:{self.parent_dir}", f"{self.child_label}=run:{self.run_dir}"]

    @property
    def child_label(self) -> str:
        method = _config(self.run_dir).get("method") or "child"
        return re.sub(r"[^A-Za-z0-9_-]+", "-", str(method)) or "child"


def _config(run_dir: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def votes_rater(run_dir: str | Path) -> str | None:
    """The rater whose votes trained ``run_dir`` (``SESSION/exports/RATER-dpo_pairs.jsonl``), else None."""
    from ftui.evaluate.from_votes import PAIRS_FILE

    name = Path(str(_config(Path(run_dir)).get("train_path") or "")).name
    return name.removesuffix(f"-{PAIRS_FILE}") if name.endswith(f"-{PAIRS_FILE}") else None


def _finished(run_dir: Path) -> bool:
    return any((run_dir / sub).is_dir() for sub in ("adapter", "model"))


def _prompt_key(messages: Any) -> str:
    return json.dumps([(m.get("role"), m.get("content")) for m in messages if isinstance(m, dict)])


def _trained_prompts(train_path: str | None) -> set[str]:
    if not train_path or not Path(train_path).is_file():
        return set()
    keys = set()
    for line in Path(train_path).read_text(encoding="utf-8").splitlines():
        try:
            prompt = json.loads(line).get("prompt")
        except (ValueError, AttributeError):
            continue
        if isinstance(prompt, list):
            keys.add(_prompt_key(prompt))
        elif isinstance(prompt, str):
            keys.add(_prompt_key([{"role": "user", "content": prompt}]))
    return keys


def parent_comparison(run_dir: str | Path, limit: int | None = None) -> ParentComparison:
    """What a parent-vs-child session of ``run_dir`` would hold (at most ``limit`` prompts, default
    DEFAULT_ITEMS); ParentError when it has no usable parent."""
    from ftui.evaluate.items import ItemsError, load_items
    from ftui.evaluate.session_plan import SessionError, load_plan

    run_dir = Path(run_dir)
    limit = limit or DEFAULT_ITEMS
    config = _config(run_dir)
    init = config.get("init_adapter")
    if not init:
        raise ParentError(f"{run_dir.name} did not train on from another run (no init_adapter); compare it with "
                          "the base or another run from Evaluate (v)")
    parent = run_dir_of(Path(init))
    if parent is None:
        raise ParentError(f"the adapter {run_dir.name} started from ({init}) is not inside a run directory any more; "
                          "compare it by hand: ftui eval session --system adapter:PATH --system run:ID")
    if not _finished(run_dir):
        raise ParentError(f"{run_dir.name} has no adapter yet (still training, stopped or failed); let it finish")
    trained = _trained_prompts(config.get("train_path"))
    test = _config(parent).get("eval_path")
    if test and Path(test).is_file():
        try:
            held_out = [it for it in load_items(test) if _prompt_key(it.messages) not in trained]
        except ItemsError as exc:
            raise ParentError(f"the parent's test file cannot be read: {exc}") from None
        if held_out:
            return ParentComparison(run_dir, parent, held_out[:limit], f"{Path(test).name} (held out)", False,
                                    votes_rater(run_dir))
    session_dir = Path(config.get("train_path") or ".").parent.parent  # SESSION/exports/RATER-dpo_pairs.jsonl
    try:
        plan = load_plan(session_dir)
    except SessionError:
        raise ParentError(f"no test file to compare {run_dir.name} with its parent on (the parent has no eval_path); "
                          "use Evaluate (g) with a test file") from None
    return ParentComparison(run_dir, parent, plan.items[:limit], f"the voted session {session_dir.name}", True,
                            votes_rater(run_dir))


def start_parent_session(
    comparison: ParentComparison,
    rater: str,
    *,
    directory: Path | None = None,
    max_new_tokens: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    cancel: Event | None = None,
) -> Path | None:
    """Generate both runs' outputs and open a blind session (parent = its base); its directory, or None if cancelled."""
    from ftui import paths
    from ftui.evaluate.generate import GenerationConfig
    from ftui.evaluate.pipeline import create_session
    from ftui.evaluate.systems import parse_system

    specs = [parse_system(text) for text in comparison.systems]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    child = comparison.child_label
    directory = directory or paths.sessions_dir() / f"{child}-vs-parent-{stamp}"
    name = f"{comparison.run_dir.name[:40]}: {child} vs parent" + (" (in-sample)" if comparison.in_sample else "")
    session = create_session(directory, specs, comparison.items, rater, config=GenerationConfig(max_new_tokens=max_new_tokens or DEFAULT_MAX_NEW_TOKENS),
                             base_system="parent", name=name[:80], progress=progress, cancel=cancel)
    if session is None:
        return None
    session.close()
    return directory
