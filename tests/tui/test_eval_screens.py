"""The Evaluate screens driven with a Pilot: blind rating end to end (vote, tie, both-bad, skip,
undo, quit, resume, finish, unblind) with the shown statistics checked against values computed
by hand here; literal markup/ANSI; the input lock; stacked panes when narrow; bad input."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from ftui.evaluate.ab import BlindSession
from ftui.evaluate.items import EvalItem
from ftui.tui.app import FtuiApp
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.eval_common import TextPrompt
from ftui.tui.screens.eval_rate import RateScreen
from ftui.tui.screens.eval_results import DrillScreen, ResultsScreen
from ftui.tui.screens.evaluate import EvaluateScreen
from ftui.tui.screenshots.scenario import settle_workers

SIZE = (120, 40)
LABELS = ["billing", "technical", "account", "other"]
BASE, TUNED = "sys-alpha", "sys-omega"  # names that never occur in an output


def _text(widget: Static) -> str:
    console = Console(width=300, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get()


def _items_outputs(n: int = 22) -> tuple[list[EvalItem], dict[str, dict[str, str]]]:
    """Label items. TUNED is right except on items 5, 11, 17; BASE is right on every third item and
    on 5 and 11 (with a trailing '.', so only items 0 and 21 are identical outputs)."""
    items, base, tuned = [], {}, {}
    for i in range(n):
        ref = LABELS[i % 4]
        item_id = f"t{i:02d}"
        items.append(EvalItem(item_id, ({"role": "user", "content": f"ticket number {i}"},), ref))
        tuned[item_id] = ref if i % 6 != 5 else LABELS[(i + 1) % 4]
        base_right = i % 3 == 0 or i in (5, 11)
        base[item_id] = (ref if i in (0, n - 1) else f"{ref}.") if base_right else f"maybe {LABELS[(i + 2) % 4]}"
    return items, {BASE: base, TUNED: tuned}


@pytest.fixture
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "sessions"
    monkeypatch.setenv("FTUI_SESSIONS_DIR", str(root))
    monkeypatch.setenv("USER", "ana")
    monkeypatch.setattr(EvaluateScreen, "rate_lock_s", 0.0)
    return root


def _create(root: Path, items, outputs, name: str = "s1") -> Path:  # noqa: ANN001
    BlindSession.create(root / name, items, outputs, "ana", seed=3, base_system=BASE).close()
    return root / name


async def _generate(pilot) -> None:  # noqa: ANN001
    """F5 on the Generate screen, then its confirmation's own key (a form error refuses without asking)."""
    await pilot.press("f5")
    await pilot.pause()
    if isinstance(pilot.app.screen, ChoiceScreen):
        await pilot.press("y")


async def _settle(pilot) -> None:  # noqa: ANN001
    await pilot.pause()
    await settle_workers(pilot.app)
    await pilot.pause()


async def _open_as_default_rater(pilot) -> RateScreen:  # noqa: ANN001
    await _settle(pilot)
    await pilot.press("enter")  # the selected session -> rater prompt
    await pilot.pause()
    assert isinstance(pilot.app.screen, TextPrompt)
    assert pilot.app.screen.query_one(Input).value == "ana"  # default $USER
    await pilot.press("enter")
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RateScreen)
    return screen


# the verdicts of the 20 shown pairs, in rating order: T = TUNED better, B = BASE better
SCRIPT = ["T", "T", "B", "tie", "T", "bb", "T", "skip", "T", "B",
          "T", "T", "tie", "T", "B", "bb", "T", "T", "skip", "T"]


def _key(screen: RateScreen, verdict: str, k: int) -> str:
    task = screen.session.tasks[screen.pair.task]
    if verdict in ("T", "B"):
        wanted = TUNED if verdict == "T" else BASE
        return "1" if task.left == wanted else "2"
    return {"tie": "3" if k % 2 else "t", "bb": "4" if k % 2 else "b", "skip": "s"}[verdict]


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def _two_sided_binomial(k: int, n: int) -> float:
    tail = sum(math.comb(n, j) for j in range(max(k, n - k), n + 1)) / 2**n
    return min(1.0, 2 * tail)


