"""Close the loop: a blind A/B session's votes become a DPO run that starts from the fine-tuned run.

The session's pairs with a strict majority of decisive votes are exported as TRL preference rows
(``vote_export``, the same ``dpo`` export as the Results screen), and the run config is the parent
run's own (model, LoRA shape, sequence length, device...) turned into ``method: dpo``: the parent's
LoRA adapter is trained on (``init_adapter``) and is also the reference, so DPO pulls the tuned model
towards what the raters preferred without drifting from it. A full fine-tune's ``model/`` becomes the
base of a new adapter. The learning rate is the parent's / 10 (preference tuning moves a tuned model
gently); ``--set`` overrides anything.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.config import RunConfig

PAIRS_FILE = "dpo_pairs.jsonl"
LR_FACTOR = 0.1


class VotesError(Exception):
    """The session cannot seed a DPO run; the message says why and what to do."""


@dataclass
class VotesRun:
    config: RunConfig
    parent_system: str  # the session's name for the starting system
    parent_run: Path | None  # its run directory, when it came from a run
    pairs: int
    pairs_path: Path

    def describe(self) -> str:
        parent = self.parent_run.name if self.parent_run else self.parent_system
        return (f"DPO on {self.pairs} voted pairs ({self.pairs_path}) starting from {parent}; "
                f"learning rate {self.config.learning_rate:g} (the parent's x {LR_FACTOR:g})")


def starting_system(plan: Any, votes: list[Any], system: str | None = None) -> str:
    """The system to train on from: ``system``, else the one fine-tuned run, else the run the raters preferred most."""
    local = [s for s in plan.systems if (plan.resolved.get(s) or {}).get("kind") in ("adapter", "merged")]
    if system is not None:
        if system not in plan.systems:
            raise VotesError(f"system {system!r} is not in this session ({', '.join(plan.systems)})")
        if system not in local:
            raise VotesError(f"system {system!r} is not a local fine-tune (an adapter or a merged model) to train on")
        return system
    if not local:
        raise VotesError("no system of this session is a local fine-tune (run:ID, adapter:PATH or merged:PATH); "
                         "DPO needs one to start from")
    runs = [s for s in local if (plan.resolved.get(s) or {}).get("run_id")] or local
    if len(runs) == 1:
        return runs[0]
    wins = {s: sum(1 for v in votes if getattr(v, "preferred", None) == s) for s in runs}
    return max(runs, key=lambda s: (wins[s], -runs.index(s)))


def run_dir_of(path: Path) -> Path | None:
    """The run directory holding ``path`` (its adapter/, model/ or a checkpoint), or None."""
    return next((p for p in (path.parent, path.parent.parent, path.parent.parent.parent)
                 if (p / "events.jsonl").is_file() and (p / "config.yaml").is_file()), None)


def dpo_run_from_votes(session: Any, pairs_path: Path | None = None, system: str | None = None) -> VotesRun:
    """Export the session's voted pairs and build the DPO run config (``session``: an unblinded ``BlindSession``)."""
    from ftui.train import runs

    plan = session.plan
    votes = session.all_votes()
    name = starting_system(plan, votes, system)
    # where the Results screen's own DPO export goes
    pairs_path = Path(pairs_path) if pairs_path else Path(session.directory) / "exports" / f"{session.rater}-{PAIRS_FILE}"
    n = session.export(pairs_path, "dpo")
    if n == 0:
        raise VotesError("no pair has a majority of decisive votes (ties and 'both bad' do not count); "
                         "rate more items, then try again")
    record = plan.resolved.get(name) or {}
    checkpoint = record.get("checkpoint")
    parent_run = run_dir_of(Path(checkpoint)) if checkpoint else None
    base = runs.load_run_config(parent_run) if parent_run is not None else RunConfig()
    if base.method == "openai":
        raise VotesError(f"{name} is an OpenAI fine-tune; local DPO needs a local model")
    adapter = record.get("kind") == "adapter"
    config = dataclasses.replace(
        base,
        method="dpo",
        adapter="qlora" if base.method == "qlora" or base.adapter == "qlora" else "lora",
        # the parent's own model name ("demo", a Hub id) over the path its adapter recorded
        model=(base.model if parent_run is not None else str(record.get("model"))) if adapter
        else str(checkpoint or record.get("model")),
        init_adapter=str(checkpoint) if adapter else None,
        train_path=str(pairs_path),
        eval_path=None,
        eval_fraction=0.1 if n >= 20 else 0.0,
        data_format="auto",
        learning_rate=base.learning_rate * LR_FACTOR,
        max_steps=-1,
        num_epochs=3.0,
        packing=False,
        early_stopping_patience=0,
        output_dir=None,
        extra={},
    )
    return VotesRun(config=config, parent_system=name, parent_run=parent_run, pairs=n, pairs_path=pairs_path)
