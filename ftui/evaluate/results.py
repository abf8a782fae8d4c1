"""Session statistics: what the Results screen and ``ftui eval report`` show after an unblind.

Moved out of ``ab.py`` (the live session store); the plan and vote types are ``session_plan``. Several raters on one
item are one observation of that item: the headline win rate, its interval, the sign test and
the "votes still needed" table aggregate per item (``stats.item_level``: majority per item,
cluster bootstrap over items for the CI); the per-rater table and inter-rater agreement (Cohen's
κ for every pair of raters, Fleiss' κ when three or more rated the same items) sit beside it.
Automatic metrics come from the one scorer (``scoring.score_outputs``) with the session's stored
``n_bootstrap`` and bootstrap seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

from ftui.evaluate import bradley_terry as BT
from ftui.evaluate import metrics as M
from ftui.evaluate import stats as S
from ftui.evaluate.scoring import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOTSTRAP, score_outputs

if TYPE_CHECKING:
    from ftui.evaluate.session_plan import SessionPlan, VoteRecord

_DECISIVE = ("left", "right")


@dataclass
class RaterRow:
    """One rater's own votes on one pair (vote-level: each of their votes is one item)."""

    rater: str
    wins: int
    losses: int
    ties: int
    both_bad: int
    win_rate: S.Proportion
    sign_test_p: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PairResult:
    """One pair of systems from the point of view of ``system_b`` (the non-base one).

    ``wins``/``losses``/``ties``/``both_bad`` count votes (all raters); the headline figures
    (``win_rate``, ``sign_test_p``, ``tie_half``, ``both_bad_rate``) are item-level (``items``),
    which equals the vote-level analysis when each item has one vote."""

    system_a: str
    system_b: str
    wins: int
    losses: int
    ties: int
    both_bad: int
    skipped: int
    identical: int
    win_rate: S.Proportion  # items won / decisive items; CI per items.ci_method
    sign_test_p: float  # on item majorities
    tie_half: float | None  # (won + tied/2) / (won + lost + tied), items
    both_bad_rate: S.Proportion  # both-bad items / rated items
    items: S.ItemLevel | None = None
    per_rater: list[RaterRow] = field(default_factory=list)

    @property
    def decisive(self) -> int:
        """Decisive items (equal to decisive votes with one rater)."""
        return self.items.decisive if self.items is not None else self.wins + self.losses

    @property
    def decisive_votes(self) -> int:
        return self.wins + self.losses

    def to_dict(self) -> dict:
        d = asdict(self)
        d["items"] = self.items.to_dict() if self.items is not None else None
        d["decisive"] = self.decisive
        d["decisive_votes"] = self.decisive_votes
        return d


@dataclass
class KappaResult:
    rater_1: str
    rater_2: str
    n: int  # tasks (item × pair) both rated with left/right/tie/both_bad
    kappa: float | None


@dataclass
class FleissResult:
    """Fleiss' κ over the tasks every listed rater rated (three or more raters)."""

    raters: list[str]
    n: int
    kappa: float | None


