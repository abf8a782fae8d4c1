"""Bradley–Terry strengths for three or more systems judged in pairs, with bootstrap intervals.

P(i beats j) = σ(θ_i − θ_j), fitted by Newton steps (numpy) with a small L2 pull towards 0
so that a system that won every comparison keeps a finite strength; the anchor (the base
model) is fixed at 0. The bootstrap resamples whole items (``Comparison.group``), seeded.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from ftui.evaluate.stats import quantile


@dataclass(frozen=True)
class Comparison:
    """One judged pair: ``score`` is 1 if ``a`` won, 0 if ``b`` won, 0.5 for a tie. ``group`` is the
    resampling unit for the bootstrap (the item id)."""

    a: str
    b: str
    score: float
    group: Hashable = None


@dataclass
class BradleyTerryResult:
    """Strengths on the logit scale, the anchor fixed at 0: P(i beats j) = σ(θ_i − θ_j)."""

    anchor: str
    theta: dict[str, float]
    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)
    n_comparisons: int = 0
    n_bootstrap: int = 0

    def win_prob_vs_anchor(self, system: str) -> float:
        return 1 / (1 + math.exp(-self.theta[system]))

    def to_dict(self) -> dict:
        return {
            "anchor": self.anchor,
            "n_comparisons": self.n_comparisons,
            "n_bootstrap": self.n_bootstrap,
            "systems": {
                s: {"theta": self.theta[s], "low": self.low.get(s), "high": self.high.get(s),
                    "win_prob_vs_anchor": self.win_prob_vs_anchor(s)}
                for s in self.theta
            },
        }


def bradley_terry_fit(
    comparisons: Sequence[Comparison], systems: Sequence[str], anchor: str, l2: float = 1e-4
) -> dict[str, float]:
    """Maximum-likelihood Bradley–Terry strengths (logistic model, ties = half a win each).

    Maximises Σ s·log σ(θ_a − θ_b) + (1 − s)·log σ(θ_b − θ_a) − l2/2·Σθ² with θ_anchor = 0
    by Newton's method. The tiny ``l2`` only keeps strengths finite when one system wins
    every comparison; pass 0 for the exact MLE.
    """
    import numpy as np

    free = [s for s in systems if s != anchor]
    index = {s: i for i, s in enumerate(free)}
    m = len(free)
    theta = np.zeros(m)
    if m == 0 or not comparisons:
        return {anchor: 0.0, **{s: 0.0 for s in free}}
    ia = np.array([index.get(c.a, -1) for c in comparisons])
    ib = np.array([index.get(c.b, -1) for c in comparisons])
    s = np.array([c.score for c in comparisons], dtype=float)

    def full(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.where(idx >= 0, t[np.clip(idx, 0, None)], 0.0)

    def loglik(t: np.ndarray) -> float:
        d = full(t, ia) - full(t, ib)
        return float(np.sum(s * -np.logaddexp(0, -d) + (1 - s) * -np.logaddexp(0, d)) - l2 / 2 * np.sum(t * t))

    current = loglik(theta)
    for _ in range(100):
        d = full(theta, ia) - full(theta, ib)
        p = 1 / (1 + np.exp(-d))
        r = s - p  # d loglik / d d
        w = p * (1 - p)
        grad = -l2 * theta
        hess = -l2 * np.eye(m)
        ma, mb = ia >= 0, ib >= 0
        both = ma & mb
        # d loglik = r·(e_a − e_b);  d² loglik = −w·(e_a − e_b)(e_a − e_b)ᵀ (anchor entries dropped)
        np.add.at(grad, ia[ma], r[ma])
        np.add.at(grad, ib[mb], -r[mb])
        np.add.at(hess, (ia[ma], ia[ma]), -w[ma])
        np.add.at(hess, (ib[mb], ib[mb]), -w[mb])
        np.add.at(hess, (ia[both], ib[both]), w[both])
        np.add.at(hess, (ib[both], ia[both]), w[both])
        try:
            step = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, -grad, rcond=None)[0]
        scale = 1.0
        while scale > 1e-6:
            candidate = theta + scale * step
            value = loglik(candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        theta, previous = candidate, current
        current = value
        if np.max(np.abs(scale * step)) < 1e-10 or abs(current - previous) < 1e-13:
            break
    result = {anchor: 0.0}
    result.update({sname: float(theta[i]) for sname, i in index.items()})
    return result


def bradley_terry(
    comparisons: Sequence[Comparison],
    systems: Sequence[str],
    anchor: str,
    n_bootstrap: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    l2: float = 1e-4,
) -> BradleyTerryResult:
    """Bradley–Terry fit plus percentile bootstrap CIs that resample items (``Comparison.group``),
    so several pairs judged on one item move together."""
    theta = bradley_terry_fit(comparisons, systems, anchor, l2)
    result = BradleyTerryResult(anchor=anchor, theta=theta, n_comparisons=len(comparisons))
    if n_bootstrap <= 0 or not comparisons:
        return result
    groups: dict[Hashable, list[Comparison]] = {}
    for i, c in enumerate(comparisons):
        groups.setdefault(c.group if c.group is not None else i, []).append(c)
    keys = list(groups)
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {s: [] for s in systems}
    for _ in range(n_bootstrap):
        picked = [c for _ in keys for c in groups[keys[rng.randrange(len(keys))]]]
        fit = bradley_terry_fit(picked, systems, anchor, l2)
        for sname in systems:
            samples[sname].append(fit[sname])
    tail = (1 - confidence) / 2
    for sname in systems:
        result.low[sname] = quantile(samples[sname], tail)
        result.high[sname] = quantile(samples[sname], 1 - tail)
    result.n_bootstrap = n_bootstrap
    return result
