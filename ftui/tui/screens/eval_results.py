"""Results of a blind A/B session (only after the rater's recorded unblind), the per-item
drill-down with a human-vs-metric disagreement filter, the worst items, and export.

The statistics come from ``BlindSession.results()`` (computed in a thread worker: the
bootstraps take a moment on big sessions); this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Static

from ftui.evaluate import metrics as M
from ftui.evaluate.ab import BlindSession, DrillRow, SessionError, SessionResults
from ftui.evaluate.results import JUDGE_CATEGORIES
from ftui.textsafe import one_line, one_line_mid
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.eval_common import fmt_diff, fmt_num, fmt_p, fmt_rate, shown
from ftui.tui.widgets.hanging import hanging
from ftui.tui.widgets.key_footer import KeyFooter

WorstRow = tuple[str, str, float]  # system, item id, score
EXPORT_FILES = {"csv": "votes.csv", "jsonl": "votes.jsonl", "dpo": "dpo_pairs.jsonl"}
CHOICE_WORDS = {"tie": "tie", "both_bad": "both bad", "skip": "skipped", "identical": "identical"}


# ---------------------------------------------------------------------- rendering (pure)
def pair_table(res: SessionResults) -> Table:
    """One block per pair of systems: counts, win rate (Wilson CI), sign test, tie-as-half, both-bad."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for i, p in enumerate(res.pairs):
        if i:
            table.add_row("", "")
        head = Text()
        head.append(one_line_mid(p.system_b, 40), style="bold")
        head.append(" vs ", style="dim")
        head.append(one_line_mid(p.system_a, 40), style="bold")
        table.add_row("pair", head)
        table.add_row("votes", f"W {p.wins} · L {p.losses} · T {p.ties} · both bad {p.both_bad}")
        it = p.items
        if it is not None and it.max_raters > 1:
            table.add_row("per item", Text(f"won {it.won} · lost {it.lost} · tied {it.tied} · both bad {it.both_bad}")
                          + Text(f"  majority of up to {it.max_raters} raters ({it.split} split)", style="dim"))
        table.add_row("not counted", f"skipped {p.skipped} · identical {p.identical}")
        wr = p.win_rate
        rate = Text(fmt_rate(wr.p, wr.low, wr.high), style="bold")
        rate.append(f"  of {p.decisive} decisive" + (" items" if it is not None and it.max_raters > 1 else ""),
                    style="dim")
        if it is not None and it.ci_method != "wilson":
            rate.append(f" · {it.ci_method}", style="dim")
        table.add_row("win rate", rate)
        table.add_row("sign test", Text(p_is(p.sign_test_p)) + Text("  exact, two-sided", style="dim"))
        table.add_row("tie-as-half", Text(fmt_rate(p.tie_half)) + Text("  (W + T/2) / (W + L + T)", style="dim"))
        bb = p.both_bad_rate
        table.add_row("both bad", Text(fmt_rate(bb.p, bb.low, bb.high)) + Text(f"  of {bb.n} rated", style="dim"))
        if len(p.per_rater) > 1:
            for r in p.per_rater:
                table.add_row(one_line(f"rater {r.rater}", 24),
                              Text(f"W {r.wins} · L {r.losses} · T {r.ties} · BB {r.both_bad} · ")
                              + Text(fmt_rate(r.win_rate.p, r.win_rate.low, r.win_rate.high))
                              + Text(f"  p = {r.sign_test_p:.3g}", style="dim"))
    if not res.pairs:
        table.add_row("", Text("no votes yet", style="dim"))
    table.add_row("", "")
    table.add_row("", Text("[low, high] = Wilson 95% interval", style="dim"))
    return table