@dataclass
class SessionResults:
    """Everything the results screen and ``ftui eval report`` show."""

    systems: list[str]
    base_system: str
    raters: list[str]
    n_items: int
    n_votes: int
    pairs: list[PairResult]
    position_bias: S.Proportion  # share of decisive votes for the left pane
    votes_needed: list[dict]  # stats.power_table rows for the main pair (decisive items so far)
    kappa: list[KappaResult]
    bradley_terry: BT.BradleyTerryResult | None
    metrics: dict[str, M.SystemMetrics]
    metric_comparisons: list[M.PairedComparison]
    fast_votes: int
    task: str
    avg_length_words: dict[str, float] = field(default_factory=dict)  # length bias check, always present
    fleiss: FleissResult | None = None
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP
    bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED
    extra: dict = field(default_factory=dict)  # sections added by other modules (judge agreement, fields)

    @property
    def main(self) -> PairResult | None:
        """The first pair (base vs the first other system): the headline numbers."""
        return self.pairs[0] if self.pairs else None

    def to_dict(self) -> dict:
        return {
            "systems": self.systems, "base_system": self.base_system, "raters": self.raters,
            "n_items": self.n_items, "n_votes": self.n_votes, "task": self.task,
            "n_bootstrap": self.n_bootstrap, "bootstrap_seed": self.bootstrap_seed,
            "pairs": [p.to_dict() for p in self.pairs],
            "position_bias": self.position_bias.to_dict(),
            "votes_needed": self.votes_needed,
            "kappa": [asdict(k) for k in self.kappa],
            "fleiss": asdict(self.fleiss) if self.fleiss else None,
            "bradley_terry": self.bradley_terry.to_dict() if self.bradley_terry else None,
            "metrics": {s: m.to_dict() for s, m in self.metrics.items()},
            "metric_comparisons": [c.to_dict() for c in self.metric_comparisons],
            "fast_votes": self.fast_votes,
            "avg_length_words": self.avg_length_words,
            **self.extra,
        }


def _side_free(v: VoteRecord, a: str, b: str) -> str | None:
    """The vote as a / b / tie / both_bad with a, b in the order given (None for skip/identical)."""
    if v.choice in _DECISIVE:
        return "a" if v.preferred == a else "b"
    return v.choice if v.choice in ("tie", "both_bad") else None


def pair_result(a: str, b: str, votes: Sequence[VoteRecord], n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
                seed: int = DEFAULT_BOOTSTRAP_SEED) -> PairResult:
    """Vote counts plus item-level statistics and a per-rater table for the pair (a, b)."""
    mine = [v for v in votes if set(v.pair) == {a, b}]
    wins = sum(1 for v in mine if v.preferred == b)
    losses = sum(1 for v in mine if v.preferred == a)
    ties = sum(1 for v in mine if v.choice == "tie")
    bb = sum(1 for v in mine if v.choice == "both_bad")
    per_item: dict[str, list[str]] = {}
    for v in mine:
        cat = _side_free(v, a, b)
        if cat is not None:
            per_item.setdefault(v.item_id, []).append(cat)
    items = S.item_level(per_item, n_bootstrap=n_bootstrap, seed=seed)
    per_rater = []
    for rater in sorted({v.rater for v in mine}):
        rv = [v for v in mine if v.rater == rater]
        w = sum(1 for v in rv if v.preferred == b)
        lo = sum(1 for v in rv if v.preferred == a)
        per_rater.append(RaterRow(rater, w, lo, sum(1 for v in rv if v.choice == "tie"),
                                  sum(1 for v in rv if v.choice == "both_bad"), S.proportion(w, w + lo),
                                  S.sign_test(w, lo)))
    return PairResult(
        system_a=a, system_b=b, wins=wins, losses=losses, ties=ties, both_bad=bb,
        skipped=sum(1 for v in mine if v.choice == "skip"), identical=sum(1 for v in mine if v.choice == "identical"),
        win_rate=items.win_rate, sign_test_p=items.sign_test_p,
        tie_half=S.tie_half_score(items.won, items.lost, items.tied),
        both_bad_rate=S.proportion(items.both_bad, items.n_items), items=items, per_rater=per_rater,
    )


def _by_rater(votes: Sequence[VoteRecord]) -> dict[str, dict[tuple[str, tuple[str, str]], str]]:
    by_rater: dict[str, dict[tuple[str, tuple[str, str]], str]] = {}
    for v in votes:
        cat = v.absolute()
        if cat is not None:
            by_rater.setdefault(v.rater, {})[(v.item_id, tuple(v.pair))] = cat
    return by_rater


