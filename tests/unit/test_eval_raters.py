"""Several raters: item-level statistics (majority per item, cluster bootstrap), per-rater table,
Cohen's and Fleiss' κ. Issue #14 point 1: three raters who agree must not triple the evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.evaluate import stats as S
from ftui.evaluate.ab import BlindSession
from ftui.evaluate.items import EvalItem
from ftui.evaluate.results import results_text


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 2.0
        return self.t


def _session(tmp_path: Path, n: int = 30) -> Path:
    items = [EvalItem(f"i{k:02d}", ({"role": "user", "content": f"q {k}"},), f"answer {k}") for k in range(n)]
    outputs = {"base": {it.id: f"base says {k}" for k, it in enumerate(items)},
               "ft": {it.id: f"ft says {k}" for k, it in enumerate(items)}}
    BlindSession.create(tmp_path / "s", items, outputs, "r1", seed=3, base_system="base", clock=FakeClock()).close()
    return tmp_path / "s"


def _rate(directory: Path, rater: str, prefer_ft: set[int], unblind: bool = False) -> BlindSession:
    """``rater`` prefers ft on the items whose number is in ``prefer_ft`` and base on the others."""
    s = BlindSession(directory, rater, clock=FakeClock())
    while (pair := s.current()) is not None:
        task = s.tasks[pair.task]
        want = "ft" if int(pair.item_id[1:]) in prefer_ft else "base"
        s.vote("left" if task.left == want else "right")
    if unblind:
        s.unblind()
    return s


def test_three_agreeing_raters_report_the_single_raters_item_level_p_and_ci(tmp_path: Path) -> None:
    single_dir = _session(tmp_path / "one")
    one = _rate(single_dir, "r1", set(range(20)), unblind=True)
    single = one.results().main
    one.close()
    assert single is not None
    assert single.sign_test_p == pytest.approx(0.0987, abs=5e-4)
    assert (round(single.win_rate.low, 3), round(single.win_rate.high, 3)) == (0.488, 0.808)

    many_dir = _session(tmp_path / "three")
    for r in ("r1", "r2"):
        _rate(many_dir, r, set(range(20))).close()
    s = _rate(many_dir, "r3", set(range(20)), unblind=True)
    res = s.results()
    s.close()
    main = res.main
    assert main is not None
    assert (main.wins, main.losses) == (60, 30)  # votes are still counted and shown as votes
    assert main.items is not None and (main.items.won, main.items.lost, main.items.max_raters) == (20, 10, 3)
    assert main.decisive == 30  # the power table counts items, not votes
    assert main.sign_test_p == single.sign_test_p  # not 0.0021 as if 90 independent votes
    assert main.win_rate.p == pytest.approx(20 / 30)
    assert main.items.ci_method == "cluster bootstrap over items"
    assert main.win_rate.low == pytest.approx(single.win_rate.low, abs=0.04)
    assert main.win_rate.high == pytest.approx(single.win_rate.high, abs=0.04)
    assert main.win_rate.high - main.win_rate.low > 0.28  # the vote-counting CI was [0.564, 0.755]
    assert res.votes_needed == S.power_table(30)
    assert [r.rater for r in main.per_rater] == ["r1", "r2", "r3"]
    assert all((r.wins, r.losses) == (20, 10) for r in main.per_rater)
    assert res.fleiss is not None and res.fleiss.n == 30 and res.fleiss.kappa == pytest.approx(1.0)
    text = results_text(res)
    assert "per item (majority of up to 3 raters): won 20 · lost 10" in text
    assert "rater r2: W 20 · L 10" in text and "Fleiss' kappa (3 raters): 1.00 on 30 pairs" in text


def test_disagreeing_raters_widen_nothing_they_split_items(tmp_path: Path) -> None:
    d = _session(tmp_path)
    _rate(d, "r1", set(range(20))).close()
    s = _rate(d, "r2", set(range(10, 30)), unblind=True)
    main = s.results().main
    s.close()
    assert main is not None and main.items is not None
    # r1 and r2 agree on 10..19 (ft) only; 0..9 and 20..29 are 1-1 splits (neither decisive)
    assert (main.items.won, main.items.lost, main.items.split) == (10, 0, 20)
    assert main.sign_test_p == S.sign_test(10, 0)


def test_item_majority_rules() -> None:
    assert S.item_majority(["a", "a", "b"]) == "a"
    assert S.item_majority(["a", "b"]) == "split"
    assert S.item_majority(["tie", "tie", "b"]) == "tie"
    assert S.item_majority(["b"]) == "b"
    assert S.item_majority([]) is None


def test_fleiss_kappa_hand_computed() -> None:
    # P_i = 1, 1/3, 1 -> P̄ = 7/9; label shares a 4/9, b 2/9, tie 3/9 -> P_e = 29/81; κ = 34/52
    ratings = [["a", "a", "a"], ["b", "b", "a"], ["tie", "tie", "tie"]]
    assert S.fleiss_kappa(ratings, S.ITEM_CATEGORIES) == pytest.approx(34 / 52)
    assert S.fleiss_kappa([["a", "a"], ["a", "a"]]) is None
    with pytest.raises(ValueError, match="same number"):
        S.fleiss_kappa([["a", "b"], ["a"]])


def test_cluster_bootstrap_moves_whole_items_and_is_seeded() -> None:
    clusters = [["b"] * 3] * 20 + [["a"] * 3] * 10

    def share(sample: list) -> float | None:
        flat = [v for c in sample for v in c]
        return flat.count("b") / len(flat) if flat else None

    lo, hi = S.cluster_bootstrap(clusters, share, n_bootstrap=500, seed=1)
    assert (lo, hi) == S.cluster_bootstrap(clusters, share, n_bootstrap=500, seed=1)
    # whole items move together: as wide as 30 independent items, not 90
    assert hi - lo > 0.28
