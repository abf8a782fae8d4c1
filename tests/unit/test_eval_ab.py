"""Blind A/B sessions: blinding, counterbalancing, durability, undo, results, drill-down, exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ftui.evaluate import ab, session_plan
from ftui.evaluate.ab import BlindError, BlindSession, SessionError
from ftui.evaluate.items import EvalItem
from ftui.evaluate.results import results_text

LABELS = ["billing", "technical", "account", "other"]


class FakeClock:
    """Advances 2 s per reading so dwell times are deterministic and never 'too fast'."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 2.0
        return self.t


def make_items(n: int) -> list[EvalItem]:
    return [
        EvalItem(f"i{k:03d}", ({"role": "system", "content": "Label it."}, {"role": "user", "content": f"ticket {k}"}),
                 LABELS[k % 4])
        for k in range(n)
    ]


def make_outputs(items: list[EvalItem], identical: set[int] = frozenset()) -> dict[str, dict[str, str]]:
    """'ft' is always right; 'base' answers 'other' (right only for every 4th item). Identical items: both right."""
    base, ft = {}, {}
    for k, it in enumerate(items):
        ft[it.id] = it.reference + "<|im_end|>"
        base[it.id] = it.reference if k in identical else f"Sure! The label is {LABELS[(k + 1) % 4]}"
    return {"base": base, "ft": ft}


def new_session(tmp_path: Path, n: int = 40, identical: set[int] = frozenset(), rater: str = "ana",
                seed: int = 7, **kw) -> BlindSession:
    items = make_items(n)
    return BlindSession.create(tmp_path / "s1", items, make_outputs(items, identical), rater, seed=seed,
                               base_system="base", clock=FakeClock(), **kw)


def test_shown_pair_has_no_system_names_and_outputs_are_normalised(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=8)
    pair = s.current()
    assert pair is not None
    assert not hasattr(pair, "left") and not hasattr(pair, "system_left")
    assert "<|im_end|>" not in pair.output_left + pair.output_right
    assert pair.position == 1 and pair.total == 8
    assert pair.prompt.startswith("ticket ")


def test_counterbalanced_sides_in_permuted_blocks(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=40)
    lefts = [t.left for t in s.tasks]
    assert lefts.count("base") == 20
    biggest = max(session_plan.SIDE_BLOCKS)
    for end in range(1, 41):  # permuted balanced blocks: no prefix drifts more than half a block
        assert abs(2 * lefts[:end].count("base") - end) <= biggest // 2
    # seeded: the same rater and seed give the same queue, another rater another order
    again = ab.build_queue([f"i{k:03d}" for k in range(40)], [("base", "ft")], "ana", 7)
    assert again == s.tasks
    other = ab.build_queue([f"i{k:03d}" for k in range(40)], [("base", "ft")], "bo", 7)
    assert [t.item_id for t in other] != [t.item_id for t in s.tasks]
    assert sorted(t.item_id for t in s.tasks) == [f"i{k:03d}" for k in range(40)]


def test_block_ends_are_not_predictable() -> None:
    """With fixed blocks of 4 every 4th side was forced by the three before it; with random block
    sizes some multiple-of-4 prefix is unbalanced, so a rater cannot count to the forced side."""
    ids = [f"i{k:03d}" for k in range(40)]
    unbalanced = 0
    for rater in ("ana", "bo", "cy", "di", "ed"):
        lefts = [t.left for t in ab.build_queue(ids, [("base", "ft")], rater, 11)]
        assert abs(2 * lefts.count("base") - 40) == 0
        unbalanced += sum(1 for end in range(4, 41, 4) if 2 * lefts[:end].count("base") != end)
    assert unbalanced > 0


def test_no_item_on_consecutive_screens_with_three_systems() -> None:
    ids = [f"i{k:02d}" for k in range(12)]
    pairs = session_plan.canonical_pairs(["base", "ft", "fewshot"], "base")
    for seed in range(20):
        tasks = ab.build_queue(ids, pairs, "ana", seed)
        assert len(tasks) == 36 and [t.index for t in tasks] == list(range(36))
        assert sorted((t.item_id, t.pair) for t in tasks) == sorted((i, p) for i in ids for p in pairs)
        assert all(a.item_id != b.item_id for a, b in zip(tasks, tasks[1:], strict=False)), seed
        # the round-robin interleaving survives the reordering
        assert all(len({t.pair for t in tasks[k:k + 3]}) == 3 for k in range(0, 36, 3)), seed