def rater_kappas(votes: Sequence[VoteRecord]) -> list[KappaResult]:
    """Cohen's κ for every pair of raters over the tasks (item, system pair) both rated; votes are
    mapped to side-free categories first (a better / b better / tie / both bad)."""
    by_rater = _by_rater(votes)
    out = []
    for r1, r2 in combinations(sorted(by_rater), 2):
        common = sorted(set(by_rater[r1]) & set(by_rater[r2]), key=str)
        x = [by_rater[r1][k] for k in common]
        y = [by_rater[r2][k] for k in common]
        out.append(KappaResult(r1, r2, len(common), S.cohen_kappa(x, y, S.ITEM_CATEGORIES)))
    return out


def rater_fleiss(votes: Sequence[VoteRecord]) -> FleissResult | None:
    """Fleiss' κ over the tasks all raters rated (None with fewer than three raters)."""
    by_rater = _by_rater(votes)
    if len(by_rater) < 3:
        return None
    raters = sorted(by_rater)
    common = sorted(set.intersection(*(set(by_rater[r]) for r in raters)), key=str)
    ratings = [[by_rater[r][k] for r in raters] for k in common]
    return FleissResult(raters, len(common), S.fleiss_kappa(ratings, S.ITEM_CATEGORIES) if ratings else None)


def judge_agreement(records: Sequence[dict], plan: SessionPlan, votes: Sequence[VoteRecord]) -> list[dict]:
    """Per judge model: κ, raw agreement and the confusion table against the human votes on the
    items both rated (from the session's judge verdicts; ``judge.agreement_with_humans``)."""
    from ftui.evaluate.judge import agreement_with_humans, verdicts_from_cache

    out = []
    for model, verdicts in sorted(verdicts_from_cache(records, plan.items).items()):
        ag = agreement_with_humans(verdicts, votes)
        ag["judge"] = model
        ag["judged"] = len(verdicts)
        ag["judge_parse_failures"] = sum(1 for v in verdicts if v.verdict == "failed")
        out.append(ag)
    return out


def compute_results(plan: SessionPlan, votes: Sequence[VoteRecord], n_bootstrap: int | None = None,
                    seed: int | None = None, judge_records: Sequence[dict] = ()) -> SessionResults:
    """The statistics from a plan and a list of effective votes (all raters). ``n_bootstrap`` and
    ``seed`` default to the ones stored in the session, so every view prints the same numbers.
    ``judge_records`` (the session's judge verdicts) add judge-human agreement."""
    n_boot = plan.n_bootstrap if n_bootstrap is None else n_bootstrap
    bseed = plan.bootstrap_seed if seed is None else seed
    pairs = [pair_result(a, b, votes, n_boot, bseed) for a, b in plan.pairs]
    decisive = [v for v in votes if v.choice in _DECISIVE]
    left = sum(1 for v in decisive if v.choice == "left")
    bt = None
    if len(plan.systems) >= 3:
        comps = []
        for v in votes:
            if v.choice in _DECISIVE or v.choice == "tie":
                a, b = v.pair
                score = 0.5 if v.choice == "tie" else (1.0 if v.preferred == a else 0.0)
                comps.append(BT.Comparison(a, b, score, group=v.item_id))
        bt = BT.bradley_terry(comps, plan.systems, plan.base_system, n_bootstrap=n_boot, seed=bseed)
    scored = score_outputs(plan.items, plan.outputs, task=plan.task, labels=plan.labels or None, pairs=plan.pairs,
                           n_bootstrap=n_boot, seed=bseed)
    main = pairs[0] if pairs else None
    return SessionResults(
        systems=list(plan.systems), base_system=plan.base_system, raters=sorted({v.rater for v in votes}),
        n_items=len(plan.items), n_votes=len(votes), pairs=pairs, position_bias=S.proportion(left, len(decisive)),
        votes_needed=S.power_table(main.decisive if main else 0), kappa=rater_kappas(votes), bradley_terry=bt,
        metrics=scored.metrics, metric_comparisons=scored.comparisons, fast_votes=sum(1 for v in votes if v.fast),
        task=plan.task,
        avg_length_words={
            s: sum(len(M.tokenize(o)) for o in plan.outputs[s].values()) / max(1, len(plan.outputs[s]))
            for s in plan.systems
        },
        fleiss=rater_fleiss(votes), n_bootstrap=n_boot, bootstrap_seed=bseed,
        extra={**({"judge_agreement": judge_agreement(judge_records, plan, votes)} if judge_records else {}),
               **({"resolved": plan.resolved} if any(plan.resolved.values()) else {})},
    )


