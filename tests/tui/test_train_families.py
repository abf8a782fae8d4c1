"""Real chat formats trained from the Train screen and from ``ftui train``, with no setting
made for the family: the model path is all a user gives (the rest are the quick-run
values every Train test uses). Llama 3.1 and Mistral templates have no generation
markers and a base model has no template, so each run must pick its masking path itself.

Which path a family takes is decided in the worker, below both faces, and checked for every
family there (tests/unit/test_train_masking.py, tests/unit/test_family_matrix.py). What differs
by family in a face is the form's model check, which reads the template: so the form trains a
chat format without markers (Llama 3.1) and the base model without a template, and the CLI,
whose path is the same for all, trains the third (Mistral).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftui import paths
from ftui.train.events import Finished, read_events
from ftui.tui.app import FtuiApp
from tests.tui.test_train_screen import SIZE, fill_quick, open_train, press_start, set_field, wait_for

pytestmark = pytest.mark.slow
EXPECTED = {"llama3": "prompt_completion", "mistral": "prompt_completion", "base": "base"}
FORM_FAMILIES = ["llama3", "base"]
CLI_FAMILIES = ["mistral"]


@pytest.mark.parametrize("name", FORM_FAMILIES)
async def test_a_real_format_trains_from_the_form(name: str, family_model, runs_dir: Path) -> None:
    model_dir = family_model(name)
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_train(pilot)
        set_field(screen, "model", str(model_dir))
        # 256 as in the CLI test below: the base format's prompts run past the quick runs' 128 tokens in the
        # families' small vocabulary, and a row with no room for its reply is refused since f75b712
        await fill_quick(pilot, screen, max_seq_len="256")
        await press_start(pilot)
        await wait_for(pilot, lambda: screen.worker is not None, 60, "the worker")
        await wait_for(pilot, lambda: screen.ended, 240, "the run to end")
        assert screen.ended[-1][1] == "finished", screen.monitor.history.terminal
        run_dir = Path(screen.worker.run_dir)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["masking"]["path"] == EXPECTED[name]


@pytest.mark.parametrize("name", CLI_FAMILIES)
def test_a_real_format_trains_from_the_cli(name: str, family_model, tmp_path: Path) -> None:
    rows = paths.sample_data("support_tickets_train.jsonl").read_text().splitlines()[:24]
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(rows) + "\n")
    run_dir = tmp_path / "run"
    config = tmp_path / "run.yaml"  # what a user writes: the model and the data, nothing per family
    config.write_text(f"model: {family_model(name)}\ntrain_path: {data}\neval_path: null\neval_fraction: 0.25\n")
    result = subprocess.run(
        [sys.executable, "-m", "ftui", "train", str(config), "--set", "max_steps=3", "--set", "micro_batch_size=2",
         "--set", "max_seq_len=256", "--set", f"output_dir={run_dir}"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"loss masking: {EXPECTED[name]}" in result.stdout + result.stderr
    assert isinstance(read_events(run_dir / "events.jsonl")[-1], Finished)