def test_three_systems_pairs_are_interleaved(tmp_path: Path) -> None:
    items = make_items(6)
    outs = make_outputs(items)
    outs["fewshot"] = {it.id: "fewshot " + it.reference for it in items}
    s = BlindSession.create(tmp_path / "s3", items, outs, "ana", base_system="base", clock=FakeClock())
    assert len(s.tasks) == 18
    firsts = [t.pair for t in s.tasks[:3]]
    assert len(set(firsts)) == 3  # round-robin: three different comparisons first
    assert all(t.pair[0] == "base" for t in s.tasks if "base" in t.pair)


def test_identical_outputs_auto_recorded_and_not_shown(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=10, identical={0, 3, 4})
    shown = []
    while (pair := s.current()) is not None:
        shown.append(pair.item_id)
        assert pair.output_left != pair.output_right
        s.vote("left")
    assert sorted(shown) == sorted(f"i{k:03d}" for k in range(10) if k not in {0, 3, 4})
    recs = [json.loads(line) for line in s.votes_path.read_text().splitlines()]
    identical = [r for r in recs if r["choice"] == "identical"]
    assert sorted(r["item_id"] for r in identical) == ["i000", "i003", "i004"]
    assert s.progress().identical == 3 and s.progress().finished


def test_vote_record_fields_and_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    synced = []
    real = os.fsync
    monkeypatch.setattr(ab.os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    s = new_session(tmp_path, n=4)
    t = s.tasks[0]
    s.current()
    v = s.vote("right", note="more precise", flags=("check",))
    assert synced, "a vote must be fsynced before vote() returns"
    rec = json.loads(s.votes_path.read_text().splitlines()[-1])
    for key in ("item_id", "rater", "left", "right", "choice", "note", "flags", "shown_at", "dwell_ms", "seed"):
        assert key in rec
    assert rec["item_id"] == t.item_id and rec["left"] == t.left and rec["right"] == t.right
    assert rec["choice"] == "right" and rec["note"] == "more precise" and rec["flags"] == ["check"]
    assert rec["seed"] == 7 and rec["rater"] == "ana" and rec["dwell_ms"] == 2000
    assert v.preferred == t.right
    with pytest.raises(SessionError):
        s.vote("maybe")


def test_resume_keeps_sides_and_position(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=20)
    for choice in ("left", "right", "tie", "both_bad", "skip"):
        s.vote(choice)
    before = s.current()
    tasks = list(s.tasks)
    s.close()
    r = BlindSession(tmp_path / "s1", "ana", clock=FakeClock())
    assert r.tasks == tasks
    assert r.warnings == []
    now = r.current()
    assert now is not None and before is not None
    assert (now.task, now.output_left, now.output_right) == (before.task, before.output_left, before.output_right)
    assert [v.choice for v in r.votes()] == ["left", "right", "tie", "both_bad", "skip"]
    for v, t in zip(r.votes(), tasks, strict=False):
        assert (v.left, v.right) == (t.left, t.right)
    # the remaining items keep the sides the first open assigned
    assert [t.left for t in r.tasks[5:]] == [t.left for t in tasks[5:]]


def test_undo_reopens_previous_item_append_only(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=10)
    first = s.current()
    s.vote("left")
    second = s.current()
    s.vote("right")
    size_before = s.votes_path.stat().st_size
    reopened = s.undo()
    assert reopened is not None and second is not None and reopened.task == second.task
    assert s.votes_path.stat().st_size > size_before  # appended, never rewritten
    assert json.loads(s.votes_path.read_text().splitlines()[-1])["type"] == "undo"
    reopened = s.undo()
    assert reopened is not None and first is not None and reopened.task == first.task
    assert s.undo() is None  # nothing left to undo
    s.vote("tie")
    s.close()
    r = BlindSession(tmp_path / "s1", "ana")
    assert [v.choice for v in r.votes()] == ["tie"]
    assert r.current() is not None and second is not None and r.current().task == second.task


def test_undo_skips_back_over_identical_items(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=12, identical=set(range(1, 12, 2)))
    first = s.current()
    s.vote("left")
    assert s.current() is not None
    s.undo()
    assert s.current().task == first.task


def test_torn_last_line_skipped_with_warning(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=10)
    s.vote("left")
    s.vote("right")
    s.close()
    with open(s.votes_path, "ab") as fh:
        fh.write(b'{"type":"vote","task":5,"item_')  # killed mid-write
    r = BlindSession(tmp_path / "s1", "ana", clock=FakeClock())
    assert len(r.warnings) == 1 and "torn" in r.warnings[0]
    assert [v.choice for v in r.votes()] == ["left", "right"]
    r.vote("tie")
    r.close()
    again = BlindSession(tmp_path / "s1", "ana")
    assert [v.choice for v in again.votes()] == ["left", "right", "tie"]
    assert len(again.warnings) == 1  # the fragment stays (append-only) but the new vote is intact


def test_garbage_middle_line_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=10)
    s.vote("left")
    s.close()
    with open(s.votes_path, "ab") as fh:
        fh.write(b"not json\n")
    r = BlindSession(tmp_path / "s1", "ana")
    assert len(r.warnings) == 1 and "unreadable" in r.warnings[0]
    assert len(r.votes()) == 1