# --- drill-down: votes beside the metrics -----------------------------------------------------


def disagreement(v: VoteRecord, scores: Mapping[str, M.ItemScores], text_margin: float = 0.1) -> str | None:
    """Why a human vote contradicts the automatic metrics on this item, or None.

    Label/JSON tasks compare correctness (0/1); free text compares ROUGE-L and needs a gap of
    at least ``text_margin`` so near-equal scores are not reported."""
    if v.left not in scores or v.right not in scores:
        return None
    pl, pr = scores[v.left].primary, scores[v.right].primary
    binary = scores[v.left].label is not None or scores[v.left].json_parse is not None
    margin = 0.0 if binary else text_margin
    if v.choice in _DECISIVE:
        chosen, other = (v.left, v.right) if v.choice == "left" else (v.right, v.left)
        mine, theirs = scores[chosen].primary, scores[other].primary
        if (mine < theirs) if binary else (mine + margin <= theirs):
            return f"preferred {chosen} but its metric is lower ({mine:.2f} < {theirs:.2f})"
    elif v.choice == "tie" and abs(pl - pr) >= (0.5 if binary else 0.3):
        return f"tie but the metrics differ ({pl:.2f} vs {pr:.2f})"
    elif v.choice == "both_bad" and max(scores[v.left].exact, scores[v.right].exact) >= 1.0:
        return "both bad but one output matches the reference"
    return None


@dataclass
class DrillRow:
    task: int
    item_id: str
    rater: str
    messages: tuple[dict[str, str], ...]
    prompt: str
    reference: str | None
    system_left: str
    system_right: str
    output_left: str
    output_right: str
    choice: str
    preferred: str | None
    note: str
    flags: tuple[str, ...]
    dwell_ms: int
    fast: bool
    scores: dict[str, M.ItemScores]
    disagreement: str | None




def drill_rows(plan: SessionPlan, votes: Sequence[VoteRecord], scores: Mapping[str, Mapping[str, M.ItemScores]],
               disagreements_only: bool = False, item_id: str | None = None) -> list[DrillRow]:
    """One row per vote (item, both outputs unblinded, vote, note, per-item scores of both sides);
    ``disagreements_only`` keeps the rows where the human vote contradicts the metrics."""
    rows = []
    for v in votes:
        if item_id is not None and v.item_id != item_id:
            continue
        item = plan.item(v.item_id)
        sc = {s: scores[s][v.item_id] for s in (v.left, v.right) if s in scores and v.item_id in scores[s]}
        row = DrillRow(
            task=v.task, item_id=v.item_id, rater=v.rater, messages=item.messages, prompt=item.prompt_text,
            reference=item.reference, system_left=v.left, system_right=v.right,
            output_left=plan.outputs[v.left][v.item_id], output_right=plan.outputs[v.right][v.item_id],
            choice=v.choice, preferred=v.preferred, note=v.note, flags=v.flags, dwell_ms=v.dwell_ms, fast=v.fast,
            scores=sc, disagreement=disagreement(v, sc),
        )
        if disagreements_only and row.disagreement is None:
            continue
        rows.append(row)
    return rows


# --- text ----------------------------------------------------------------------------------------


def _rate(p: S.Proportion) -> str:
    return "n/a" if p.p is None else f"{p.p:.2f} [{p.low:.2f}, {p.high:.2f}]"