def quality_table(res: SessionResults) -> Table:
    """Position bias, fast votes, inter-rater agreement."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    pb = res.position_bias
    table.add_row("position bias", Text(fmt_rate(pb.p, pb.low, pb.high))
                  + Text(f"  left, of {pb.n} decisive", style="dim"))
    table.add_row("fast votes", Text(f"{res.fast_votes}") + Text("  faster than plausible reading", style="dim"))
    lengths = getattr(res, "avg_length_words", None) or {}
    if lengths:
        table.add_row("avg length", Text(" · ".join(f"{one_line_mid(s, 24)} {n:.1f}" for s, n in lengths.items()))
                      + Text("  words", style="dim"))
    if not res.kappa:
        table.add_row("Cohen's κ", Text("needs two raters on this session", style="dim"))
    for k in res.kappa:
        value = "n/a" if k.kappa is None else f"{k.kappa:.2f}"
        table.add_row("Cohen's κ", Text(f"{value}") + Text(f"  {one_line(k.rater_1, 20)} / {one_line(k.rater_2, 20)}"
                                                          f" on {k.n} shared pairs", style="dim"))
    for ag in res.extra.get("judge_agreement", []) if hasattr(res, "extra") else []:
        kappa = "n/a" if ag["kappa"] is None else f"{ag['kappa']:.2f}"
        table.add_row("judge κ", Text(kappa, style="bold")
                      + Text(f"  {one_line(ag['judge'], 30)} vs humans on {ag['n']} votes · "
                             f"{ag['judge_parse_failures']} parse failures", style="dim"))
        confusion = Table(box=None, padding=(0, 1), header_style="dim", show_edge=False)
        confusion.add_column(Text("human \\ judge"), style="dim")
        for _, label in JUDGE_CATEGORIES:
            confusion.add_column(label, justify="right")
        for h, label in JUDGE_CATEGORIES:
            confusion.add_row(label, *[str(ag["confusion"][h][m]) for m, _ in JUDGE_CATEGORIES])
        table.add_row("", confusion)
    fleiss = getattr(res, "fleiss", None)
    if fleiss is not None:
        value = "n/a" if fleiss.kappa is None else f"{fleiss.kappa:.2f}"
        table.add_row("Fleiss' κ", Text(value) + Text(f"  {len(fleiss.raters)} raters on {fleiss.n} pairs all rated",
                                                      style="dim"))
    return table


def power_table(res: SessionResults) -> Table:
    table = Table(box=None, padding=(0, 2), header_style="dim", show_edge=False)
    table.add_column("true win rate")  # left: Textual drops a rendered line's leading spaces
    table.add_column("decisive items", justify="right")  # items, not votes: several raters count once
    table.add_column("to go", justify="right")
    for row in res.votes_needed:
        needed = "–" if row["needed"] is None else str(row["needed"])
        remaining = "–" if row["remaining"] is None else str(row["remaining"])
        table.add_row(f"{row['true_rate']:.2f}", needed, remaining)
    return table


def bt_table(res: SessionResults) -> Table | Text:
    bt = res.bradley_terry
    if bt is None:
        return Text("Bradley–Terry needs three or more systems.", style="dim")
    table = Table(box=None, padding=(0, 2), header_style="dim", show_edge=False)
    table.add_column("system")
    table.add_column("strength (logit)", justify="right")
    table.add_column("95% bootstrap CI", justify="right")
    table.add_column(f"P(beats {one_line_mid(bt.anchor, 16)})", justify="right")
    for s in sorted(bt.theta, key=lambda x: -bt.theta[x]):
        lo, hi = bt.low.get(s), bt.high.get(s)
        ci = "–" if lo is None or hi is None else f"[{lo:+.2f}, {hi:+.2f}]"
        table.add_row(one_line_mid(s, 30), f"{bt.theta[s]:+.2f}", ci, f"{bt.win_prob_vs_anchor(s):.2f}")
    return table


def metrics_table(metrics: Mapping[str, M.SystemMetrics]) -> RenderableType:
    """Automatic metrics per system on the same items."""
    if not metrics:
        return Text("The items have no reference answers, so there are no automatic metrics.", style="dim")
    ms = list(metrics.values())
    label = any(m.macro_f1 is not None for m in ms)
    js = any(m.json_parse_rate is not None for m in ms)
    table = Table(box=None, padding=(0, 1), header_style="dim", show_edge=False, pad_edge=False)
    table.add_column("system", no_wrap=True, min_width=10, overflow="ellipsis")
    table.add_column("n", justify="right")
    table.add_column("acc" if label or js else "accuracy", justify="right")
    if label:
        table.add_column("mF1", justify="right")
        table.add_column("unp", justify="right")
    if js:
        table.add_column("JSON", justify="right")
        table.add_column("valid", justify="right")
    table.add_column("R-L" if label or js else "ROUGE-L", justify="right")
    table.add_column("words", justify="right")
    for m in ms:
        row = [one_line_mid(m.system, 24), str(m.n), fmt_num(m.accuracy)]
        if label:
            row += [fmt_num(m.macro_f1), fmt_num(m.unparseable_rate, 2)]
        if js:
            row += [fmt_num(m.json_parse_rate, 2), fmt_num(m.json_valid_rate, 2)]
        row += [fmt_num(m.rouge_l), fmt_num(m.avg_length_words, 1)]
        table.add_row(*row)
    if not (label or js):
        return table
    legend = "acc = accuracy · " + ("mF1 = macro-F1 · unp = unparseable rate · " if label else "")
    legend += ("JSON = parse rate · valid = schema-valid · " if js else "") + "R-L = ROUGE-L F1"
    return Group(table, Text(legend, style="dim"))


def class_table(metrics: Mapping[str, M.SystemMetrics]) -> Table | None:
    """Per-class F1 (label tasks), one column per system, with the "unparseable" row."""
    ms = [m for m in metrics.values() if m.classes]
    if not ms:
        return None
    table = Table(box=None, padding=(0, 1), header_style="dim", show_edge=False)
    table.add_column("class")
    table.add_column("support", justify="right")
    for m in ms:
        table.add_column(f"F1 {one_line_mid(m.system, 16)}", justify="right", no_wrap=True)
    labels = [r.label for r in ms[0].classes]
    for label in labels:
        rows = [next((r for r in m.classes if r.label == label), None) for m in ms]
        first = rows[0]
        if label == M.UNPARSEABLE:
            cells = [f"{r.predicted} out" if r else "–" for r in rows]
            table.add_row(Text(label, style="italic"), "", *cells)
        else:
            table.add_row(one_line(label, 24), str(first.support if first else ""),
                          *[fmt_num(r.f1) if r else "–" for r in rows])
    return table


def field_table(metrics: Mapping[str, M.SystemMetrics]) -> Table | None:
    """Per-field accuracy of an extraction (JSON) task, one column per system: strict / normalised."""
    ms = [m for m in metrics.values() if m.fields]
    if not ms:
        return None
    table = Table(box=None, padding=(0, 1), header_style="dim", show_edge=False)
    table.add_column("field")
    for m in ms:
        table.add_column(one_line_mid(m.system, 16), justify="right", no_wrap=True)
    for row in ms[0].fields:
        cells = []
        for m in ms:
            r = next((x for x in m.fields if x.field == row.field), None)
            cells.append("–" if r is None else f"{fmt_num(r.accuracy)} / {fmt_num(r.accuracy_normalised)}")
        table.add_row(one_line(row.field, 24), *cells)
    return table


def metrics_panel(metrics: Mapping[str, M.SystemMetrics]) -> RenderableType:
    """The metrics table plus, for extraction tasks, the per-field table."""
    fields = field_table(metrics)
    if fields is None:
        return metrics_table(metrics)
    return Group(metrics_table(metrics),
                 Text("\nPer field: strict / strings case- and space-normalised", style="dim"), fields)


def comparisons_text(comparisons: Sequence[M.PairedComparison]) -> RenderableType:
    """Each comparison's figures under its pair; a figure's wrapped lines stay right of its label."""
    blocks: list[RenderableType] = []
    for i, c in enumerate(comparisons):
        head = Text("\n" if i else "")
        head.append(f"{one_line_mid(c.system_b, 30)} − {one_line_mid(c.system_a, 30)}", style="bold")
        head.append(f"  on {c.n} items")
        mcnemar = Text(p_is(c.mcnemar_p))
        mcnemar.append(f"  ({c.only_a_correct} only {one_line_mid(c.system_a, 20)} right, "
                       f"{c.only_b_correct} only {one_line_mid(c.system_b, 20)} right)", style="dim")
        rows: list[tuple[Text, RenderableType]] = [
            (Text("  accuracy  ", style="dim"),
             Text(fmt_diff(c.accuracy_diff.diff, c.accuracy_diff.low, c.accuracy_diff.high))),
            (Text("  McNemar   ", style="dim"), mcnemar)]
        if c.macro_f1_diff is not None:
            f = c.macro_f1_diff
            rows.append((Text("  macro-F1  ", style="dim"), Text(fmt_diff(f.diff, f.low, f.high))))
        r = c.rouge_l_diff
        rows.append((Text("  ROUGE-L   ", style="dim"), Text(fmt_diff(r.diff, r.low, r.high))))
        blocks += [head, hanging(rows)]
    if not comparisons:
        blocks.append(Text("no paired comparison (needs references)", style="dim"))
    else:
        blocks.append(Text("95% paired bootstrap intervals (items resampled)", style="dim"))
    return Group(*blocks)


def p_is(p: float | None) -> str:
    """``p = 0.049`` / ``p < 0.001``."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def vote_words(row: DrillRow) -> str:
    if row.preferred is not None:
        return f"→ {row.preferred}"
    return CHOICE_WORDS.get(row.choice, row.choice)


