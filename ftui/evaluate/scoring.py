"""The one scorer: automatic metrics and paired comparisons of several systems' outputs.

``ftui eval metrics``, the Generate screen, the session results (Results screen and
``ftui eval report``) all call ``score_outputs``, so the same outputs with the same
``n_bootstrap`` and ``seed`` print the same numbers everywhere. A session stores its
``n_bootstrap`` and bootstrap seed in ``session.json`` (see ``ab.SessionPlan``); the defaults
below are what the CLI and the Generate screen use, so a session created from them agrees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ftui.evaluate import metrics as M
from ftui.evaluate.bootstrap_defaults import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOTSTRAP
from ftui.evaluate.items import EvalItem


@dataclass
class Scored:
    """Per-system scores, summaries and paired comparisons on the items every system answered."""

    task: str
    labels: list[str]
    item_ids: list[str]
    scores: dict[str, M.EvalScores] = field(default_factory=dict)
    metrics: dict[str, M.SystemMetrics] = field(default_factory=dict)
    comparisons: list[M.PairedComparison] = field(default_factory=list)
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP
    seed: int = DEFAULT_BOOTSTRAP_SEED


def score_outputs(
    items: Sequence[EvalItem],
    outputs: Mapping[str, Mapping[str, str]],
    *,
    task: str | None = None,
    labels: Sequence[str] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
) -> Scored:
    """Score every system on the items that have a reference and an output from every system.

    ``pairs`` (default: the first system against each other one) are compared with McNemar's test
    and paired bootstrap CIs of ``n_bootstrap`` resamples seeded with ``seed``. Empty when no item
    has a reference.
    """
    systems = list(outputs)
    common = [it for it in items if it.reference is not None and all(it.id in outputs[s] for s in systems)]
    refs = {it.id: it.reference for it in common}
    if not refs:
        return Scored(task or "text", [], [], n_bootstrap=n_bootstrap, seed=seed)
    kind = task or M.detect_task(list(refs.values()))
    labs = list(labels) if labels else (M.labels_from(list(refs.values())) if kind == "label" else [])
    scores = {s: M.score_system(s, {i: outputs[s][i] for i in refs}, refs, kind, labs or None) for s in systems}
    if pairs is None:
        pairs = [(systems[0], s) for s in systems[1:]]
    comparisons = [M.compare(scores[a], scores[b], n_bootstrap=n_bootstrap, seed=seed)
                   for a, b in pairs if a in scores and b in scores]
    return Scored(kind, labs, list(refs), scores, {s: M.summarize(sc) for s, sc in scores.items()}, comparisons,
                  n_bootstrap, seed)
