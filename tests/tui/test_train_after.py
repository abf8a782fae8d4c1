"""After training, in the Train screen's Runs view: checkpoints listed, merge / export with a confirmation,
Try it (chat) with the base beside the run; and Try it from the Evaluate mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Input, Static

from ftui.tui.app import FtuiApp
from ftui.tui.screens.chat import ChatPane, ChatScreen
from ftui.tui.screens.confirm import ChoiceScreen
from ftui.tui.screens.train import TrainScreen
from tests.tui.test_train_screen import wait_for

SIZE = (140, 44)


@pytest.fixture(scope="module")
def trained_runs(demo_model, tmp_path_factory) -> Path:
    """A runs directory holding one short LoRA run on the demo model, with eval and two checkpoints."""
    from ftui.train.worker import start_run
    from tests.unit.test_train_hf import tiny_config

    base = tmp_path_factory.mktemp("after")
    runs_dir = base / "runs"
    config = tiny_config(base, max_steps=4, eval_steps=2, save_steps=2, save_total_limit=2)
    worker = start_run(config, run_dir=runs_dir / "20260101-000000-lora-demo")
    assert worker.join(timeout=300)
    return runs_dir


@pytest.fixture
def runs_env(trained_runs, monkeypatch) -> Path:
    monkeypatch.setenv("FTUI_RUNS_DIR", str(trained_runs))
    return trained_runs


async def open_runs(pilot) -> TrainScreen:  # noqa: ANN001
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrainScreen)
    await pilot.press("r")
    await wait_for(pilot, lambda: screen.runs_panel.loaded > 0 and screen.runs_panel.checkpoints, what="checkpoints")
    return screen


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c.plain if isinstance(c, Text) else c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_runs_view_lists_a_runs_checkpoints_with_step_eval_loss_and_size(runs_env):
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_runs(pilot)
        rows = cells(screen.query_one("#ckpt-table", DataTable))
        assert [r[0] for r in rows] == ["checkpoint-2", "checkpoint-4"]
        assert all(r[2] != "—" and float(r[2]) > 0 for r in rows)  # eval loss at each checkpoint's step
        assert all(r[3].endswith(("KB", "MB")) for r in rows)
        assert sum("best eval" in r[4] for r in rows) == 1
        # the final adapter is the best checkpoint's, and says so also when that is the last step's
        assert [r[4] for r in rows if "best eval" in r[4]] == ["best eval · = adapter/"]
        # k moves into the checkpoints; the keys then act on the checkpoint
        await pilot.press("k")
        assert screen.query_one("#ckpt-table", DataTable).has_focus
        assert screen.runs_panel.selected_checkpoint.name == "checkpoint-2"
        await pilot.press("k")
        assert screen.query_one("#runs-table", DataTable).has_focus and screen.runs_panel.selected_checkpoint is None


async def test_merge_asks_first_and_its_opening_key_does_not_confirm(runs_env):
    run_dir = next(runs_env.iterdir())
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("k", "down")  # checkpoint-4
        await pilot.press("g")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("g")  # the natural second press answers nothing
        assert isinstance(app.screen, ChoiceScreen) and not screen.runs_panel.work_busy
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.runs_panel.work_log and not screen.runs_panel.work_busy, 120, "merge")
        log = screen.runs_panel.work_log
        assert log[-1] == f"merged written to {run_dir / 'merged-checkpoint-4'}", log
        assert any(line.startswith("merged shard 1/1") for line in log)  # progress on the way
        assert (run_dir / "merged-checkpoint-4" / "model.safetensors").is_file()


async def test_export_gguf_without_llama_cpp_shows_the_command(runs_env, monkeypatch):
    monkeypatch.setenv("FTUI_GGUF_CONVERTER", "/nonexistent/convert_hf_to_gguf.py")
    run_dir = next(runs_env.iterdir())
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("o")
        assert isinstance(app.screen, ChoiceScreen)
        assert [k for k, _, _ in app.screen.choices] == ["a", "f", "q"]
        await pilot.press("escape")  # Esc: nothing happens
        assert not screen.runs_panel.work_busy and not screen.runs_panel.work_log
        await pilot.press("o", "q")
        await wait_for(pilot, lambda: screen.runs_panel.work_log and not screen.runs_panel.work_busy, 120, "export")
        last = screen.runs_panel.work_log[-1]
        assert "convert_hf_to_gguf.py was not found" in last
        assert f"--outfile {run_dir / 'export' / 'gguf' / (run_dir.name + '.gguf')}" in last
        line = screen.query_one("#runs-work", Static)
        assert "convert it with" in str(line.render())


async def test_try_it_streams_the_run_and_its_base_side_by_side(runs_env):
    run_dir = next(runs_env.iterdir())
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await open_runs(pilot)
        await pilot.press("t")
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await wait_for(pilot, lambda: chat.session is not None, 120, "model load")
        tuned, base = chat.query_one("#chat-tuned", ChatPane), chat.query_one("#chat-base", ChatPane)
        assert tuned.border_title == f"run:{run_dir.name}" and base.border_title.startswith("base: ")
        assert chat.session.base is chat.session.tuned  # the adapter switched off: the base is not loaded twice
        assert chat.query_one("#chat-input", Input).has_focus
        await pilot.press(*"My invoice is wrong", "enter")
        await wait_for(pilot, lambda: chat.turns_done == 1, 120, "first reply")
        for pane in (tuned, base):  # a reply, or the note that the model ended its turn at once
            assert pane.turns[0] == ("user", "My invoice is wrong") and pane.turns[1][0] in ("model", "empty")
        assert tuned.border_title == f"run:{run_dir.name}"
        assert chat.query_one("#chat-target", Input).value == run_dir.name  # short: the run is in the runs dir
        assert base.reply_text() == chat.session.histories["base"][-1]["content"]
        await pilot.press(*"thanks", "enter")
        await wait_for(pilot, lambda: chat.turns_done == 2, 120, "second reply")
        assert len(chat.session.histories["tuned"]) == 4 and len(chat.session.histories["base"]) == 4
        await pilot.press("escape")
        assert isinstance(app.screen, TrainScreen)


class FakeSession:
    """Replies with text that would be markup if it were ever parsed as such."""

    def __init__(self, target: str) -> None:
        from ftui.evaluate.chat import ChatTarget
        from ftui.evaluate.systems import SystemSpec

        self.target = ChatTarget(SystemSpec("merged", target), SystemSpec("base", "demo", label="base"), target)
        self.tuned, self.base = self, self
        self.histories = {"tuned": [], "base": []}

    def sides(self) -> list[str]:
        return ["tuned", "base"]

    def ask(self, side, user, on_text, config, cancel=None):  # noqa: ANN001
        for piece in ("[bold red]not", " markup[/]", " \x1b[31m"):
            on_text(piece)
        return "[bold red]not markup[/]"

    def reset(self) -> None:
        pass


async def test_try_it_from_evaluate_shows_model_text_literally(runs_env, monkeypatch):
    seen: list[str] = []

    def factory(target: str) -> FakeSession:
        seen.append(target)
        return FakeSession(target)

    monkeypatch.setattr(ChatScreen, "session_factory", factory)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await wait_for(pilot, lambda: chat.session is not None, 30, "load")
        assert seen == ["latest"]
        await pilot.press(*"hi", "enter")
        await wait_for(pilot, lambda: chat.turns_done == 1, 30, "reply")
        shown = chat.query_one("#chat-tuned", ChatPane).query_one(".transcript", Static).render()
        assert "[bold red]not markup[/]" in str(shown)
        # another target typed into the top field, loaded with Enter
        field = chat.query_one("#chat-target", Input)
        field.focus()
        field.value = "merged:/tmp/x"
        await pilot.press("enter")
        await wait_for(pilot, lambda: seen[-1] == "merged:/tmp/x" and chat.session is not None, 30, "reload")


async def test_evaluate_a_checkpoint_opens_generate_with_it_chosen(runs_env):
    from textual.widgets import Select

    from ftui.tui.screens.eval_generate import GenerateScreen

    run_dir = next(runs_env.iterdir())
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        await open_runs(pilot)
        await pilot.press("k", "v")
        chosen = f"{run_dir.name}@checkpoint-2"
        # the screen's choices are filled once it has mounted: wait for the value, not for the screen alone
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen) and app.screen.is_mounted
                       and app.screen.query_one("#g-run", Select).value == chosen, 30, "generate with the checkpoint")



async def test_resume_from_a_chosen_checkpoint_asks_then_trains_from_it(trained_runs, tmp_path, monkeypatch):
    import shutil

    from ftui.train.events import Started, read_events

    source = next(trained_runs.iterdir())
    runs_dir = tmp_path / "runs"
    shutil.copytree(source, runs_dir / source.name)  # this test trains on: a copy, the module's run stays as is
    monkeypatch.setenv("FTUI_RUNS_DIR", str(runs_dir))
    run_dir = runs_dir / source.name
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("k")  # checkpoint-2 of a finished run
        await pilot.press("u")
        assert isinstance(app.screen, ChoiceScreen) and "from checkpoint-2 (step 2)" in app.screen.question
        assert "checkpoint-4" in app.screen.question  # says the later one is set aside
        await pilot.press("u")  # the opening key again: nothing
        assert isinstance(app.screen, ChoiceScreen) and screen.worker is None
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.worker is not None, 60, "the resumed worker")
        assert screen.worker.join(120)
        starts = [e for e in read_events(run_dir / "events.jsonl") if isinstance(e, Started)]
        assert starts[-1].resumed_from_step == 2
        assert (run_dir / "checkpoints" / "superseded-checkpoint-4").is_dir()


class WaitingSession(FakeSession):
    """Streams one piece, then waits until the screen cancels the reply; the model said nothing else."""

    def ask(self, side, user, on_text, config, cancel=None):  # noqa: ANN001
        on_text("")
        assert cancel is not None and cancel.wait(30), "the screen never cancelled"
        return ""


async def test_esc_stops_a_reply_then_goes_back_and_an_empty_reply_says_so(runs_env, monkeypatch):
    monkeypatch.setattr(ChatScreen, "session_factory", WaitingSession)
    app = FtuiApp(start_mode="evaluate")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        chat = app.screen
        await wait_for(pilot, lambda: chat.session is not None, 30, "load")
        await pilot.press(*"hi", "enter")
        await wait_for(pilot, lambda: chat.busy, 10, "answering")
        await pilot.press("escape")  # stops the reply, stays here
        await wait_for(pilot, lambda: chat.turns_done == 1, 30, "the stopped turn")
        assert isinstance(app.screen, ChatScreen)
        assert "(stopped)" in str(chat.query_one("#chat-status", Static).render())
        tuned = chat.query_one("#chat-tuned", ChatPane)
        assert tuned.turns[-1] == ("empty", "")
        assert "the model ended its turn at once" in str(tuned.query_one(".transcript", Static).render())
        base = chat.query_one("#chat-base", ChatPane)
        assert base.turns[-1] == ("note", "not asked: stopped before this side's turn")
        assert chat.session.histories["base"] == []
        await pilot.press("escape")
        assert not isinstance(app.screen, ChatScreen)