def test_results_refused_before_unblind_and_unblind_recorded(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=6)
    s.vote("left")
    with pytest.raises(BlindError):
        s.results()
    with pytest.raises(BlindError):
        s.drilldown()
    with pytest.raises(BlindError):
        s.export(tmp_path / "x.csv", "csv")
    s.unblind()
    recs = [json.loads(line) for line in s.votes_path.read_text().splitlines()]
    assert recs[-1]["type"] == "unblind" and recs[-1]["rater"] == "ana"
    assert s.results().n_votes == 1
    with pytest.raises(SessionError):
        s.vote("left")
    s.close()
    assert BlindSession(tmp_path / "s1", "ana").is_unblinded


def _vote_for(s: BlindSession, system: str) -> None:
    t = s.tasks[s.current().task]
    s.vote("left" if t.left == system else "right")


def test_results_statistics_equal_hand_computed(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=40)
    for _ in range(20):
        _vote_for(s, "ft")
    for _ in range(10):
        _vote_for(s, "base")
    for choice in ["tie"] * 4 + ["both_bad"] * 3 + ["skip"] * 3:
        s.vote(choice)
    assert s.finished
    left = sum(1 for v in s.votes() if v.choice == "left")
    s.unblind()
    res = s.results(n_bootstrap=50)
    p = res.main
    assert (p.system_a, p.system_b) == ("base", "ft")
    assert (p.wins, p.losses, p.ties, p.both_bad, p.skipped) == (20, 10, 4, 3, 3)
    assert (round(p.win_rate.low, 3), round(p.win_rate.high, 3)) == (0.488, 0.808)
    assert p.sign_test_p == pytest.approx(0.0987, abs=1e-4)
    assert p.tie_half == pytest.approx(22 / 34)
    assert p.both_bad_rate.k == 3 and p.both_bad_rate.n == 37
    assert res.position_bias.k == left and res.position_bias.n == 30
    assert res.votes_needed[0] == {"true_rate": 0.6, "needed": 210, "remaining": 180}
    # automatic metrics on the same items: ft always right, base right on none (its label is shifted)
    assert res.metrics["ft"].accuracy == 1.0 and res.metrics["base"].accuracy == 0.0
    cmp_ = res.metric_comparisons[0]
    assert (cmp_.only_a_correct, cmp_.only_b_correct) == (0, 40)
    assert cmp_.mcnemar_p == pytest.approx(2 / 2**40)
    d = res.to_dict()
    json.dumps(d)
    assert d["pairs"][0]["decisive"] == 30
    assert "win rate (decisive) 0.67 [0.49, 0.81]" in results_text(res)


