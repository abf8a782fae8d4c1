"""The evaluation steps ``ftui eval`` and the Evaluate screen share: generate for several systems,
score them with the one scorer, open a blind session from the outputs.

Both faces call these functions and only add their own display (progress on stderr or in a
bar, warnings as lines or notices), so a CLI run and a screen run of the same systems produce
the same cached outputs, the same bootstrap intervals and the same kind of session. Meant for a
worker thread (progress callback, cancel event). Systems on the same local model (``base`` and
``fewshot:K``) share one loaded model, and a model is only loaded when something is not cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from threading import Event
from typing import Any

from ftui.evaluate.ab import BlindSession
from ftui.evaluate.generate import (
    GenerationConfig,
    GenerationError,
    GenerationResult,
    Generator,
    generate,
    load_generator,
)
from ftui.evaluate.items import EvalItem
from ftui.evaluate.scoring import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOTSTRAP, Scored, score_outputs
from ftui.evaluate.systems import SystemError_, SystemSpec

#: progress(system_name, done, total)
SystemProgress = Callable[[str, int, int], None]
#: on_done(system_name, result): after each system (warnings to show, a line to print)
SystemDone = Callable[[str, GenerationResult], None]


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
    on_done: SystemDone | None = None,
    cancel: Event | None = None,
    shared: dict[tuple, Any] | None = None,
    generator_for: Callable[[SystemSpec], Generator] | None = None,
) -> dict[str, GenerationResult]:
    """Each system's outputs (cached ones reused). Stops early when ``cancel`` is set: the
    systems done so far are returned, the cancelled one with ``cancelled=True``.

    ``generator_for`` replaces the shared model loader (tests, cached-only runs). A system that
    cannot generate raises GenerationError whose message starts with the system's name.
    """
    shared = {} if shared is None else shared
    results: dict[str, GenerationResult] = {}
    for spec in specs:
        def on_progress(done: int, total: int, name: str = spec.name) -> None:
            if progress:
                progress(name, done, total)

        generator = generator_for(spec) if generator_for else SharedGenerator(spec, shared)
        try:
            res = generate(spec, items, config, test_path=test_path, generator=generator, progress=on_progress,
                           cancel=cancel)
        except (GenerationError, SystemError_) as exc:
            raise GenerationError(f"{spec.name}: {exc}") from None
        results[spec.name] = res
        if on_done:
            on_done(spec.name, res)
        if res.cancelled:
            break
    return results


def score_all(results: Mapping[str, GenerationResult | Mapping[str, str]], items: Sequence[EvalItem], *,
              task: str | None = None, n_bootstrap: int = DEFAULT_N_BOOTSTRAP, seed: int = DEFAULT_BOOTSTRAP_SEED) -> Scored:
    """Scores, summaries and first-vs-each-other comparisons of every system, from the one scorer
    (``scoring.score_outputs``) with the defaults a new session stores (empty without references).

    ``results``: each system's GenerationResult, or its outputs by item id (what the Generate screen keeps)."""
    outputs = {n: r.outputs if isinstance(r, GenerationResult) else r for n, r in results.items()}
    return score_outputs(items, outputs, task=task, n_bootstrap=n_bootstrap, seed=seed)


def start_session(
    directory: str | Path,
    specs: Sequence[SystemSpec],
    items: Sequence[EvalItem],
    outputs: Mapping[str, Mapping[str, str]],
    rater: str,
    *,
    seed: int | None = None,
    base_system: str | None = None,
    name: str = "",
) -> BlindSession:
    """Write and open a blind session from generated outputs (a fresh random seed unless ``seed`` is
    given; the base defaults to the first system; each system resolved to what it concretely is).
    Raises SessionError / OSError."""
    from ftui.evaluate.blinding import resolve_systems

    return BlindSession.create(directory, items, outputs, rater, seed=seed, base_system=base_system or next(iter(outputs)),
                               name=name, resolved=resolve_systems([s for s in specs if s.name in outputs]))


def create_session(
    directory: str | Path,
    specs: Sequence[SystemSpec],
    items: Sequence[EvalItem],
    rater: str,
    *,
    config: GenerationConfig | None = None,
    seed: int | None = None,
    base_system: str | None = None,
    name: str = "",
    test_path: str | Path | None = None,
    progress: SystemProgress | None = None,
    on_done: SystemDone | None = None,
    cancel: Event | None = None,
    shared: dict[tuple, Any] | None = None,
) -> BlindSession | None:
    """Generate every system's outputs, then ``start_session``. None if generation was cancelled."""
    results = generate_all(specs, items, config, test_path=test_path, progress=progress, on_done=on_done,
                           cancel=cancel, shared=shared)
    if any(r.cancelled for r in results.values()) or len(results) < len(specs):
        return None
    return start_session(directory, specs, items, {n: r.outputs for n, r in results.items()}, rater, seed=seed,
                        base_system=base_system or specs[0].name, name=name)
