"""Every statistic of the A/B results against values worked out by hand (or from the spec)."""

from __future__ import annotations

import math

import pytest

from ftui.evaluate import bradley_terry as BT
from ftui.evaluate import stats as S


def test_wilson_20_of_30_matches_spec() -> None:
    low, high = S.wilson_interval(20, 30)
    assert low == pytest.approx(0.4878, abs=5e-4)
    assert high == pytest.approx(0.8077, abs=5e-4)
    p = S.proportion(20, 30)
    assert p.p == pytest.approx(2 / 3)
    assert (round(p.low, 2), round(p.high, 2)) == (0.49, 0.81)


def test_wilson_edges() -> None:
    assert S.wilson_interval(0, 0) == (0.0, 1.0)
    low, high = S.wilson_interval(0, 10)
    assert low == 0.0 and 0.25 < high < 0.35  # 0/10 still leaves ~0.31 plausible
    low, high = S.wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and 0.65 < low < 0.75
    assert S.proportion(0, 0).p is None


def test_sign_test_20_of_30_matches_spec() -> None:
    # 2 * P(X >= 20 | n=30, p=.5) = 2 * 53_009_102 / 2**30 = 0.09874
    assert S.sign_test(20, 10) == pytest.approx(0.098737, abs=1e-5)
    assert S.sign_test(10, 20) == pytest.approx(S.sign_test(20, 10))
    assert S.sign_test(0, 0) == 1.0
    assert S.sign_test(5, 5) == 1.0
    # 6 of 6: 2 / 64
    assert S.sign_test(6, 0) == pytest.approx(2 / 64)


def test_binomial_test_asymmetric_null() -> None:
    # n=4, p=0.25, k=3: P(3)=12/256, P(4)=1/256; outcomes no likelier than P(3): 3 and 4 -> 13/256
    assert S.binomial_test(3, 4, 0.25) == pytest.approx(13 / 256)


def test_mcnemar_exact_on_discordant_pairs() -> None:
    # b=10 only-A-right, c=3 only-B-right: 2 * P(X <= 3 | n=13) = 2 * (1+13+78+286)/8192 = 756/8192
    assert S.mcnemar_exact(10, 3) == pytest.approx(756 / 8192)
    assert S.mcnemar_exact(0, 0) == 1.0
    assert S.mcnemar_exact(3, 10) == pytest.approx(S.mcnemar_exact(10, 3))


def test_tie_as_half() -> None:
    assert S.tie_half_score(10, 5, 4) == pytest.approx(12 / 19)
    assert S.tie_half_score(0, 0, 0) is None


def test_power_table_matches_spec_within_its_rounding() -> None:
    # exact binomial power, smallest n from which power stays >= 0.8 (see votes_needed's docstring)
    got = [S.votes_needed(r) for r in (0.60, 0.65, 0.70, 0.75)]
    assert got == [210, 97, 54, 35]
    for value, spec in zip(got, (210, 92, 54, 35), strict=True):
        assert abs(value - spec) / spec <= 0.06
    assert S.sign_test_power(210, 0.6) >= 0.8
    assert S.sign_test_power(209, 0.6) < 0.8
    table = S.power_table(decisive_so_far=30)
    assert table[3] == {"true_rate": 0.75, "needed": 35, "remaining": 5}
    assert S.votes_needed(0.5) is None


def test_cohen_kappa_worked_example() -> None:
    # rater A: L L L R R T T B L R ; rater B: L L R R R T B B L L
    # agreement on items 1,2,4,5,6,8,9 -> p_o = 7/10
    # A: L4 R3 T2 B1, B: L4 R3 T1 B2 -> p_e = (16 + 9 + 2 + 2)/100 = 0.29
    # kappa = (0.7 - 0.29) / (1 - 0.29) = 0.41 / 0.71 = 0.57746
    a = ["left", "left", "left", "right", "right", "tie", "tie", "both_bad", "left", "right"]
    b = ["left", "left", "right", "right", "right", "tie", "both_bad", "both_bad", "left", "left"]
    assert S.cohen_kappa(a, b, S.KAPPA_CATEGORIES) == pytest.approx(0.41 / 0.71)
    assert S.cohen_kappa(a, a) == pytest.approx(1.0)
    assert S.cohen_kappa([], []) is None
    assert S.cohen_kappa(["tie", "tie"], ["tie", "tie"]) is None  # chance agreement is 1: undefined
    with pytest.raises(ValueError):
        S.cohen_kappa(["left"], [])


def test_bradley_terry_two_systems() -> None:
    # A beats B 3 times, loses once: MLE sigma(theta_A) = 3/4 -> theta_A = ln 3 (B anchored at 0)
    comps = [BT.Comparison("A", "B", 1.0)] * 3 + [BT.Comparison("A", "B", 0.0)]
    fit = BT.bradley_terry_fit(comps, ["B", "A"], anchor="B", l2=0.0)
    assert fit["B"] == 0.0
    assert fit["A"] == pytest.approx(math.log(3), abs=1e-6)