def test_kappa_between_two_raters_uses_side_free_categories(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=8)
    # ana: ft, ft, ft, ft, base, base, tie, both_bad (in her order)
    for sys_ in ("ft", "ft", "ft", "ft", "base", "base"):
        _vote_for(s, sys_)
    s.vote("tie")
    s.vote("both_bad")
    bo = BlindSession(tmp_path / "s1", "bo", clock=FakeClock())
    assert [t.left for t in bo.tasks] != [t.left for t in s.tasks] or [t.item_id for t in bo.tasks] != [
        t.item_id for t in s.tasks]
    ana_by_item = {v.item_id: v.absolute() for v in s.votes()}
    # bo agrees on every item except one where ana said b (ft) and bo says tie
    flipped = next(i for i, c in ana_by_item.items() if c == "b")
    while (pair := bo.current()) is not None:
        want = "tie" if pair.item_id == flipped else ana_by_item[pair.item_id]
        t = bo.tasks[pair.task]
        if want in ("a", "b"):
            system = t.pair[0] if want == "a" else t.pair[1]
            bo.vote("left" if t.left == system else "right")
        else:
            bo.vote(want)
    # ana: b4 a2 tie1 bb1 ; bo: b3 a2 tie2 bb1 ; p_o = 7/8
    # p_e = (4*3 + 2*2 + 1*2 + 1*1)/64 = 19/64 ; kappa = (7/8 - 19/64)/(1 - 19/64) = (37/64)/(45/64) = 37/45
    s.unblind()
    res = s.results(n_bootstrap=10)
    assert len(res.kappa) == 1
    k = res.kappa[0]
    assert (k.rater_1, k.rater_2, k.n) == ("ana", "bo", 8)
    assert k.kappa == pytest.approx(37 / 45)
    assert res.n_votes == 16


def test_bradley_terry_with_three_systems(tmp_path: Path) -> None:
    items = make_items(8)
    outs = make_outputs(items)
    outs["fewshot"] = {it.id: "fewshot " + it.reference for it in items}
    s = BlindSession.create(tmp_path / "s3", items, outs, "ana", base_system="base", clock=FakeClock())
    while s.current() is not None:
        t = s.tasks[s.current().task]
        winner = "ft" if "ft" in t.pair else "fewshot"
        s.vote("left" if t.left == winner else "right")
    s.unblind()
    res = s.results(n_bootstrap=30)
    bt = res.bradley_terry
    assert bt is not None and bt.anchor == "base" and bt.theta["base"] == 0.0
    assert bt.theta["ft"] > bt.theta["fewshot"] > 0
    assert len(res.pairs) == 3
    assert "Bradley-Terry" in results_text(res)


def test_drilldown_and_disagreement_filter(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=8)
    wrong_item = s.current().item_id
    _vote_for(s, "base")  # base's label is wrong on every item: a disagreement with the metrics
    while s.current() is not None:
        _vote_for(s, "ft")
    s.unblind()
    rows = s.drilldown()
    assert len(rows) == 8
    bad = s.drilldown(disagreements_only=True)
    assert [r.item_id for r in bad] == [wrong_item]
    row = bad[0]
    assert row.preferred == "base" and "lower" in row.disagreement
    assert row.scores["base"].exact == 0.0 and row.scores["ft"].exact == 1.0
    assert {row.system_left, row.system_right} == {"base", "ft"}
    assert s.drilldown(item_id=wrong_item)[0].item_id == wrong_item
    worst = s.worst_items("base", k=3)
    assert len(worst) == 3 and all(score == 0.0 for _, score in worst)


