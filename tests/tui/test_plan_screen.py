"""The Plan screen driven with a Pilot: wizard to two leaves, back/restart, live estimate, bad input, handoff."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, Select, Static

from ftui.tui.app import FtuiApp
from ftui.tui.screens.plan import PlanScreen
from ftui.tui.screenshots.scenario import settle_workers

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _fixed_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTUI_GPU_GB", "24")


async def _plan(pilot) -> PlanScreen:  # noqa: ANN001
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PlanScreen)
    # the calculator mounts after the screen and is filled then (calc_mounted): its estimate exists from there on
    # (a stress run read screen.estimate while it was still None)
    await asyncio.wait_for(screen.settled.wait(), 60)
    await settle_workers(pilot.app)
    await pilot.pause()
    return screen


def _text(screen: PlanScreen, wid: str) -> str:
    """The plain text a Static shows, whatever renderable it holds."""
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(screen.query_one(wid, Static).content)
    return capture.get()


async def test_wizard_to_lora_leaf_then_use_this_plan() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        assert screen.walker.current_id == "gap"
        await pilot.press("2", "n", "1", "2")
        outcome = screen.walker.outcome
        assert outcome is not None and outcome.id == "lora_style"
        card = _text(screen, "#wizard")
        assert "Fine-tune a LoRA adapter" in card and "Risks" in card and "r=16" in card
        assert screen.query_one("#f-method", Select).value == "lora"
        assert screen.estimate is not None and screen.estimate.fits is True
        await pilot.press("u")
        await pilot.pause()
        overrides = app.workspace.plan_overrides
        assert overrides["method"] == "lora"
        assert overrides["lora_r"] == 16 and overrides["lora_alpha"] == 32
        assert overrides["learning_rate"] == pytest.approx(2e-4) and overrides["num_epochs"] == 3
        # the calculator's checkpointing is "auto": decided again on the GPU the run trains on
        assert overrides["max_seq_len"] == 2048 and overrides["gradient_checkpointing"] == "auto"
        assert overrides["precision"] == "auto"
        assert "model" not in overrides  # the user never picked a model
        assert app.current_mode == "train"


async def test_use_this_plan_shows_progress_before_the_train_screen_is_built(runs_dir: Path) -> None:
    """Issue 13 (8): u's first switch builds the Train screen (seconds on a busy machine): the notice and the
    mode bar's "Opening Train…" come first, and the build waits for that frame."""
    from ftui.tui.widgets.mode_bar import ModeBar

    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await _plan(pilot)
        await pilot.press("2", "n", "1", "2")
        bar = screen.query_one(ModeBar)
        await app.run_action("use_plan", screen)  # what u does
        assert app.current_mode == "plan", "the Train screen is built only after the notice is drawn"
        assert bar.opening == "train" and "Opening Train…" in bar.render().plain
        while app.current_mode != "train" or bar.opening is not None:
            await pilot.pause(0.02)
        assert app.workspace.plan_overrides["method"] == "lora"
        assert any(n.title == "Plan carried to Train" for n in app._notifications)  # noqa: SLF001


async def test_wizard_to_rag_leaf_back_and_restart() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        await pilot.press("1", "y")
        assert screen.walker.outcome.id == "rag"
        assert "retrieval" in _text(screen, "#wizard").lower()
        await pilot.press("b")
        assert screen.walker.current_id == "facts_change"
        assert "change often" in _text(screen, "#wizard")
        await pilot.press("escape")
        assert screen.walker.current_id == "gap"
        await pilot.press("3", "y", "r")
        assert screen.walker.current_id == "gap" and not screen.walker.steps


async def test_use_this_plan_on_a_leaf_that_does_not_train_warns_and_carries_the_later_settings() -> None:
    app = FtuiApp(start_mode="plan")
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        real_notify = app.notify
        app.notify = lambda message, **kw: (notes.append((str(message), kw.get("severity", ""))),  # type: ignore[method-assign]
                                            real_notify(message, **kw))[1]
        await pilot.press("1", "y")
        assert screen.walker.outcome.id == "rag" and not screen.walker.outcome.trains
        await pilot.press("u")
        await pilot.pause()
        assert app.current_mode == "train"
        carried = [(m, sev) for m, sev in notes if "is the advice" in m]
        assert carried and carried[0][1] == "warning", notes
        assert app.workspace.plan_overrides  # the fine-tune settings for later are still carried