async def test_rate_twenty_pairs_quit_resume_unblind_and_statistics_match_hand_computation(sessions: Path) -> None:
    items, outputs = _items_outputs()
    path = _create(sessions, items, outputs)
    app = FtuiApp(start_mode="evaluate")
    pressed: list[tuple[str, str, str]] = []  # (verdict, key, item id) as finally voted
    seen_text: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_as_default_rater(pilot)
        assert _text(screen.query_one("#rate-status", Static)).startswith("item ")
        k = 0
        while k < 10:
            verdict = SCRIPT[k]
            if k == 4:  # a wrong vote first, withdrawn with u, then the real one
                first = screen.pair
                await pilot.press("2" if _key(screen, "T", k) == "1" else "1")
                assert screen.pair.task != first.task
                await pilot.press("u")
                assert screen.pair.task == first.task  # undo reopened the previous pair
            if k == 8:  # Backspace undoes too
                await pilot.press("s", "backspace")
            seen_text += [_text(screen.query_one(w, Static)) for w in ("#out-1", "#out-2", "#rate-status")]
            key = _key(screen, verdict, k)
            pressed.append((verdict, key, screen.pair.item_id))
            await pilot.press(key)
            k += 1
        queue_before = [t.to_dict() for t in screen.session.tasks]
        status = _text(screen.query_one("#rate-status", Static))
        assert "decisive" in status and "ana" in status
        await pilot.press("q")  # save and quit -> home
        await _settle(pilot)
        assert isinstance(app.screen, EvaluateScreen)

        screen = await _open_as_default_rater(pilot)  # resume
        assert [t.to_dict() for t in screen.session.tasks] == queue_before  # same order, same sides
        rated = {item_id for _, _, item_id in pressed}
        unrated_sides = []
        while screen.pair is not None:
            assert screen.pair.item_id not in rated
            task = screen.session.tasks[screen.pair.task]
            assert screen.pair.output_left == outputs[task.left][task.item_id]  # the side stored in the queue
            unrated_sides.append(task.item_id)
            seen_text += [_text(screen.query_one(w, Static)) for w in ("#out-1", "#out-2", "#rate-status")]
            key = _key(screen, SCRIPT[k], k)
            pressed.append((SCRIPT[k], key, screen.pair.item_id))
            await pilot.press(key)
            k += 1
        assert k == 20 and len(unrated_sides) == 10
        assert screen.query_one("#rate-done").display
        # blind: no system name and no score appeared while rating
        assert not any(BASE in t or TUNED in t for t in seen_text)
        assert not any("win" in t.lower() for t in seen_text)

        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "unblinding ends blind rating for this session" in app.screen.question.lower()
        await pilot.press("y")
        await _settle(pilot)
        results = app.screen
        assert isinstance(results, ResultsScreen)
        assert results.results is not None

        # ---- the numbers, by hand
        wins = sum(1 for v, _, _ in pressed if v == "T")
        losses = sum(1 for v, _, _ in pressed if v == "B")
        ties = sum(1 for v, _, _ in pressed if v == "tie")
        bb = sum(1 for v, _, _ in pressed if v == "bb")
        skipped = sum(1 for v, _, _ in pressed if v == "skip")
        assert (wins, losses, ties, bb, skipped) == (11, 3, 2, 2, 2)
        pairs = _text(results.query_one("#res-pairs", Static))
        flat = " ".join(pairs.split())
        assert f"W {wins} · L {losses} · T {ties} · both bad {bb}" in flat
        assert f"skipped {skipped} · identical 2" in flat
        lo, hi = _wilson(wins, wins + losses)
        assert f"{wins / (wins + losses):.2f} [{lo:.2f}, {hi:.2f}]" in pairs  # 0.79 [0.52, 0.92]
        assert f"p = {_two_sided_binomial(wins, wins + losses):.3f}" in pairs  # exact sign test
        assert f"{(wins + ties / 2) / (wins + losses + ties):.2f}" in pairs  # tie-as-half 0.75
        rated_n = wins + losses + ties + bb
        lo, hi = _wilson(bb, rated_n)
        assert f"{bb / rated_n:.2f} [{lo:.2f}, {hi:.2f}]" in pairs

        quality = _text(results.query_one("#res-quality", Static))
        left = sum(1 for v, key, _ in pressed if v in ("T", "B") and key == "1")
        lo, hi = _wilson(left, wins + losses)
        assert f"{left / (wins + losses):.2f} [{lo:.2f}, {hi:.2f}]" in quality
        assert "needs two raters" in quality
        power = _text(results.query_one("#res-power", Static))
        assert "210" in power and str(210 - (wins + losses)) in power

        # automatic metrics on the same 22 items: BASE right on 10, TUNED on 19; McNemar on 2 vs 11 discordant
        metrics = _text(results.query_one("#res-metrics", Static))
        assert f"{10 / 22:.3f}" in metrics and f"{19 / 22:.3f}" in metrics
        compare = _text(results.query_one("#res-compare", Static))
        assert f"p = {_two_sided_binomial(2, 13):.3f}" in compare  # 0.022
        assert f"{19 / 22 - 10 / 22:+.3f}" in compare
        assert "2 only sys-alpha right, 11 only" in " ".join(compare.split())

        # ---- drill-down, filtered to human-vs-metric disagreements
        correct = {BASE: {it.id for i, it in enumerate(items) if i % 3 == 0 or i in (5, 11)},
                   TUNED: {it.id for i, it in enumerate(items) if i % 6 != 5}}

        def disagrees(verdict: str, item_id: str) -> bool:
            if verdict in ("T", "B"):
                chosen, other = (TUNED, BASE) if verdict == "T" else (BASE, TUNED)
                return item_id not in correct[chosen] and item_id in correct[other]
            if verdict == "tie":
                return (item_id in correct[BASE]) != (item_id in correct[TUNED])
            if verdict == "bb":
                return item_id in correct[BASE] or item_id in correct[TUNED]
            return False

        expected = sum(1 for v, _, item_id in pressed if disagrees(v, item_id))
        await pilot.press("a")
        await pilot.pause()
        drill = app.screen
        assert isinstance(drill, DrillScreen)
        assert len(drill.rows) == expected and all(r.disagreement for r in drill.rows)
        if drill.rows:
            left_box = _text(drill.query_one("#drill-left", Static))
            assert drill.rows[0].output_left.split()[0] in left_box
            assert drill.query_one("#drill-left").border_title.startswith("left: sys-")  # unblinded
        await pilot.press("a")  # filter off: every vote of the session
        assert len(drill.rows) == 22
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is results

        # ---- export with the path shown
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert results.last_export is not None and results.last_export.is_file()
        with results.last_export.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 22 and sum(1 for r in rows if r["choice"] == "identical") == 2
        assert str(results.last_export) in _text(results.query_one("#res-export", Static)).replace("\n", "")
    assert (path / "raters" / "ana" / "votes.jsonl").is_file()


