"""Multi-system steps the CLI and the Evaluate screen share: generate for several systems, then
score them or open a blind session. Meant for a worker thread (progress callback, cancel event).

Systems on the same local model (``base`` and ``fewshot:K``) share one loaded model, and a
model is only loaded when something is not cached yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from threading import Event
from typing import Any

from ftui.evaluate import metrics as M
from ftui.evaluate.ab import BlindSession
from ftui.evaluate.generate import GenerationConfig, GenerationResult, generate, load_generator
from ftui.evaluate.items import EvalItem
from ftui.evaluate.systems import SystemSpec

#: progress(system_name, done, total)
SystemProgress = Callable[[str, int, int], None]


class SharedGenerator:
    """Loads on first use and shares the loaded model with every system of the same key."""

    def __init__(self, spec: SystemSpec, shared: dict[tuple, Any]) -> None:
        self.spec = spec
        self.shared = shared
        self.key = (spec.kind == "openai", spec.model, spec.adapter, spec.base_url, spec.load_4bit, spec.device)

    def generate_batch(self, conversations: Any, config: GenerationConfig) -> list[str]:
        if self.key not in self.shared:
            self.shared[self.key] = load_generator(self.spec)
        return self.shared[self.key].generate_batch(conversations, config)


def generate_all(
    specs: Sequence[SystemSpec],
    items: Sequence[EvalItem],
    config: GenerationConfig | None = None,
    *,
    test_path: str | Path | None = None,
    progress: SystemProgress | None = None,
    cancel: Event | None = None,
    shared: dict[tuple, Any] | None = None,
) -> dict[str, GenerationResult]:
    """Each system's outputs (cached ones reused). Stops early when ``cancel`` is set: the
    systems done so far are returned, the cancelled one with ``cancelled=True``."""
    shared = {} if shared is None else shared
    results: dict[str, GenerationResult] = {}
    for spec in specs:
        def on_progress(done: int, total: int, name: str = spec.name) -> None:
            if progress:
                progress(name, done, total)

        res = generate(spec, items, config, test_path=test_path, generator=SharedGenerator(spec, shared),
                       progress=on_progress, cancel=cancel)
        results[spec.name] = res
        if res.cancelled:
            break
    return results


def score_all(results: dict[str, GenerationResult], items: Sequence[EvalItem],
              task: str | None = None) -> dict[str, M.EvalScores]:
    """Per-item scores of every system against the items' references (empty without references),
    from the one scorer (``scoring.score_outputs``)."""
    from ftui.evaluate.scoring import score_outputs

    return score_outputs(items, {n: r.outputs for n, r in results.items()}, task=task, pairs=[]).scores


def create_session(
    directory: str | Path,
    specs: Sequence[SystemSpec],
    items: Sequence[EvalItem],
    rater: str,
    *,
    config: GenerationConfig | None = None,
    seed: int | None = None,
    base_system: str | None = None,
    test_path: str | Path | None = None,
    progress: SystemProgress | None = None,
    cancel: Event | None = None,
) -> BlindSession | None:
    """Generate every system's outputs, then write and open a blind session (a fresh random seed unless
    ``seed`` is given; each system resolved to what it concretely is). None if cancelled."""
    from ftui.evaluate.blinding import resolve_systems

    results = generate_all(specs, items, config, test_path=test_path, progress=progress, cancel=cancel)
    if any(r.cancelled for r in results.values()) or len(results) < len(specs):
        return None
    return BlindSession.create(directory, items, {n: r.outputs for n, r in results.items()}, rater, seed=seed,
                               base_system=base_system or specs[0].name, resolved=resolve_systems(specs))