def pair_lines(p: PairResult) -> list[str]:
    """The text block of one pair (shared by ``results_text``)."""
    th = "n/a" if p.tie_half is None else f"{p.tie_half:.2f}"
    lines = [
        f"{p.system_b} vs {p.system_a}: W {p.wins} · L {p.losses} · T {p.ties} · BB {p.both_bad} · skip {p.skipped}"
        f" · identical {p.identical}"
    ]
    it = p.items
    if it is not None and it.max_raters > 1:
        lines.append(f"  per item (majority of up to {it.max_raters} raters): won {it.won} · lost {it.lost} · "
                     f"tied {it.tied} ({it.split} split) · both bad {it.both_bad} of {it.n_items} items")
    ci = "" if it is None or it.ci_method == "wilson" else f" ({it.ci_method})"
    lines.append(f"  win rate (decisive) {_rate(p.win_rate)}{ci} · sign test p = {p.sign_test_p:.3g}"
                 f" · tie-as-half {th} · both-bad rate {_rate(p.both_bad_rate)}")
    if len(p.per_rater) > 1:
        for r in p.per_rater:
            lines.append(f"    rater {r.rater}: W {r.wins} · L {r.losses} · T {r.ties} · BB {r.both_bad} · "
                         f"win rate {_rate(r.win_rate)} · sign test p = {r.sign_test_p:.3g}")
    return lines


def results_text(res: SessionResults) -> str:
    """A plain-text report (CLI ``ftui eval report``)."""
    lines = [f"systems: {', '.join(res.systems)} (anchor {res.base_system}) · raters: {', '.join(res.raters) or '-'} "
             f"· items {res.n_items} · votes {res.n_votes}"]
    for p in res.pairs:
        lines.extend(pair_lines(p))
    pb = res.position_bias
    if pb.p is not None:
        lines.append(f"position bias: left chosen in {pb.p:.2f} [{pb.low:.2f}, {pb.high:.2f}] of decisive votes")
    lines.append("decisive items for 80% power (alpha 0.05): " + ", ".join(
        f"{r['true_rate']:.2f} -> {r['needed']} ({r['remaining']} more)" for r in res.votes_needed))
    for k in res.kappa:
        kv = "n/a" if k.kappa is None else f"{k.kappa:.2f}"
        lines.append(f"Cohen's kappa {k.rater_1} / {k.rater_2}: {kv} on {k.n} shared pairs")
    if res.fleiss is not None:
        fv = "n/a" if res.fleiss.kappa is None else f"{res.fleiss.kappa:.2f}"
        lines.append(f"Fleiss' kappa ({len(res.fleiss.raters)} raters): {fv} on {res.fleiss.n} pairs all rated")
    if res.bradley_terry:
        bt = res.bradley_terry
        for s in res.systems:
            lo, hi = bt.low.get(s), bt.high.get(s)
            ci = "" if lo is None else f" [{lo:+.2f}, {hi:+.2f}]"
            lines.append(f"Bradley-Terry {s}: {bt.theta[s]:+.2f}{ci} (logit vs {bt.anchor})")
    lines.extend(judge_lines(res))
    for m in res.metrics.values():
        lines.append(metrics_line(m))
    lines.extend(field_lines(res.metrics))
    for c in res.metric_comparisons:
        lines.append(comparison_line(c))
    if res.avg_length_words:
        lines.append("average output length (words): " + ", ".join(
            f"{s} {n:.1f}" for s, n in res.avg_length_words.items()))
    if res.fast_votes:
        lines.append(f"{res.fast_votes} vote(s) were faster than plausible reading")
    for name, rec in res.extra.get("resolved", {}).items():
        if rec:
            where = rec.get("checkpoint") or rec.get("base_url") or rec.get("model", "")
            run = f" (run {rec['run_id']})" if rec.get("run_id") else ""
            lines.append(f"system {name}: {rec.get('spec', rec.get('kind', '?'))}{run} · {where}")
    lines.append(f"bootstrap: {res.n_bootstrap} resamples, seed {res.bootstrap_seed} (stored in the session)")
    return "\n".join(lines)