async def test_wrong_key_is_refused_with_a_hint() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        await pilot.press("y")  # gap takes 1/2/3
        assert screen.walker.current_id == "gap"
        assert any("not an answer" in str(n.message) for n in app._notifications)


async def test_estimator_recomputes_live_and_suggests_a_fix() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        before = screen.estimate.total_gb
        screen.query_one("#f-method", Select).value = "full"
        await pilot.pause()
        assert screen.estimate.setup.method == "full" and screen.estimate.total_gb > before
        assert screen.estimate.fits is False and screen.fix is not None
        assert "DOES NOT FIT" in _text(screen, "#breakdown")
        assert "Cheapest fix" in _text(screen, "#fix")
        # precision auto = fp32 master weights (16 B/param): 80 GB is not enough for 8B, and the fix keeps it
        # a full fine-tune (pure bf16); 160 GB is
        screen.query_one("#f-gpu", Input).value = "80"
        await pilot.pause()
        assert screen.estimate.gpu_gb == 80 and screen.estimate.fits is False
        assert screen.estimate.setup.precision == "amp" and [c.field for c in screen.fix.changes] == ["precision"]
        await pilot.press("f")
        await pilot.pause()
        assert screen.query_one("#f-precision", Select).value == "bf16" and screen.estimate.fits is True
        screen.query_one("#f-precision", Select).value = "auto"
        screen.query_one("#f-gpu", Input).value = "160"
        await pilot.pause()
        assert screen.estimate.fits is True


async def test_apply_fix_makes_it_fit_and_carries_accumulation() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        screen.query_one("#f-batch", Input).value = "8"
        screen.query_one("#f-seq", Input).value = "4096"
        screen.query_one("#f-gc", Select).value = "off"
        await pilot.pause()
        assert screen.estimate.fits is False and screen.fix is not None
        fields = {c.field for c in screen.fix.changes}
        await pilot.press("f")
        await pilot.pause()
        assert screen.estimate.fits is True and screen.estimate.setup.grad_checkpointing
        await pilot.press("u")
        await pilot.pause()
        overrides = app.workspace.plan_overrides
        if "micro_batch" in fields:
            assert overrides["micro_batch_size"] * overrides["grad_accum"] == 8
        assert overrides["gradient_checkpointing"] is True


async def test_typing_in_a_field_does_not_answer_the_wizard() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        seq = screen.query_one("#f-seq", Input)
        seq.focus()
        seq.value = ""
        await pilot.press("4", "0", "9", "6")
        await pilot.pause()
        assert screen.walker.current_id == "gap"
        assert screen.estimate.setup.seq_len == 4096


BAD_NUMBERS = [
    ("#f-seq", "0", "2048", "Seq len"),
    ("#f-batch", "-2", "1", "Batch"),
    ("#f-rank", "0", "16", "rank"),
    ("#f-rank", "99999", "16", "rank"),
    ("#f-gpu", "-1", "", "GPU GB"),
    ("#f-seq", "", "2048", "Seq len"),
]


async def test_bad_numbers_show_one_message_each() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        for wid, value, good, fragment in BAD_NUMBERS:
            screen.query_one(wid, Input).value = value
            await pilot.pause()
            error = screen.query_one("#mem-error", Static)
            assert error.display and fragment in _text(screen, "#mem-error"), (wid, value)
            assert len(_text(screen, "#mem-error").strip().splitlines()) <= 2
            assert screen.estimate is None
            assert not screen.query_one("#breakdown", Static).display
            screen.query_one(wid, Input).value = good
            await pilot.pause()
            assert screen.estimate is not None and not error.display


async def _load_custom(pilot, screen: PlanScreen, text: str) -> None:  # noqa: ANN001
    screen.query_one("#f-model", Select).value = "custom"
    path = screen.query_one("#f-path", Input)
    path.value = text
    await pilot.pause()
    path.focus()
    await pilot.press("enter")
    await settle_workers(pilot.app)
    await pilot.pause()