async def test_markup_and_ansi_in_outputs_are_shown_literally(tmp_path: Path) -> None:
    evil = "[bold]loud[/bold] [link=https://x.example]click[/link] \x1b[31mred\x1b[0m [/"
    items = [EvalItem("a", ({"role": "user", "content": "[i]prompt[/i] \x1b[2J"},), "ok")]
    outputs = {"one": {"a": evil}, "two": {"a": "plain"}}
    session = BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=1)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(RateScreen(session, lock_s=0))
        await pilot.pause()
        screen = app.screen
        panes = _text(screen.query_one("#out-1", Static)) + _text(screen.query_one("#out-2", Static))
        assert "[bold]loud[/bold]" in panes and "[link=https://x.example]click[/link]" in panes
        assert "␛[31mred␛[0m" in panes and "[/" in panes and "\x1b" not in panes
        content = screen.query_one("#out-1" if "loud" in _text(screen.query_one("#out-1", Static)) else "#out-2",
                                   Static).content
        assert not content.spans  # no style smuggled in through markup
        prompt = _text(screen.query_one("#rate-prompt-text", Static))
        assert "[i]prompt[/i]" in prompt and "␛[2J" in prompt
        await pilot.press("d")  # word diff keeps it literal too
        panes = _text(screen.query_one("#out-1", Static)) + _text(screen.query_one("#out-2", Static))
        assert "[bold]loud[/bold]" in panes and "␛[31mred␛[0m" in panes


async def test_input_lock_ignores_an_immediate_second_press(tmp_path: Path) -> None:
    items, outputs = _items_outputs(6)
    session = BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=1)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = RateScreen(session, lock_s=60)
        await app.push_screen(screen)
        await pilot.pause()
        await pilot.press("1")  # too soon after the pair appeared
        assert session.progress().decisive == 0 and screen.ignored_keys == 1
        screen._ready_at = 0.0  # the rater has looked long enough
        first = screen.pair.task
        await pilot.press("1", "1")  # a double press: the second lands on the next pair's lock
        assert session.progress().decisive == 1 and screen.ignored_keys == 2
        assert screen.pair.task != first
        assert session.votes()[-1].task == first


async def test_undo_double_press_withdraws_one_vote_and_keeps_its_note(tmp_path: Path) -> None:
    items, outputs = _items_outputs(6)
    session = BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=1)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = RateScreen(session, lock_s=60)
        await app.push_screen(screen)
        await pilot.pause()
        screen._ready_at = 0.0
        await pilot.press("1")
        screen._ready_at = 0.0
        screen.note = "second looks invented"
        second = screen.pair.task
        await pilot.press("2")
        assert len([v for v in session.votes() if v.choice != "identical"]) == 2
        screen._ready_at = 0.0  # the rater has looked long enough at the third pair
        ignored = screen.ignored_keys
        await pilot.press("u", "u")  # a double press over SSH: the second lands on the reopened pair's lock
        await pilot.pause()
        assert len([v for v in session.votes() if v.choice != "identical"]) == 1
        assert screen.ignored_keys == ignored + 1
        assert screen.pair.task == second and screen.note == "second looks invented"
        log = (tmp_path / "s" / "raters" / "ana" / "votes.jsonl").read_text()
        assert log.count('"type":"undo"') == 1


async def test_panes_side_by_side_when_wide_and_stacked_when_narrow(tmp_path: Path) -> None:
    items, outputs = _items_outputs(4)
    session = BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=1)
    for size, stacked in (((120, 40), False), ((80, 24), True)):
        app = FtuiApp(start_mode="evaluate")
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await app.push_screen(RateScreen(BlindSession(session.directory, "ana"), lock_s=0))
            await pilot.pause()
            one, two = app.screen.query_one("#pane-1").region, app.screen.query_one("#pane-2").region
            assert one.width == two.width  # the same width, so the same wrapping
            if stacked:
                assert one.x == two.x and two.y >= one.bottom
            else:
                assert one.y == two.y and two.x >= one.right
            assert one.height >= 3 and two.height >= 3


