"""What a blind session fixes when it is created, so that it stays blind and can be traced later.

- ``fresh_seed``: order and sides are drawn from a new random seed per session (stored in the
  plan); a fixed default would show a rater the same order and sides on every rerun.
- ``resolve_systems``: each system as the concrete thing it was at creation (``run:latest`` ->
  the run id and the adapter/checkpoint directory, with its base model), stored in the plan, so
  which run was rated is never lost when a newer run appears.
- ``normalisation_record``: the output normaliser's version and rules, stored in the plan and shown
  in the rating screen's details (every system went through the same rules).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftui.evaluate.normalize import NORMALIZER_VERSION, RULES


def fresh_seed() -> int:
    """A new random seed for a session's order and side assignment."""
    return secrets.randbelow(2**31 - 1) + 1


def resolve_system(spec: Any) -> dict[str, Any]:
    """A ``SystemSpec`` as stored in the session: kind, model, adapter or merged directory, run id."""
    record: dict[str, Any] = {"kind": spec.kind, "spec": spec.describe(), "model": spec.model}
    directory = spec.adapter if spec.kind == "adapter" else spec.model if spec.kind == "merged" else None
    if directory:
        path = Path(directory).expanduser().resolve()
        record["checkpoint"] = str(path)
        # runs/<id>/adapter, runs/<id>/model, runs/<id>/checkpoint-N, runs/<id>/checkpoint-N/adapter …
        run_dir = next((p for p in (path.parent, path.parent.parent) if (p / "events.jsonl").is_file()), None)
        if run_dir is not None:
            record["run_id"] = run_dir.name
            if path != run_dir / "adapter" and path != run_dir / "model":
                record["checkpoint_of_run"] = str(path.relative_to(run_dir))
    if spec.kind == "fewshot":
        record.update(k=spec.k, train_file=spec.train_file, fewshot_seed=spec.fewshot_seed)
    if spec.kind == "openai":
        record["base_url"] = spec.base_url
    if spec.is_local:
        record.update(load_4bit=spec.load_4bit, device=spec.device)
    return record


def resolve_systems(specs: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """name -> ``resolve_system`` record for every spec."""
    return {spec.name: resolve_system(spec) for spec in specs}


def normalisation_record() -> dict[str, Any]:
    return {"version": NORMALIZER_VERSION, "rules": list(RULES)}