def test_exports_csv_jsonl_dpo(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=6)
    _vote_for(s, "ft")
    _vote_for(s, "base")
    s.vote("tie")
    s.vote("skip", note='has "quotes", commas')
    s.unblind()
    n = s.export(tmp_path / "v.csv", "csv")
    rows = list(csv.DictReader((tmp_path / "v.csv").open(encoding="utf-8")))
    assert n == 4 and len(rows) == 4
    assert rows[3]["note"] == 'has "quotes", commas' and rows[0]["preferred"] == "ft"
    s.export(tmp_path / "v.jsonl", "jsonl")
    recs = [json.loads(x) for x in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert [r["choice"] for r in recs][2:] == ["tie", "skip"] and recs[0]["preferred"] == "ft"
    assert s.export(tmp_path / "p.jsonl", "dpo") == 2
    pairs = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    for p in pairs:
        # TRL's conversational preference format (trl.data_utils.is_conversational checks exactly this shape;
        # importing trl here would cost ~9 s)
        assert set(p) == {"prompt", "chosen", "rejected"}
        for key in ("prompt", "chosen", "rejected"):
            assert isinstance(p[key], list) and all(set(m) == {"role", "content"} for m in p[key])
        assert p["prompt"][-1]["role"] == "user" and p["chosen"][0]["role"] == "assistant"
    item = s.plan.item(s.votes()[0].item_id)
    assert pairs[0]["chosen"][0]["content"] == item.reference  # ft was preferred and is the reference label
    with pytest.raises(SessionError):
        s.export(tmp_path / "x", "xml")


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    items = make_items(3)
    with pytest.raises(SessionError, match="at least two"):
        BlindSession.create(tmp_path / "a", items, {"base": {}}, "ana")
    with pytest.raises(SessionError, match="rater name"):
        BlindSession.create(tmp_path / "b", items, make_outputs(items), "../evil")
    with pytest.raises(SessionError, match="not a rating session"):
        BlindSession(tmp_path / "nothing", "ana")
    new_session(tmp_path, n=3)
    with pytest.raises(SessionError, match="already holds"):
        new_session(tmp_path, n=3)
    sessions = session_plan.list_sessions(tmp_path)
    assert [x.name for x in sessions] == ["s1"] and sessions[0].raters == ["ana"]


def test_progress_and_fast_votes(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=30)
    for _ in range(25):
        s.vote("left", dwell_ms=50)
    p = s.progress()
    assert p.done == 25 and p.decisive == 25 and p.suggest_break
    assert all(v.fast for v in s.votes())
    s.vote("right")
    assert not s.progress().suggest_break
    assert not s.votes()[-1].fast


def test_average_lengths_reported_even_without_references(tmp_path: Path) -> None:
    items = [EvalItem(f"q{k}", ({"role": "user", "content": f"q{k}"},)) for k in range(3)]
    outs = {"base": {it.id: "one two" for it in items}, "ft": {it.id: "one two three four" for it in items}}
    s = BlindSession.create(tmp_path / "nr", items, outs, "ana", clock=FakeClock())
    s.vote("right")
    s.unblind()
    res = s.results()
    assert res.metrics == {} and res.avg_length_words == {"base": 2.0, "ft": 4.0}
    assert "average output length (words): base 2.0, ft 4.0" in results_text(res)


def test_word_diff_marks_changed_words_and_keeps_text() -> None:
    from ftui.evaluate.diff import word_diff

    left, right = word_diff("The total is 42 EUR.\nThanks", "The total is 41 EUR.\n Thanks!")
    assert "".join(s.text for s in left) == "The total is 42 EUR.\nThanks"
    assert "".join(s.text for s in right) == "The total is 41 EUR.\n Thanks!"
    assert [s.text for s in left if s.changed] == ["42"]
    assert [s.text for s in right if s.changed] == ["41", "!"]
    same_l, same_r = word_diff("a  b", "a b")
    assert not any(s.changed for s in same_l + same_r)  # whitespace alone is not a difference


def test_one_writer_per_rater(tmp_path: Path) -> None:
    s = new_session(tmp_path, n=4)
    s.vote("left")
    other = BlindSession(tmp_path / "s1", "ana")
    assert other.read_only and "elsewhere" in other.warnings[-1]
    assert len(other.votes()) == 1  # it can still read
    with pytest.raises(SessionError, match="elsewhere"):
        other.vote("left")
    other.close()
    s.close()
    again = BlindSession(tmp_path / "s1", "ana")
    assert not again.read_only
    again.vote("right")
    assert len(again.votes()) == 2


def test_parent_directories_are_fsynced_after_create_and_replace(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import stat

    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    s = new_session(tmp_path, n=4)
    s.close()
    session_dir, rater_dir = tmp_path / "s1", tmp_path / "s1" / "raters" / "ana"
    assert str(session_dir) in synced  # session.json renamed into place
    assert str(tmp_path) in synced  # the new session directory itself
    assert synced.count(str(rater_dir)) >= 2  # queue.json replaced, votes.jsonl created