# ---------------------------------------------------------------------- results screen
class ResultsScreen(Screen[None]):
    """The statistics of an unblinded session, beside the automatic metrics on the same items."""

    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (110, "-wide")]
    BINDINGS: ClassVar = [
        Binding("enter,v", "drill(False)", "Drill-down per item", id="results.drill"),
        Binding("a", "drill(True)", "Disagreements (human vs metric)", id="results.disagree"),
        Binding("w", "worst", "Worst items", id="results.worst"),
        Binding("e", "export", "Export votes…", id="results.export"),
        Binding("d", "train_dpo", "Train DPO on these votes", id="results.dpo", show=False),
        Binding("q,escape", "back", "Back", id="results.back"),
    ]

    def __init__(self, session: BlindSession) -> None:
        super().__init__()
        self.session = session
        self.results: SessionResults | None = None
        self.last_export: Path | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield Static(id="res-title")
        with Horizontal(id="res-body"):
            with VerticalScroll(id="res-human"):
                yield Static(Text("computing…", style="dim"), id="res-pairs", classes="res-panel")
                yield Static(id="res-quality", classes="res-panel")
                yield Static(id="res-power", classes="res-panel")
                yield Static(id="res-bt", classes="res-panel")
            with VerticalScroll(id="res-auto"):
                yield Static(id="res-metrics", classes="res-panel")
                yield Static(id="res-compare", classes="res-panel")
        yield Static(id="res-export")
        yield Static(self._legend(), id="res-keys")
        yield KeyFooter()

    @staticmethod
    def _legend() -> Text:
        text = Text()
        for key, label in (("Enter", "drill-down"), ("a", "disagreements"), ("w", "worst items"), ("e", "export"),
                           ("q", "back")):
            text.append(f" {key} ", style="bold reverse")
            text.append(f" {label}   ")
        return text

    def on_mount(self) -> None:
        self.title = "Blind A/B results"
        self.sub_title = self.session.plan.name
        titles = {"#res-pairs": "Human preference", "#res-quality": "Rating quality",
                  "#res-power": "Votes still needed for 80% power (α = 0.05)", "#res-bt": "Bradley–Terry",
                  "#res-metrics": "Automatic metrics on the same items", "#res-compare": "Paired comparison"}
        for wid, title in titles.items():
            self.query_one(wid).border_title = title
        self.query_one("#res-bt").display = len(self.session.plan.systems) >= 3
        self.compute()

    @work(thread=True, exclusive=True, group="results")
    def compute(self) -> None:
        try:
            res = self.session.results()
        except (SessionError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        self.app.call_from_thread(self.show, res)

    def show(self, res: SessionResults) -> None:
        self.results = res
        plan = self.session.plan
        title = Text()
        title.append(one_line_mid(plan.name, 50), style="bold")
        title.append(f"  ·  unblinded by {self.session.rater}  ·  {len(res.systems)} systems  ·  "
                     f"{len(res.raters)} rater(s)  ·  {res.n_items} items  ·  {res.n_votes} votes", style="dim")
        self.query_one("#res-title", Static).update(title)
        self.query_one("#res-pairs", Static).update(pair_table(res))
        self.query_one("#res-quality", Static).update(quality_table(res))
        self.query_one("#res-power", Static).update(power_table(res))
        self.query_one("#res-bt", Static).update(bt_table(res))
        self.query_one("#res-metrics", Static).update(metrics_panel(res.metrics))
        self.query_one("#res-compare", Static).update(comparisons_text(res.metric_comparisons))

    def action_drill(self, disagreements: bool) -> None:
        self.app.push_screen(DrillScreen(self.session, disagreements_only=disagreements))

    def action_worst(self) -> None:
        others = [s for s in self.session.plan.systems if s != self.session.plan.base_system]
        by_metric: dict[str, list[WorstRow]] = {}
        for metric in M.WORST_METRICS:
            rows = [(system, item_id, score) for system in [*others, self.session.plan.base_system]
                    for item_id, score in self.session.worst_items(system, metric, k=10)]
            if rows:  # a metric that applies to no item (JSON validity on labels) is not offered
                by_metric[metric] = rows
        if not by_metric:
            self.notify("No automatic scores: the items have no reference answers.", severity="warning")
            return

        def open_item(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self.app.push_screen(DrillScreen(self.session, item_id=choice[1]))

        self.app.push_screen(WorstItemsScreen(by_metric), open_item)

    def action_export(self) -> None:
        def chosen(fmt: str | None) -> None:
            if fmt is None:
                return
            path = self.session.directory / "exports" / f"{self.session.rater}-{EXPORT_FILES[fmt]}"
            try:
                n = self.session.export(path, fmt)
            except (SessionError, OSError) as exc:
                self.notify(str(exc), severity="error", timeout=10)
                return
            self.last_export = path
            line = Text(f"wrote {n} row(s) to ", style="dim")
            line.append(str(path))
            self.query_one("#res-export", Static).update(line)
            self.notify(f"Exported {n} row(s) as {fmt.upper()}.", timeout=4)

        question = ("Export this session's votes (every rater).\nCSV and JSONL: one row per vote. "
                    "DPO pairs: prompt / chosen / rejected rows for preference tuning (majority of decisive votes).")
        self.app.push_screen(ChoiceScreen(question, [("c", "CSV", "csv"), ("j", "JSONL", "jsonl"),
                                                     ("p", "DPO pairs", "dpo")]), chosen)

    def action_train_dpo(self) -> None:
        """Export the voted pairs and open the Train form with a DPO run from the rated fine-tune (F5 starts it)."""
        self.notify("Preparing a DPO run from these votes…", timeout=3)
        self._prepare_dpo()

    @work(thread=True, exclusive=True, group="results-dpo")
    def _prepare_dpo(self) -> None:
        from ftui.evaluate.from_votes import VotesError, dpo_run_from_votes

        try:
            found = dpo_run_from_votes(self.session)
        except (VotesError, SessionError, OSError) as exc:
            self.app.call_from_thread(self.notify, Text(one_line(str(exc), 300)), severity="warning", timeout=10)
            return
        self.app.call_from_thread(self._open_train, found)

    async def _open_train(self, found) -> None:  # noqa: ANN001 - a from_votes.VotesRun
        from dataclasses import asdict

        await self.app.switch_mode("train")
        screen = self.app.screen
        if hasattr(screen, "prefill"):
            screen.prefill(asdict(found.config), found.describe())

    def action_back(self) -> None:
        self.session.close()
        self.dismiss(None)


# ---------------------------------------------------------------------- worst items
class WorstItemsScreen(ModalScreen[tuple[str, str] | None]):
    """Lowest-scoring items per system for one metric at a time (``m`` cycles the metrics);
    Enter opens one in the drill-down."""

    BINDINGS: ClassVar = [
        Binding("m", "cycle_metric", "Next metric", id="worst.metric"),
        Binding("escape,q", "close", "Close", id="worst.close"),
    ]

    def __init__(self, rows_by_metric: Mapping[str, list[WorstRow]], metric: str | None = None) -> None:
        super().__init__()
        self.rows_by_metric = dict(rows_by_metric)
        self.metrics = list(self.rows_by_metric)
        self.metric = metric if metric in self.rows_by_metric else self.metrics[0]

    @property
    def rows(self) -> list[WorstRow]:
        return self.rows_by_metric[self.metric]

    def compose(self) -> ComposeResult:
        with Vertical(id="worst-box"):
            yield Static(id="worst-title")
            yield DataTable(id="worst-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="worst-keys")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("system", "item", "score")
        self.show()
        table.focus()

    def show(self) -> None:
        words = M.WORST_METRICS[self.metric]
        self.query_one("#worst-title", Static).update(Text(f"Worst items — lowest {words}", style="bold"))
        keys = Text()
        keys.append("m", style="bold")
        keys.append(f" metric: {words} ({self.metrics.index(self.metric) + 1} of {len(self.metrics)})", style="dim")
        keys.append(" · Enter open in drill-down · Esc close", style="dim")
        self.query_one("#worst-keys", Static).update(keys)
        table = self.query_one(DataTable)
        table.clear()
        for i, (system, item_id, score) in enumerate(self.rows):
            table.add_row(one_line_mid(system, 30), one_line(item_id, 40), f"{score:.3f}", key=str(i))
        table.move_cursor(row=0)

    def action_cycle_metric(self) -> None:
        self.metric = self.metrics[(self.metrics.index(self.metric) + 1) % len(self.metrics)]
        self.show()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        system, item_id, _ = self.rows[int(event.row_key.value or 0)]
        self.dismiss((system, item_id))

    def action_close(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------- drill-down
class DrillScreen(Screen[None]):
    """Each rated pair with both outputs unblinded, the vote, the note and per-item metrics."""

    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (100, "-wide")]
    BINDINGS: ClassVar = [
        Binding("a", "toggle_filter", "Only disagreements on/off", id="drill.filter"),
        Binding("q,escape", "back", "Back to results", id="drill.back"),
    ]

    def __init__(self, session: BlindSession, disagreements_only: bool = False, item_id: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.disagreements_only = disagreements_only
        self.item_id = item_id
        self.rows: list[DrillRow] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield Static(id="drill-title")
        yield DataTable(id="drill-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="drill-detail"):
            yield Static(id="drill-prompt")
            with Horizontal(id="drill-outputs"):
                yield Static(id="drill-left", classes="drill-out")
                yield Static(id="drill-right", classes="drill-out")
            yield Static(id="drill-vote")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Drill-down"
        self.sub_title = self.session.plan.name
        table = self.query_one(DataTable)
        table.add_columns("item", "rater", "vote", "left", "right", "metric L/R", "!", "note")
        self.reload()
        table.focus()

    def reload(self) -> None:
        try:
            self.rows = self.session.drilldown(disagreements_only=self.disagreements_only, item_id=self.item_id)
        except (SessionError, OSError) as exc:
            self.notify(str(exc), severity="error")
            self.rows = []
        table = self.query_one(DataTable)
        table.clear()
        for i, r in enumerate(self.rows):
            sl, sr = r.scores.get(r.system_left), r.scores.get(r.system_right)
            metric = "–" if sl is None or sr is None else f"{sl.primary:.2f} / {sr.primary:.2f}"
            table.add_row(one_line(r.item_id, 24), one_line(r.rater, 12), one_line(vote_words(r), 28),
                          one_line_mid(r.system_left, 18), one_line_mid(r.system_right, 18), metric,
                          "⚠" if r.disagreement else "", one_line(r.note, 40), key=str(i))
        what = f"item {self.item_id}" if self.item_id else "every rated pair"
        title = Text(f"{len(self.rows)} row(s) · {one_line(what, 40)}", style="bold")
        title.append("  ·  filter: ", style="dim")
        title.append("only human-vs-metric disagreements" if self.disagreements_only else "none",
                     style="bold" if self.disagreements_only else "")
        title.append("  (a toggles)", style="dim")
        self.query_one("#drill-title", Static).update(title)
        self.show_row(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_row(int(event.row_key.value))

    def show_row(self, index: int) -> None:
        prompt = self.query_one("#drill-prompt", Static)
        if not self.rows:
            prompt.update(Text("No rows. " + ("No vote disagrees with the metrics — a toggles the filter."
                                              if self.disagreements_only else "Nothing rated yet."), style="dim"))
            for wid in ("#drill-left", "#drill-right", "#drill-vote"):
                self.query_one(wid, Static).update("")
            return
        r = self.rows[min(index, len(self.rows) - 1)]
        text = Text()
        for m in r.messages:
            if m.get("content"):
                text.append(f"{m.get('role', '')}: ", style="bold dim")
                text.append_text(shown(m["content"]))
                text.append("\n")
        text.append("reference: ", style="bold")
        text.append_text(shown(r.reference) if r.reference is not None else Text("none", style="dim"))
        prompt.update(text)
        for wid, side, system, output in (("#drill-left", "left", r.system_left, r.output_left),
                                          ("#drill-right", "right", r.system_right, r.output_right)):
            widget = self.query_one(wid, Static)
            widget.border_title = f"{side}: {one_line_mid(system, 40)}"
            chosen = r.preferred == system
            widget.border_subtitle = "preferred" if chosen else ""
            widget.set_class(chosen, "-chosen")
            body = shown(output)
            sc = r.scores.get(system)
            if sc is not None:
                body.append("\n\n")
                body.append(_scores_line(sc), style="dim")
            widget.update(body)
        vote = Text("vote: ", style="bold")
        vote.append(vote_words(r))
        vote.append(f"   by {r.rater} · {r.dwell_ms / 1000:.1f} s" + (" · fast" if r.fast else ""), style="dim")
        if r.flags:
            vote.append("   ⚑ " + ", ".join(one_line(f, 20) for f in r.flags))
        if r.note:
            vote.append("\nnote: ", style="bold")
            vote.append_text(shown(r.note))
        if r.disagreement:
            vote.append("\n⚠ ", style="bold")
            vote.append(one_line(r.disagreement, 200))
        self.query_one("#drill-vote", Static).update(vote)

    def action_toggle_filter(self) -> None:
        self.disagreements_only = not self.disagreements_only
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)


def _scores_line(sc: M.ItemScores) -> str:
    parts = [f"exact {sc.exact:.0f}", f"ROUGE-L {sc.rouge_l:.2f}", f"{sc.length_words} words"]
    if sc.label is not None:
        parts.insert(0, f"label {sc.label}")
    if sc.json_parse is not None:
        parts += [f"JSON {sc.json_parse:.0f}", f"schema {sc.json_valid or 0:.0f}"]
    return " · ".join(parts)