def metrics_line(m: M.SystemMetrics) -> str:
    parts = [f"{m.system}: n {m.n} · accuracy {m.accuracy:.3f}"]
    if m.macro_f1 is not None:
        parts.append(f"macro-F1 {m.macro_f1:.3f} · unparseable {m.unparseable_rate:.2f}")
    if m.json_parse_rate is not None:
        parts.append(f"JSON parse {m.json_parse_rate:.2f} · schema-valid {m.json_valid_rate:.2f}")
    parts.append(f"ROUGE-L {m.rouge_l:.3f} · avg length {m.avg_length_words:.1f} words")
    return " · ".join(parts)


#: side-free categories of the confusion table: A = the pair's first (base) system, B = the other one
JUDGE_CATEGORIES = (("a", "A better"), ("b", "B better"), ("tie", "tie"))


def judge_lines(res: SessionResults) -> list[str]:
    """Judge-human agreement per judge model: κ, agreement and the confusion table (humans in rows)."""
    lines = []
    for ag in res.extra.get("judge_agreement", []):
        kappa = "n/a" if ag["kappa"] is None else f"{ag['kappa']:.2f}"
        agree = "n/a" if ag["agreement"] is None else f"{ag['agreement']:.2f}"
        lines.append(f"judge {ag['judge']} vs humans: kappa {kappa} · agreement {agree} on {ag['n']} votes "
                     f"({ag['judged']} pairs judged, {ag['judge_parse_failures']} judge parse failures)")
        lines.append("  human \\ judge       " + "".join(f"{label:>15}" for _, label in JUDGE_CATEGORIES)
                     + "   (A = the pair's base system)")
        for h, label in JUDGE_CATEGORIES:
            lines.append(f"  {label:<19}" + "".join(f"{ag['confusion'][h][m]:>15}" for m, _ in JUDGE_CATEGORIES))
    return lines


def field_lines(metrics: Mapping[str, M.SystemMetrics]) -> list[str]:
    """The per-field accuracy table of an extraction (JSON) task as text lines; empty otherwise."""
    ms = [m for m in metrics.values() if m.fields]
    if not ms:
        return []
    width = max(12, *(len(r.field) for m in ms for r in m.fields))
    lines = ["per-field accuracy (strict / case+whitespace-normalised strings / outputs missing the field):"]
    lines.append("  " + "field".ljust(width) + "".join(f"  {m.system[:24]:>24}" for m in ms))
    for row in ms[0].fields:
        cells = []
        for m in ms:
            r = next((x for x in m.fields if x.field == row.field), None)
            cells.append("-" if r is None else f"{r.accuracy:.2f} / {r.accuracy_normalised:.2f} / {r.missing}")
        lines.append("  " + row.field[:width].ljust(width) + "".join(f"  {c:>24}" for c in cells))
    return lines


def comparison_line(c: M.PairedComparison) -> str:
    d = c.accuracy_diff
    text = (f"{c.system_b} - {c.system_a}: accuracy {d.diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}] · McNemar p = "
            f"{c.mcnemar_p:.3g} ({c.only_a_correct} only {c.system_a} right, {c.only_b_correct} only {c.system_b} right)")
    if c.macro_f1_diff is not None:
        f = c.macro_f1_diff
        text += f" · macro-F1 {f.diff:+.3f} [{f.low:+.3f}, {f.high:+.3f}]"
    r = c.rouge_l_diff
    text += f" · ROUGE-L {r.diff:+.3f} [{r.low:+.3f}, {r.high:+.3f}]"
    return text if not math.isnan(d.diff) else f"{c.system_b} - {c.system_a}: no shared items"