async def test_note_flag_and_reference(tmp_path: Path) -> None:
    items, outputs = _items_outputs(6)
    session = BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=1)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = RateScreen(session, lock_s=0)
        await app.push_screen(screen)
        await pilot.pause()
        assert screen.focused is not None and screen.focused.id == "pane-1"
        await pilot.press("tab")
        assert screen.focused.id == "pane-2"
        await pilot.press("tab")
        assert screen.focused.id == "pane-1"
        await pilot.press("p")
        assert not screen.query_one("#rate-prompt").display
        await pilot.press("p")
        assert screen.query_one("#rate-prompt").display
        reference = _text(screen.query_one("#rate-reference", Static))
        assert "hidden" in reference and screen.pair.reference not in reference
        await pilot.press("r")
        assert screen.pair.reference in _text(screen.query_one("#rate-reference", Static))
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"cancel me", "escape")
        await pilot.pause()
        assert screen.note == ""
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"too vague", "enter")
        await pilot.pause()
        await pilot.press("f")
        assert "note" in _text(screen.query_one("#rate-marks", Static))
        await pilot.press("2")
        vote = session.votes()[-1]
        assert vote.note == "too vague" and vote.flags == ("flag",) and vote.choice == "right"
        assert screen.note == "" and not screen.flags  # fresh for the next pair
        assert "hidden" in _text(screen.query_one("#rate-reference", Static))


async def _rater_prompt(pilot) -> TextPrompt:  # noqa: ANN001
    """Enter on the selected session: the rater-name prompt."""
    await _settle(pilot)
    await pilot.press("enter")
    await pilot.pause()
    prompt = pilot.app.screen
    assert isinstance(prompt, TextPrompt)
    return prompt


