"""Issue 13 (10): a relaunch finds the last mode, dataset, wizard answers and Train form values;
a damaged memory file is ignored; Plan says when a run is training."""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.widgets import Input

from ftui.tui import memory
from ftui.tui.app import FtuiApp

SIZE = (160, 48)


async def test_a_relaunch_comes_back_to_the_last_mode_dataset_answers_and_form(tmp_path: Path, runs_dir: Path) -> None:
    data = tmp_path / "mine.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n')
    app = FtuiApp(data_path=data, model="org/some-model")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen.walker.question.options[0].key
        await pilot.press(first)
        answers = [s.option.key for s in app.screen.walker.steps]
        await pilot.press("f3")
        await pilot.pause()
        field = app.screen.form.query_one("#f-learning_rate", Input)
        field.value = "3e-5"
        while app.remembered.get("train_form", {}).get("learning_rate") != "3e-05":
            await pilot.pause(0.05)
    assert memory.memory_path().is_file() and oct(memory.memory_path().stat().st_mode & 0o777) == "0o600"

    again = FtuiApp()  # no arguments: a plain relaunch
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.current_mode == "train"
        assert again.workspace.data_path == data and again.workspace.model == "org/some-model"
        form = again.screen.form
        assert form.query_one("#f-learning_rate", Input).value == "3e-05"
        assert form.query_one("#f-train_path", Input).value.endswith("mine.jsonl")
        await pilot.press("f1")
        await pilot.pause()
        assert [s.option.key for s in again.screen.walker.steps] == answers


async def test_a_damaged_memory_file_is_ignored(runs_dir: Path) -> None:
    path = memory.memory_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for damaged in ("{not json", "[1, 2]", json.dumps({"mode": "nowhere", "wizard_answers": [1], "train_form": 3})):
        path.write_text(damaged)
        app = FtuiApp()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.current_mode == "plan" and app.workspace.is_demo
    assert json.loads(path.read_text())["mode"] == "plan"  # replaced by a good one


def test_saving_is_atomic_and_never_raises(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("FTUI_CONFIG_DIR", str(tmp_path / "cfg"))
    assert memory.save({"mode": "data"}) and memory.load() == {"mode": "data"}
    assert [p.name for p in (tmp_path / "cfg").iterdir()] == ["session.json"]  # no temporary file left
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o500)
    monkeypatch.setenv("FTUI_CONFIG_DIR", str(tmp_path / "ro" / "sub"))
    if os.geteuid() != 0:
        assert memory.save({"mode": "data"}) is False


async def test_plan_says_a_run_is_training(runs_dir: Path) -> None:
    from ftui.train.run_lock import RunLock
    from ftui.tui.screenshots.runs import write_fixture_run

    run_dir = write_fixture_run(runs_dir, "live")
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        app = FtuiApp(start_mode="plan")
        async with app.run_test(size=SIZE) as pilot:
            while app.screen.run_in_progress is None:
                await pilot.pause(0.05)
            assert app.screen.run_in_progress == run_dir.name
            assert any("F3 watches it" in str(n.message) for n in app._notifications)  # noqa: SLF001
    finally:
        lock.release()
