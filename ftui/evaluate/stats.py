"""Statistics for blind A/B votes and paired metric comparisons.

Everything a results screen shows is computed here (Bradley–Terry strengths in
``bradley_terry``), in plain Python, so each number can be checked against a worked
example in the unit tests. Conventions:

- a *decisive* vote is a win or a loss (ties, both-bad, skips and identical pairs are not);
- intervals are 95% unless a ``z``/``confidence`` is given;
- p-values are exact (binomial), never normal approximations.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

Z95 = 1.959963984540054

#: The categories Cohen's kappa is computed over (spec: {left, right, tie, both_bad}).
KAPPA_CATEGORIES = ("left", "right", "tie", "both_bad")


@dataclass(frozen=True)
class Proportion:
    """k successes out of n with a Wilson interval; ``p`` is None when n == 0."""

    k: float
    n: int
    p: float | None
    low: float
    high: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {"k": self.k, "n": self.n, "p": self.p, "low": self.low, "high": self.high}


def wilson_interval(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k/n: honest near 0 and 1 and for small n, unlike p ± z·se.

    ``(p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)``; (0, 1) when n == 0.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    denom = 1 + z2 / n
    return (max(0.0, (centre - spread) / denom), min(1.0, (centre + spread) / denom))


def proportion(k: float, n: int, z: float = Z95) -> Proportion:
    """k of n as a ``Proportion`` with its Wilson interval."""
    low, high = wilson_interval(k, n, z)
    return Proportion(k=k, n=n, p=(k / n if n else None), low=low, high=high)


def _log_binom_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    )


def binomial_test(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test: the probability of every outcome no likelier than k.

    This is the definition R's ``binom.test`` and SciPy use; for p = 0.5 it equals
    ``min(1, 2·P(X ≥ max(k, n−k)))``.
    """
    if n <= 0:
        return 1.0
    if p == 0.5 and n <= 20000:
        # exact integer arithmetic: no rounding at the boundary (5 of 10 gives exactly 1.0). The
        # coefficients rise strictly to the middle, so "no likelier than k" is the two tails i <= m and
        # i >= n - m; each coefficient comes from the previous one (O(n), not n separate comb() calls).
        m = min(k, n - k)
        if 2 * m >= n:
            return 1.0
        term = tail = 1
        for i in range(m):
            term = term * (n - i) // (i + 1)
            tail += term
        return min(1.0, 2 * tail / 2**n)
    observed = _log_binom_pmf(k, n, p)
    # relative tolerance so that symmetric outcomes are counted despite rounding
    limit = observed + 1e-7 * max(1.0, abs(observed))
    total = sum(math.exp(lp) for i in range(n + 1) if (lp := _log_binom_pmf(i, n, p)) <= limit)
    return min(1.0, total)


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test on decisive votes (ties and both-bad excluded): H0 win rate = 0.5."""
    return binomial_test(wins, wins + losses, 0.5)


def mcnemar_exact(b: int, c: int) -> float:
    """McNemar's exact test on the discordant pairs of a paired comparison.

    ``b`` = items only system A got right, ``c`` = items only system B got right. Under
    H0 each discordant item is a fair coin, so this is the sign test on (b, c).
    """
    return binomial_test(b, b + c, 0.5)


def tie_half_score(wins: int, losses: int, ties: int) -> float | None:
    """(W + T/2) / (W + L + T): shown beside the decisive win rate, never instead of it."""
    n = wins + losses + ties
    return (wins + ties / 2) / n if n else None


# --- power ---------------------------------------------------------------------------


def _critical_wins(n: int, alpha: float) -> int | None:
    """Smallest k ≥ n/2 such that the two-sided sign test rejects at k wins (None if none does)."""
    tail = 0.0
    # walk down from n accumulating the upper tail P(X ≥ k) under p = 0.5
    crit = None
    for k in range(n, (n - 1) // 2, -1):
        tail += math.exp(_log_binom_pmf(k, n, 0.5))
        if k * 2 == n:
            break
        if min(1.0, 2 * tail) <= alpha + 1e-12:
            crit = k
        else:
            break
    return crit


def sign_test_power(n: int, true_rate: float, alpha: float = 0.05) -> float:
    """Exact power of the two-sided sign test with n decisive votes when the true win rate is ``true_rate``."""
    crit = _critical_wins(n, alpha)
    if crit is None:
        return 0.0
    upper = sum(math.exp(_log_binom_pmf(k, n, true_rate)) for k in range(crit, n + 1))
    lower = sum(math.exp(_log_binom_pmf(k, n, true_rate)) for k in range(0, n - crit + 1))
    return upper + lower


@lru_cache(maxsize=256)
def votes_needed(true_rate: float, power: float = 0.8, alpha: float = 0.05, max_n: int = 5000) -> int | None:
    """Decisive votes needed for the exact sign test to reach ``power`` at ``alpha``.

    Formula: exact binomial power (not a normal approximation). Because exact power
    saw-tooths with n, we return the smallest n from which power stays ≥ the target for
    every larger n (checked up to 1.3× that n + 20), so "collect this many" is never
    followed by a dip below the target. Gives 210 / 97 / 54 / 35 for true win rates
    0.60 / 0.65 / 0.70 / 0.75 (the spec's rounded table says ≈210 / 92 / 54 / 35).
    None when the target is out of reach within ``max_n`` (e.g. rate within ~0.02 of 0.5).
    """
    rate = max(true_rate, 1 - true_rate)
    if rate <= 0.5:
        return None
    # start below the normal-approximation estimate: exact power cannot exceed the target much earlier
    z_a = _normal_quantile(1 - alpha / 2)
    z_b = _normal_quantile(power)
    approx = ((z_a * 0.5 + z_b * math.sqrt(rate * (1 - rate))) / (rate - 0.5)) ** 2
    if approx > max_n:
        return None
    start = max(1, int(approx * 0.8) - 5)
    last_bad = start - 1
    n = start
    horizon = int(approx * 1.3) + 20
    while n <= min(max_n, horizon):
        if sign_test_power(n, rate, alpha) < power:
            last_bad = n
            horizon = max(horizon, int(n * 1.3) + 20)
        n += 1
    result = last_bad + 1
    return result if result <= max_n else None


def _normal_quantile(p: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9 after one Newton step)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    elif p <= 1 - low:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    else:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    err = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    return x - err * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


POWER_TABLE_RATES = (0.60, 0.65, 0.70, 0.75)


def power_table(decisive_so_far: int = 0, rates: Sequence[float] = POWER_TABLE_RATES) -> list[dict[str, float | int | None]]:
    """Rows {true_rate, needed, remaining} for the "votes still needed" panel."""
    rows = []
    for rate in rates:
        needed = votes_needed(rate)
        rows.append({
            "true_rate": rate,
            "needed": needed,
            "remaining": None if needed is None else max(0, needed - decisive_so_far),
        })
    return rows


# --- agreement -------------------------------------------------------------------------


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], categories: Sequence[Hashable] | None = None) -> float | None:
    """Cohen's κ = (p_o − p_e) / (1 − p_e) for two raters' labels on the same items.

    ``categories`` fixes the label set (default: the labels seen). None when there are no
    items, or when chance agreement is already 1 (both raters used one single label).
    """
    if len(a) != len(b):
        raise ValueError("the two raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    cats = list(categories) if categories is not None else sorted(set(a) | set(b), key=str)
    p_o = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum((ca[c] / n) * (cb[c] / n) for c in cats)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1 - p_e)


# --- bootstrap -------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default method)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class Difference:
    """A paired difference (B − A) with a bootstrap CI."""

    diff: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return {"diff": self.diff, "low": self.low, "high": self.high, "n": self.n}


def paired_bootstrap_diff(
    a: Sequence[float],
    b: Sequence[float],
    statistic: Callable[[Sequence[float]], float] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Difference:
    """Percentile bootstrap CI of statistic(b) − statistic(a), resampling item indices jointly.

    ``a`` and ``b`` are per-item scores of two systems on the same items (same order);
    the statistic defaults to the mean. Resampling pairs keeps the item-level correlation,
    which is what makes a paired CI much tighter than two independent ones.
    """
    if len(a) != len(b):
        raise ValueError("paired scores must have the same length")
    stat = statistic or (lambda xs: sum(xs) / len(xs) if xs else math.nan)
    n = len(a)
    observed = stat(b) - stat(a) if n else math.nan
    if n == 0:
        return Difference(observed, math.nan, math.nan, 0)
    if statistic is None:
        diffs = _bootstrap_mean_diffs(a, b, n_bootstrap, seed)
    else:
        rng = random.Random(seed)
        diffs = []
        for _ in range(n_bootstrap):
            idx = [rng.randrange(n) for _ in range(n)]
            diffs.append(stat([b[i] for i in idx]) - stat([a[i] for i in idx]))
    tail = (1 - confidence) / 2
    return Difference(observed, quantile(diffs, tail), quantile(diffs, 1 - tail), n)


def _bootstrap_mean_diffs(a: Sequence[float], b: Sequence[float], n_bootstrap: int, seed: int) -> list[float]:
    """Bootstrap replicates of mean(b) − mean(a), vectorised: the mean of a paired difference is the
    difference of the means, so each replicate is one gather + mean over the per-item differences.

    Pure-Python resampling cost ~6 ms per item at 1,000 replicates (a minute for 10,000 items);
    this is linear too but ~100x cheaper. Index blocks are capped at ~4M entries to bound memory.
    """
    import numpy as np

    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    n = len(d)
    rng = np.random.default_rng(seed)
    block = max(1, min(n_bootstrap, 4_000_000 // max(n, 1)))
    out: list[float] = []
    done = 0
    while done < n_bootstrap:
        k = min(block, n_bootstrap - done)
        out.extend(d[rng.integers(0, n, size=(k, n))].mean(axis=1).tolist())
        done += k
    return out


def paired_bootstrap_stat(
    n: int,
    statistic: Callable[[Sequence[int]], float],
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Difference:
    """Bootstrap CI for a statistic of resampled item *indices* (for non-additive metrics such as a
    macro-F1 difference, where the statistic must recompute from the resampled items)."""
    observed = statistic(list(range(n)))
    if n == 0:
        return Difference(observed, math.nan, math.nan, 0)
    rng = random.Random(seed)
    values = [statistic([rng.randrange(n) for _ in range(n)]) for _ in range(n_bootstrap)]
    tail = (1 - confidence) / 2
    return Difference(observed, quantile(values, tail), quantile(values, 1 - tail), n)


def counts_summary(choices: Mapping[str, int]) -> str:
    """'W 12 · L 8 · T 3 · BB 1' for logs and the CLI."""
    return " · ".join(f"{k} {v}" for k, v in choices.items())


# --- several raters: item-level aggregation ---------------------------------------------

#: Side-free categories of one vote on a pair (a = the pair's first system better, b = the second).
ITEM_CATEGORIES = ("a", "b", "tie", "both_bad")


def item_majority(votes: Sequence[str]) -> str | None:
    """One outcome per item from its raters' side-free votes (``ITEM_CATEGORIES``).

    The most common category wins; when two categories share the top count the item is a
    ``"split"`` (not decisive: it counts like a tie). None when the item has no vote. Why:
    several raters on one item are one observation of that item, not several independent
    ones; counting each vote would shrink every interval by √raters.
    """
    counts = Counter(v for v in votes if v in ITEM_CATEGORIES)
    if not counts:
        return None
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return "split"
    return ranked[0][0]


@dataclass(frozen=True)
class ItemLevel:
    """Item-level outcome of one pair: wins/losses are items whose majority preferred b / a."""

    n_items: int  # items with at least one vote in ITEM_CATEGORIES
    won: int
    lost: int
    tied: int  # majority tie, or a split between categories
    both_bad: int
    split: int  # of ``tied``: items whose raters split evenly
    max_raters: int  # most raters on one item (1 = one vote per item)
    win_rate: Proportion  # won / (won + lost); low/high per ``ci_method``
    ci_method: str  # "wilson" (one vote per item) or "cluster bootstrap over items"
    sign_test_p: float  # exact sign test on item majorities

    @property
    def decisive(self) -> int:
        return self.won + self.lost

    def to_dict(self) -> dict:
        return {"n_items": self.n_items, "won": self.won, "lost": self.lost, "tied": self.tied,
                "both_bad": self.both_bad, "split": self.split, "max_raters": self.max_raters,
                "decisive": self.decisive, "win_rate": self.win_rate.to_dict(), "ci_method": self.ci_method,
                "sign_test_p": self.sign_test_p}


def cluster_bootstrap(
    clusters: Sequence[object],
    statistic: Callable[[Sequence[object]], float | None],
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` over resampled clusters (items): every resample draws whole
    clusters with replacement, so the votes of one item always move together. Resamples where the
    statistic is undefined (None) are dropped; (nan, nan) when none is defined."""
    n = len(clusters)
    if n == 0 or n_bootstrap <= 0:
        return (math.nan, math.nan)
    rng = random.Random(seed)
    values = []
    for _ in range(n_bootstrap):
        value = statistic([clusters[rng.randrange(n)] for _ in range(n)])
        if value is not None:
            values.append(value)
    if not values:
        return (math.nan, math.nan)
    tail = (1 - confidence) / 2
    return (quantile(values, tail), quantile(values, 1 - tail))


def item_level(per_item: Mapping[Hashable, Sequence[str]], n_bootstrap: int = 1000, seed: int = 0) -> ItemLevel:
    """Aggregate side-free votes per item (``item_majority``) and test the item outcomes.

    With one vote per item this is exactly the vote-level analysis (Wilson CI, sign test). With
    several raters on an item the CI is a percentile cluster bootstrap over items of the
    majority-based win rate (seeded: the same data always gives the same interval).
    """
    outcomes = [m for votes in per_item.values() if (m := item_majority(votes)) is not None]
    won, lost = outcomes.count("b"), outcomes.count("a")
    split = outcomes.count("split")
    tied = outcomes.count("tie") + split
    max_raters = max((sum(1 for v in vs if v in ITEM_CATEGORIES) for vs in per_item.values()), default=0)
    rate = proportion(won, won + lost)
    method = "wilson"
    if max_raters > 1 and won + lost:
        def share(sample: Sequence[object]) -> float | None:
            w, l_ = sample.count("b"), sample.count("a")
            return w / (w + l_) if w + l_ else None

        low, high = cluster_bootstrap(outcomes, share, n_bootstrap, seed)
        rate = Proportion(k=won, n=won + lost, p=rate.p, low=low, high=high)
        method = "cluster bootstrap over items"
    return ItemLevel(n_items=len(outcomes), won=won, lost=lost, tied=tied, both_bad=outcomes.count("both_bad"),
                     split=split, max_raters=max_raters, win_rate=rate, ci_method=method,
                     sign_test_p=sign_test(won, lost))


def fleiss_kappa(ratings: Sequence[Sequence[Hashable]], categories: Sequence[Hashable] | None = None) -> float | None:
    """Fleiss' κ for several raters: ``ratings`` holds, per item, the labels its raters gave (every
    item must have the same number of ratings, at least two).

    κ = (P̄ − P̄_e) / (1 − P̄_e) with P_i = (Σ_j n_ij² − n) / (n(n − 1)) and P̄_e = Σ_j p_j². None when
    there are no items or chance agreement is 1 (everyone used one label).
    """
    items = [list(r) for r in ratings]
    if not items:
        return None
    n = len(items[0])
    if n < 2 or any(len(r) != n for r in items):
        raise ValueError("Fleiss' kappa needs the same number (≥ 2) of ratings on every item")
    cats = list(categories) if categories is not None else sorted({x for r in items for x in r}, key=str)
    total = len(items) * n
    p_bar = sum((sum(c * c for c in Counter(r).values()) - n) / (n * (n - 1)) for r in items) / len(items)
    all_counts = Counter(x for r in items for x in r)
    p_e = sum((all_counts[c] / total) ** 2 for c in cats)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)