def test_bradley_terry_three_systems_with_ties() -> None:
    # X vs base: 3-1, Y vs base: 3-1, X vs Y: one win each and one tie. By symmetry theta_X = theta_Y = t.
    # Score equation for X: observed 3 + 1 + 0.5 = 4.5 = 4*sigma(t) + 3*sigma(0) -> sigma(t) = 3/4 -> t = ln 3.
    c = BT.Comparison
    comps = (
        [c("base", "X", 0.0)] * 3 + [c("base", "X", 1.0)]
        + [c("base", "Y", 0.0)] * 3 + [c("base", "Y", 1.0)]
        + [c("X", "Y", 1.0), c("X", "Y", 0.0), c("X", "Y", 0.5)]
    )
    fit = BT.bradley_terry_fit(comps, ["base", "X", "Y"], anchor="base", l2=0.0)
    assert fit["X"] == pytest.approx(math.log(3), abs=1e-6)
    assert fit["Y"] == pytest.approx(math.log(3), abs=1e-6)


def test_bradley_terry_chain_and_bootstrap() -> None:
    # base-X: X wins 3 of 4 -> theta_X = ln 3; X-Y: Y wins 1 of 3 -> theta_Y - theta_X = ln(1/2) -> theta_Y = ln 1.5
    c = BT.Comparison
    comps = [c("base", "X", 0.0, group=i) for i in range(3)] + [c("base", "X", 1.0, group=3)]
    comps += [c("X", "Y", 0.0, group=4), c("X", "Y", 1.0, group=5), c("X", "Y", 1.0, group=6)]
    res = BT.bradley_terry(comps, ["base", "X", "Y"], anchor="base", n_bootstrap=100, seed=1, l2=0.0)
    assert res.theta["X"] == pytest.approx(math.log(3), abs=1e-6)
    assert res.theta["Y"] == pytest.approx(math.log(1.5), abs=1e-6)
    assert res.low["base"] == res.high["base"] == 0.0
    assert res.low["X"] <= res.theta["X"] <= res.high["X"]
    assert res.win_prob_vs_anchor("X") == pytest.approx(0.75)
    again = BT.bradley_terry(comps, ["base", "X", "Y"], anchor="base", n_bootstrap=100, seed=1, l2=0.0)
    assert again.low == res.low  # seeded


def test_bradley_terry_perfect_separation_stays_finite() -> None:
    comps = [BT.Comparison("A", "B", 1.0)] * 5
    fit = BT.bradley_terry_fit(comps, ["B", "A"], anchor="B")
    assert math.isfinite(fit["A"]) and fit["A"] > 3


def test_paired_bootstrap() -> None:
    a = [0, 1, 0, 1, 1, 0, 0, 1, 0, 0]
    same = S.paired_bootstrap_diff(a, a, n_bootstrap=200)
    assert (same.diff, same.low, same.high) == (0.0, 0.0, 0.0)
    shifted = S.paired_bootstrap_diff(a, [x + 1 for x in a], n_bootstrap=200)
    assert shifted.diff == pytest.approx(1.0) and shifted.low == pytest.approx(1.0) and shifted.high == pytest.approx(1.0)
    b = [1, 1, 1, 1, 1, 0, 1, 1, 0, 1]
    d = S.paired_bootstrap_diff(a, b, n_bootstrap=500, seed=3)
    assert d.diff == pytest.approx(0.4)
    assert d.low < 0.4 < d.high and d.low > 0.0
    assert S.paired_bootstrap_diff(a, b, n_bootstrap=500, seed=3) == d
    with pytest.raises(ValueError):
        S.paired_bootstrap_diff([1], [1, 2])


def test_the_vectorised_mean_bootstrap_matches_the_generic_one() -> None:
    """The default (mean) path is vectorised; it must give the same interval as resampling with an
    explicit mean statistic, up to Monte-Carlo noise, and the normal-theory interval as a check."""
    import random

    rng = random.Random(7)
    a = [rng.random() for _ in range(400)]
    b = [x + 0.05 + rng.gauss(0, 0.2) for x in a]
    fast = S.paired_bootstrap_diff(a, b, n_bootstrap=2000, seed=1)
    slow = S.paired_bootstrap_diff(a, b, statistic=lambda xs: sum(xs) / len(xs), n_bootstrap=2000, seed=1)
    assert fast.diff == pytest.approx(slow.diff)
    assert fast.low == pytest.approx(slow.low, abs=0.006) and fast.high == pytest.approx(slow.high, abs=0.006)
    d = [y - x for x, y in zip(a, b, strict=True)]
    mean = sum(d) / len(d)
    se = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1) / len(d))
    assert fast.low == pytest.approx(mean - 1.96 * se, abs=0.006)
    assert fast.high == pytest.approx(mean + 1.96 * se, abs=0.006)


def test_the_exact_fair_coin_test_equals_the_definition_and_is_fast_at_large_n() -> None:
    """binomial_test(k, n) at p = 0.5 sums the tails with a running coefficient; it must equal the
    definition (every outcome no likelier than k, from math.comb) exactly (speed: bench/scaling.py)."""
    for n in range(0, 41):
        counts = [math.comb(n, i) for i in range(n + 1)]
        for k in range(n + 1):
            expected = min(1.0, sum(c for c in counts if c <= counts[k]) / 2**n) if n else 1.0
            assert S.binomial_test(k, n) == expected, (k, n)
    assert 0.0 < S.binomial_test(9_800, 20_000) < 0.01