async def test_unknown_hub_id_offline_is_explained_on_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        await _load_custom(pilot, screen, "someorg/never-cached")
        assert "HF_HUB_OFFLINE" in _text(screen, "#mem-error")
        assert any("HF_HUB_OFFLINE" in str(n.message) for n in app._notifications)


async def test_local_config_dir_and_missing_fields(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.json").write_text(json.dumps({
        "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": True}))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 2048}))
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        await _load_custom(pilot, screen, str(good))
        assert screen.estimate is not None and screen.estimate.arch.num_layers == 16
        await pilot.press("escape")  # leave the text field (there, "u" is just a letter)
        assert screen.focused is screen.query_one("#wizard")
        await pilot.press("u")
        await pilot.pause()
        assert app.workspace.plan_overrides["model"] == str(good)
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        await _load_custom(pilot, screen, str(bad))
        assert "num_hidden_layers" in _text(screen, "#mem-error")


async def test_save_record_writes_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        await _plan(pilot)
        await pilot.press("2", "y", "n", "w")
        await pilot.pause()
        files = list(tmp_path.glob("ftui-decision-*.md"))
        assert len(files) == 1
        text = files[0].read_text()
        assert "Prompt engineering with a few-shot template" in text and "## Memory estimate" in text
        assert "## Cost" in text
        assert any("Decision record saved" in str(n.title) for n in app._notifications)


async def test_cost_tab_break_even() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        await pilot.press("c")
        assert screen.query_one("#calc-tabs").active == "cost"
        assert screen.dataset_tokens is not None and screen.dataset_tokens.examples > 0
        screen.query_one("#c-requests", Input).value = "100000"
        await pilot.pause()
        labels = [label for label, _, _ in screen.cost_lines]
        assert "OpenAI training" in labels and "Break-even" in labels
        screen.query_one("#c-epochs", Input).value = "0"
        await pilot.pause()
        assert "Epochs" in _text(screen, "#cost-error")


async def test_the_cost_form_is_built_when_first_shown_with_what_the_plan_set_meanwhile() -> None:
    """The cost tab's widgets are built on its first showing (a click or c); until then the cost is computed from
    the values the screen keeps, and what the plan set meanwhile (the outcome's epochs) is in the form."""
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _plan(pilot)
        assert screen.cost_form is None and not screen.query("#c-epochs")
        await pilot.press("2", "n", "2", "3")  # reasoning_finetune: its epochs go to the cost form
        epochs = f"{screen.walker.outcome.hyperparameters['num_epochs']:g}"
        assert epochs != "3" and screen.cost_values["#c-epochs"] == epochs
        assert [label for label, _, _ in screen.cost_lines][:2] == ["OpenAI training", "Self-hosted"]
        lines = list(screen.cost_lines)
        await pilot.click("#calc-tabs Tab#--content-tab-cost")
        await pilot.pause()
        assert screen.query_one("#calc-tabs").active == "cost" and screen.cost_form is not None
        assert screen.query_one("#c-epochs", Input).value == epochs
        assert screen.query_one("#c-tokens", Input).placeholder.startswith("dataset: ")
        assert "examples" in _text(screen, "#cost-data")
        assert screen.cost_lines == lines and "OpenAI training" in _text(screen, "#cost-result")
        await pilot.press("m", "c")  # shown again: the same form, not a second one
        assert len(screen.query("#cost-scroll")) == 1


async def test_usable_at_80x24() -> None:
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _plan(pilot)
        assert screen.has_class("-narrow")
        await pilot.press("2", "n", "2", "3")
        assert screen.walker.outcome.id == "reasoning_finetune"
        assert screen.estimate is not None and screen.estimate.setup.lora_r == 64


async def test_a_test_starts_once_the_start_screens_calculator_has_mounted(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_test (and a snapshot's auto-pilot) hand over the app once Plan's calculator is there: a snapshot test that
    set the method at once found no '#f-method' (clean-clone CI, once). The calculator is slowed here to show it."""
    from ftui.tui.screens import plan

    monkeypatch.setattr(plan, "CALC_DELAY_S", 0.5)
    app = FtuiApp(start_mode="plan")
    async with app.run_test(size=SIZE):
        assert app.screen.settled.is_set()
        app.screen.query_one("#f-method", Select).value = "full"