async def test_bad_rater_name_is_refused_on_screen(sessions: Path) -> None:
    items, outputs = _items_outputs(4)
    _create(sessions, items, outputs)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _rater_prompt(pilot)
        prompt.query_one(Input).value = "../etc"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is prompt
        assert "not allowed" in _text(prompt.query_one("#prompt-error", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, EvaluateScreen)


async def test_results_need_a_confirmed_unblind(sessions: Path) -> None:
    items, outputs = _items_outputs(4)
    path = _create(sessions, items, outputs)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("x")  # results of the selected session
        await pilot.pause()
        await pilot.press("enter")  # rater ana
        await _settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("n")  # keep rating
        await pilot.pause()
        assert isinstance(app.screen, RateScreen)
        assert not BlindSession(path, "ana").is_unblinded


async def test_empty_sessions_list_explains_what_to_do(sessions: Path) -> None:
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert "No rating sessions yet" in _text(app.screen.query_one("#session-hint", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EvaluateScreen)  # a warning, not a crash


class _FakeGenerator:
    """Answers the label of the ticket number in the prompt: the few-shot system always right,
    the base system right on even tickets only."""

    def __init__(self, spec) -> None:  # noqa: ANN001
        self.kind = spec.kind

    def generate_batch(self, conversations, config) -> list[str]:  # noqa: ANN001
        out = []
        for messages in conversations:
            n = int(messages[-1]["content"].split()[-1])
            right = LABELS[n % 4]
            out.append(right if self.kind == "fewshot" or n % 2 == 0 else f"[b]{LABELS[(n + 1) % 4]}[/b]")
        return out


def _assert_no_named_metrics(screen) -> None:  # noqa: ANN001
    """No widget of the screen shows a metric, a length or an accuracy next to a system's name."""
    import re

    for widget in screen.query(Static):
        text = _text(widget)
        if re.search(r"\d\.\d", text):
            assert not re.search(r"base|fewshot|sys-|accuracy|words|ROUGE|F1|McNemar", text), text
    assert "hidden" in _text(screen.query_one("#gen-metrics", Static))
    assert not _text(screen.query_one("#gen-compare", Static)).strip()
    assert not _text(screen.query_one("#gen-classes", Static)).strip()


def _write_jsonl(path: Path, n: int, start: int = 0) -> Path:
    import json

    rows = [{"messages": [{"role": "user", "content": f"ticket number {i}"},
                          {"role": "assistant", "content": LABELS[i % 4]}]} for i in range(start, start + n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def test_generate_score_compare_then_start_blind_session(sessions: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.tui.screens.eval_generate import GenerateScreen

    monkeypatch.setattr(GenerateScreen, "generator_factory", _FakeGenerator)
    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    train = _write_jsonl(tmp_path / "train.jsonl", 12, start=100)
    test = _write_jsonl(tmp_path / "test.jsonl", 16)
    app = FtuiApp(data_path=train, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        assert isinstance(gen, GenerateScreen)
        await _generate(pilot)  # no test file yet (not the demo workspace)
        await pilot.pause()
        assert "test file" in _text(gen.query_one("#gen-status", Static))
        gen.query_one("#g-test", Input).value = str(test)
        gen.query_one("#g-fewshot", Input).value = "x"
        await _generate(pilot)
        await pilot.pause()
        assert "whole number" in _text(gen.query_one("#gen-status", Static))
        gen.query_one("#g-fewshot", Input).value = "2"
        await _generate(pilot)
        await _settle(pilot)
        assert set(gen.outputs) == {"base", "fewshot:2"} and len(gen.items) == 16
        _assert_no_named_metrics(gen)  # hidden until F7: a blind session may start from here
        await pilot.press("f7")
        await pilot.pause()
        with pytest.raises(AssertionError):  # the check sees metrics once they are shown
            _assert_no_named_metrics(gen)
        metrics = _text(gen.query_one("#gen-metrics", Static))
        assert f"{8 / 16:.3f}" in metrics and f"{16 / 16:.3f}" in metrics
        compare = " ".join(_text(gen.query_one("#gen-compare", Static)).split())
        assert f"p = {_two_sided_binomial(0, 8):.3f}" in compare and "+0.500" in compare
        assert "unparseable" in _text(gen.query_one("#gen-classes", Static))
        await pilot.press("f6")  # metrics seen: a session this rater rates would not be blind
        await pilot.pause()
        assert app.screen is gen and "would not be blind" in " ".join(n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        assert isinstance(gen, GenerateScreen)
        gen.query_one("#g-test", Input).value = str(test)
        gen.query_one("#g-fewshot", Input).value = "2"
        await _generate(pilot)  # a rerun reuses the cache: same outputs
        await _settle(pilot)
        assert len(gen.outputs["base"]) == 16
        _assert_no_named_metrics(gen)
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("enter")
        await _settle(pilot)
        rate = app.screen
        assert isinstance(rate, RateScreen)
        assert rate.session.plan.systems == ["base", "fewshot:2"]
        shown_text = _text(rate.query_one("#out-1", Static)) + _text(rate.query_one("#out-2", Static))
        assert "fewshot" not in shown_text
    assert len(list(sessions.iterdir())) == 1


async def test_a_cancelled_generation_cannot_start_a_session(sessions: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.tui.screens.eval_generate import GenerateScreen

    screens: list[GenerateScreen] = []

    class CancelsOnSecondSystem(_FakeGenerator):
        def generate_batch(self, conversations, config) -> list[str]:  # noqa: ANN001
            if self.kind == "fewshot":
                screens[0].cancel.set()  # Esc pressed while the second system generates
            return super().generate_batch(conversations, config)

    monkeypatch.setattr(GenerateScreen, "generator_factory", CancelsOnSecondSystem)
    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    train = _write_jsonl(tmp_path / "train.jsonl", 12, start=100)
    test = _write_jsonl(tmp_path / "test.jsonl", 40)
    app = FtuiApp(data_path=train, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        screens.append(gen)
        gen.query_one("#g-test", Input).value = str(test)
        gen.query_one("#g-fewshot", Input).value = "2"
        await _generate(pilot)
        await _settle(pilot)
        assert "cancelled" in _text(gen.query_one("#gen-status", Static))
        assert len(gen.outputs["fewshot:2"]) < 40 and not gen.complete
        await pilot.press("f6")
        await pilot.pause()
        assert app.screen is gen  # no rater prompt
        assert "was cancelled" in " ".join(n.message for n in app._notifications)
    assert not sessions.exists() or not list(sessions.iterdir())


async def test_help_lists_rating_keys_and_worst_items_open_the_drilldown(sessions: Path) -> None:
    from ftui.tui.screens.eval_results import WorstItemsScreen
    from ftui.tui.screens.help import HelpScreen

    items, outputs = _items_outputs(8)
    path = _create(sessions, items, outputs)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_as_default_rater(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = {row[1] for row in app.screen.rows}
        assert {"Left better", "Right better", "Tie", "Both bad", "Skip this pair", "Word diff on/off",
                "Save and quit"} <= keys
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        while screen.pair is not None:
            await pilot.press("1")
        screen.session.unblind()
        await pilot.press("q")
        await _settle(pilot)
        await pilot.press("x", "enter")  # results: already unblinded, so no question
        await _settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        await pilot.press("w")
        await pilot.pause()
        worst = app.screen
        assert isinstance(worst, WorstItemsScreen)
        assert worst.metric == "primary" and "primary metric" in _text(worst.query_one("#worst-title", Static))
        system, item_id, score = worst.rows[0]
        assert score == 0.0 and system == TUNED  # the fine-tuned system's misses come first
        # m cycles the metrics that apply (labels: no JSON validity), shown in the title and the key line
        assert worst.metrics == ["primary", "exact", "rouge_l"]
        session = screen.session
        for metric, words in (("exact", "exact match"), ("rouge_l", "ROUGE-L F1")):
            await pilot.press("m")
            await pilot.pause()
            assert worst.metric == metric
            assert f"lowest {words}" in _text(worst.query_one("#worst-title", Static))
            keys = _text(worst.query_one("#worst-keys", Static))
            assert f"metric: {words} ({worst.metrics.index(metric) + 1} of 3)" in keys
            by_hand = [(s, i, v) for s in (TUNED, BASE) for i, v in session.worst_items(s, metric, k=10)]
            assert worst.rows == by_hand and worst.query_one("#worst-table").row_count == len(by_hand)
        await pilot.press("m")
        await pilot.pause()
        assert worst.metric == "primary"  # wrapped around
        system, item_id, score = worst.rows[0]
        await pilot.press("enter")
        await pilot.pause()
        drill = app.screen
        assert isinstance(drill, DrillScreen)
        assert drill.rows and all(r.item_id == item_id for r in drill.rows)
    assert BlindSession(path, "ana").is_unblinded


async def test_break_suggested_after_25_pairs_and_fast_votes_are_marked(tmp_path: Path) -> None:
    items = [EvalItem(f"i{i}", ({"role": "user", "content": f"q{i}"},), None) for i in range(27)]
    outputs = {"one": {it.id: f"answer one {it.id}" for it in items}, "two": {it.id: f"answer two {it.id}" for it in items}}
    # a clock that stands still: every dwell is 0 ms, however slow the test machine
    session = BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=1, clock=lambda: 1_800_000_000.0)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(RateScreen(session, lock_s=0))
        await pilot.pause()
        for _ in range(24):
            await pilot.press("1")
        assert not any(n.title == "Break?" for n in app._notifications)
        await pilot.press("2")
        assert any(n.title == "Break?" for n in app._notifications)
        assert all(v.fast for v in session.votes())  # instant votes are marked, not refused
        assert any("faster than" in n.message for n in app._notifications)
        assert "no reference" in _text(app.screen.query_one("#rate-reference", Static))


async def test_session_open_elsewhere_is_read_only_with_a_message(sessions: Path) -> None:
    items, outputs = _items_outputs(6)
    path = _create(sessions, items, outputs)
    holder = BlindSession(path, "ana")  # the same rater rating in another window
    try:
        app = FtuiApp(start_mode="evaluate")
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open_as_default_rater(pilot)
            assert "read-only" in _text(screen.query_one("#rate-marks", Static))
            await pilot.press("1")
            assert screen.session.progress().decisive == 0
            assert any(n.severity == "error" and "elsewhere" in n.message for n in app._notifications)
    finally:
        holder.close()


async def test_three_systems_two_raters_show_bradley_terry_and_kappa(sessions: Path) -> None:
    from collections import Counter

    items = [EvalItem(f"i{i}", ({"role": "user", "content": f"q{i}"},), None) for i in range(6)]
    outputs = {s: {it.id: f"{s} says {it.id}" for it in items} for s in ("base", "mid", "top")}
    path = sessions / "three"
    BlindSession.create(path, items, outputs, "ana", seed=5, base_system="base").close()
    cats: dict[str, dict[tuple, str]] = {}
    for rater, key in (("ana", "1"), ("bo", "2")):
        # each rater always presses the same key: categories then depend only on their sides
        with BlindSession(path, rater) as s:
            while (pair := s.current()) is not None:
                t = s.tasks[pair.task]
                chosen = t.left if key == "1" else t.right
                cats.setdefault(rater, {})[(t.item_id, t.pair)] = "a" if chosen == t.pair[0] else "b"
                s.vote("left" if key == "1" else "right")
    common = sorted(set(cats["ana"]) & set(cats["bo"]))
    a = [cats["ana"][k] for k in common]
    b = [cats["bo"][k] for k in common]
    n = len(common)
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[c] / n * cb[c] / n for c in ("a", "b", "tie", "both_bad"))
    kappa = (p_o - p_e) / (1 - p_e)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        app.screen.open_session(path, "ana")
        await _settle(pilot)
        await pilot.press("x", "y")
        await _settle(pilot)
        results = app.screen
        assert isinstance(results, ResultsScreen)
        bt = results.query_one("#res-bt", Static)
        assert bt.display
        bt_text = _text(bt)
        assert all(s in bt_text for s in ("base", "mid", "top")) and "+0.00" in bt_text
        quality = _text(results.query_one("#res-quality", Static))
        assert f"{kappa:.2f}" in quality and f"on {n} shared pairs" in quality
        assert len(_text(results.query_one("#res-pairs", Static)).split("pair ")) - 1 == 3  # three pairs


async def test_generate_offers_finished_runs_as_adapter_systems(sessions: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    from types import SimpleNamespace

    from ftui.tui.screens.eval_generate import GenerateScreen

    runs = tmp_path / "runs"
    adapter = runs / "20260101-lora" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "fake-model"}))
    monkeypatch.setenv("FTUI_RUNS_DIR", str(runs))
    monkeypatch.setattr(GenerateScreen, "_finished_runs",
                        staticmethod(lambda: [SimpleNamespace(run_id="20260101-lora", method="lora")]))
    seen: list[str] = []

    def factory(spec):  # noqa: ANN001, ANN202
        seen.append(spec.kind)
        return _FakeGenerator(SimpleNamespace(kind="fewshot" if spec.kind == "adapter" else spec.kind))

    monkeypatch.setattr(GenerateScreen, "generator_factory", factory)
    test = _write_jsonl(tmp_path / "test.jsonl", 8)
    app = FtuiApp(data_path=test, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        gen.query_one("#g-test", Input).value = str(test)
        specs, _, _, _ = gen.read_form()
        assert [s.name for s in specs] == ["base", "run:20260101-lora"]
        assert specs[1].adapter == str(adapter) and specs[1].model == "fake-model"
        await _generate(pilot)
        await _settle(pilot)
        assert seen == ["base", "adapter"]
        await pilot.press("f7")
        await pilot.pause()
        assert "run:20260101-lora" in _text(gen.query_one("#gen-metrics", Static))


async def test_generation_failure_is_one_line_on_screen(sessions: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.evaluate.generate import GenerationError
    from ftui.tui.screens.eval_generate import GenerateScreen

    class Broken:
        def __init__(self, spec) -> None:  # noqa: ANN001
            pass

        def generate_batch(self, conversations, config):  # noqa: ANN001, ANN201
            raise GenerationError("cannot load model fake-model: no config.json")

    monkeypatch.setattr(GenerateScreen, "generator_factory", Broken)
    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    test = _write_jsonl(tmp_path / "test.jsonl", 4)
    app = FtuiApp(data_path=test, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        gen.query_one("#g-test", Input).value = str(test)
        await _generate(pilot)
        await _settle(pilot)
        status = _text(gen.query_one("#gen-status", Static))
        assert "cannot load model fake-model" in status and "Traceback" not in status
        assert not gen.running and not gen.query_one("#gen-progress").display
        await pilot.press("f6")  # nothing to rate: a warning, no session
        await pilot.pause()
        assert app.screen is gen
    assert not sessions.exists() or not any(sessions.iterdir())


def test_word_diff_marks_only_the_differing_words_the_same_way_on_both_sides() -> None:
    from ftui.tui.screens.eval_common import DIFF_STYLE, word_diff

    left, right = word_diff("refund in 3-5 days [b]", "refund in 7 days [b]")
    assert left.plain == "refund in 3-5 days [b]" and right.plain == "refund in 7 days [b]"

    def marked(text) -> str:  # noqa: ANN001
        return "".join(text.plain[s.start:s.end] for s in text.spans if s.style == DIFF_STYLE)

    assert marked(left) == "3-5" and marked(right) == "7"
    assert {s.style for s in left.spans} == {s.style for s in right.spans} == {DIFF_STYLE}


async def test_rating_header_names_neither_the_session_nor_the_systems(sessions: Path) -> None:
    items, outputs = _items_outputs(4)
    name = f"{BASE}-vs-{TUNED}"  # a user-chosen session name that gives the systems away
    BlindSession.create(sessions / name, items, outputs, "ana", seed=3, base_system=BASE, name=name).close()
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_as_default_rater(pilot)
        header = f"{app.title} {screen.title} {screen.sub_title}"
        assert screen.sub_title == f"session #{screen.session.blind_id}"
        with BlindSession(sessions / name, "bo") as other:  # stable: every rater sees the same id
            assert len(other.blind_id) == 6 and other.blind_id == screen.session.blind_id
        assert not any(word in header for word in (BASE, TUNED, "alpha", "omega", name))
        await pilot.press("i")  # the header's details: the normalisation rules, no system names
        await pilot.pause()
        details = app.screen
        assert isinstance(details, ChoiceScreen)
        assert "same normaliser" in details.question and "repetition loop" in details.question
        assert "### Instruction" in details.question and "[INST]" in _text(details.query(Static).first())
        assert not any(word in details.question for word in (BASE, TUNED, "alpha", "omega", name))
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is screen


async def test_cli_screens_and_session_report_print_the_same_numbers(sessions: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """One scorer: 'ftui eval metrics', the Generate screen, the session report ('ftui eval report')
    and the Results screen show identical intervals for the same outputs (issue #14 point 5)."""
    import argparse

    from ftui.commands import evaluate as cli
    from ftui.evaluate.results import comparison_line, results_text
    from ftui.tui.screens.eval_generate import GenerateScreen

    monkeypatch.setattr(GenerateScreen, "generator_factory", _FakeGenerator)
    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    train = _write_jsonl(tmp_path / "train.jsonl", 12, start=100)
    test = _write_jsonl(tmp_path / "test.jsonl", 16)
    app = FtuiApp(data_path=train, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        assert isinstance(gen, GenerateScreen)
        gen.query_one("#g-test", Input).value = str(test)
        gen.query_one("#g-fewshot", Input).value = "2"
        await _generate(pilot)
        await _settle(pilot)
        await pilot.press("f7")
        await pilot.pause()
        screen_compare = " ".join(_text(gen.query_one("#gen-compare", Static)).split())
        screen_comparisons = [c.to_dict() for c in gen.comparisons]
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    common = ["--system", "base", "--system", "fewshot:2", "--model", "fake-model", "--train", str(train),
              "--test", str(test)]
    args = parser.parse_args(["eval", "session", *common, "--rater", "ana", "--name", "same"])
    assert args.func(args) == 0  # from the outputs the screen cached
    capsys.readouterr()
    directory = sessions / "same"
    session = BlindSession(directory, "ana")
    session.unblind()
    report = session.results()
    session.close()
    assert (report.n_bootstrap, report.bootstrap_seed) == (1000, 0)
    assert [c.to_dict() for c in report.metric_comparisons] == screen_comparisons

    args = parser.parse_args(["eval", "metrics", *common, "--cached-only"])
    assert args.func(args) == 0
    metrics_out = capsys.readouterr().out
    args = parser.parse_args(["eval", "report", str(directory), "--rater", "ana"])
    assert args.func(args) == 0
    report_out = capsys.readouterr().out
    line = comparison_line(report.metric_comparisons[0])
    assert line in metrics_out and line in report_out and line in results_text(report)

    app = FtuiApp(data_path=train, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        app.screen.show_results(BlindSession(directory, "ana"))
        await _settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        results_compare = " ".join(_text(app.screen.query_one("#res-compare", Static)).split())
    assert results_compare and screen_compare.endswith(results_compare)
    c = report.metric_comparisons[0]
    assert f"[{c.accuracy_diff.low:+.3f}, {c.accuracy_diff.high:+.3f}]" in line


async def test_results_screen_shows_judge_human_agreement(sessions: Path) -> None:
    from ftui.evaluate.judge import SESSION_JUDGE_FILE, VerdictCache

    items, outputs = _items_outputs(6)
    directory = _create(sessions, items, outputs)
    with BlindSession(directory, "ana") as s:
        while (pair := s.current()) is not None:
            t = s.tasks[pair.task]
            s.vote("left" if t.left == TUNED else "right")  # humans: TUNED (b) every time
        s.unblind()
        rated = [v.item_id for v in s.votes() if v.choice != "identical"]
    cache = VerdictCache(directory / SESSION_JUDGE_FILE)
    for k, item_id in enumerate(rated):  # the judge agrees except on the first item (a tie)
        for order, raw in (("ab", "tie" if k == 0 else "2"), ("ba", "tie" if k == 0 else "1")):
            cache.put({"item_id": item_id, "order": order, "model": "judge-x", "prompt_hash": "h",
                       "pair": [BASE, TUNED], "verdict": raw})
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        app.screen.show_results(BlindSession(directory, "ana"))
        await _settle(pilot)
        quality = " ".join(_text(app.screen.query_one("#res-quality", Static)).split())
    assert f"judge κ 0.00 judge-x vs humans on {len(rated)} votes · 0 parse failures" in quality
    assert f"B better 0 {len(rated) - 1} 1" in quality


async def test_f5_asks_before_generating_and_f5_again_does_not_answer(sessions: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Key safety: generation is work; its confirmation answers to y, never to the F5 that opened it."""
    from ftui.tui.screens.eval_generate import GenerateScreen

    monkeypatch.setattr(GenerateScreen, "generator_factory", _FakeGenerator)
    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path / "runs"))
    train = _write_jsonl(tmp_path / "train.jsonl", 12, start=100)
    test = _write_jsonl(tmp_path / "test.jsonl", 4)
    app = FtuiApp(data_path=train, model="fake-model", start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        gen = app.screen
        gen.query_one("#g-test", Input).value = str(test)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and "Generate and score" in app.screen.question
        assert all(key != "f5" for key, _, _ in app.screen.choices)
        await pilot.press("f5", "enter")  # the opening key again, then the safe default
        await pilot.pause()
        assert app.screen is gen and not gen.running and not gen.outputs
        await _generate(pilot)
        await _settle(pilot)
        assert gen.outputs and all(len(o) == 4 for o in gen.outputs.values())


async def test_results_keep_the_end_of_long_run_ids(sessions: Path) -> None:
    """Runs of one day share ``run:YYYYMMDD-HHMMSS-``: a name cut at its end lost the method, model and hash
    that tell two runs apart ("run:20261203-190235-lor…", seen by hand at 160 columns)."""
    run_a, run_b = "run:20261203-190235-lora-demo-47fc", "run:20261203-190235-qlora-demo-9e1b"
    items, outputs = _items_outputs(6)
    outputs = {run_a: outputs[BASE], run_b: outputs[TUNED]}
    BlindSession.create(sessions / "s1", items, outputs, "ana", seed=3, base_system=run_a).close()
    with BlindSession(sessions / "s1", "ana") as s:
        while (pair := s.current()) is not None:
            s.vote("left" if s.tasks[pair.task].left == run_b else "right")
        s.unblind()
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        app.screen.show_results(BlindSession(sessions / "s1", "ana"))
        await _settle(pilot)
        assert isinstance(app.screen, ResultsScreen)
        shown = " ".join(_text(w) for w in app.screen.query(Static))
    assert "lora-demo-47fc" in shown and "qlora-demo-9e1b" in shown
    assert "run:20261203-190235-lor…" not in shown and "run:20261203-190235-qlo…" not in shown


async def test_without_user_the_rater_prompt_is_empty_and_typing_gives_just_the_name(
    sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No $USER (a bare tmux or container shell): the prompt was prefilled with the fallback "rater", kept on
    focus like any field's text, so typing "alice" rated as "rateralice" (found in the newcomer journey)."""
    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("USERNAME", raising=False)
    items, outputs = _items_outputs(4)
    _create(sessions, items, outputs)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        prompt = await _rater_prompt(pilot)
        field = prompt.query_one(Input)
        assert field.value == "" and "your name" in str(field.placeholder)
        await pilot.press("enter")  # nothing typed: one message with the rule, the prompt stays
        await pilot.pause()
        assert pilot.app.screen is prompt and "not allowed" in _text(prompt.query_one("#prompt-error", Static))
        await pilot.press(*"alice", "enter")
        await _settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RateScreen) and screen.session.rater == "alice"
