"""The preference demos from the CLI: ``ftui train --preset demo-dpo | demo-orpo | demo-kto`` trains to the end
on the demo model and logs the rewards the Train monitor plots (issue 16: each ends in under 90 s on 2 CPU cores;
the time is printed, not asserted, so a loaded machine cannot fail it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.config import RunConfig
from ftui.errors import UserError
from ftui.train.config_fields import DEMOS
from ftui.train.events import Finished, Log, read_events
from ftui.train.preference_data import load_preference

DEMO_DATA = {"demo-dpo": "paired", "demo-orpo": "paired", "demo-kto": "unpaired"}


@pytest.mark.parametrize("preset", list(DEMO_DATA))
def test_each_preference_demo_reads_its_own_sample(preset: str) -> None:
    values = DEMOS[preset]
    data = load_preference(values["train_path"], values["method"])
    assert data.kind == DEMO_DATA[preset] and data.skipped == 0
    assert values["method"] == preset.removeprefix("demo-") and values["adapter"] == "lora"


@pytest.mark.parametrize("preset", ["demo-orpo", "demo-kto", "demo-dpo"])
def test_the_preference_demo_presets_train_from_the_cli(preset: str, demo_model: Path, runs_dir: Path, capsys) -> None:
    started = time.monotonic()
    assert main(["train", "--preset", preset]) == 0
    elapsed = time.monotonic() - started
    (run_dir,) = runs_dir.iterdir()
    events = read_events(run_dir / "events.jsonl")
    logs = [e for e in events if isinstance(e, Log)]
    assert isinstance(events[-1], Finished) and (run_dir / "adapter" / "adapter_config.json").is_file()
    assert logs[-1].step == DEMOS[preset]["max_steps"] and events[0].type != "failed"
    last = logs[-1]
    assert None not in (last.rewards_chosen, last.rewards_rejected, last.rewards_margin)
    # the demos are tuned to separate the sides: the margin has grown by the end
    assert last.rewards_margin > 0.1, last
    if preset != "demo-kto":  # KTO has no pairs, so no reward accuracy
        assert last.rewards_accuracy is not None
    assert f"method: {DEMOS[preset]['method']}" in (run_dir / "config.yaml").read_text()
    print(f"{preset} from the CLI: {elapsed:.1f} s")


def test_a_preset_sits_under_set_and_refuses_unknown_names(monkeypatch) -> None:
    from ftui.commands.train import load_cli_config

    config, _ = load_cli_config(None, ["max_steps=3"], None, "demo-kto")
    assert (config.method, config.max_steps, config.model) == ("kto", 3, RunConfig().model)
    with pytest.raises(UserError, match="demo-orpo"):
        load_cli_config(None, [], None, "demo-nope")
    with pytest.raises(UserError, match="--resume"):
        load_cli_config(None, [], "some-run", "demo-dpo")


def test_the_task_demo_is_called_demo_long_and_its_old_name_still_works(capsys) -> None:
    """demo-full read as full fine-tuning; it is 300 LoRA steps. Scripts that name it the old way still run it."""
    from ftui.commands.train import load_cli_config
    from ftui.train.config_fields import preset_names

    assert "demo-long" in preset_names(False) and "demo-full" not in preset_names(False)
    assert DEMOS["demo-long"].get("method", RunConfig().method) == "lora"
    old, _ = load_cli_config(None, [], None, "demo-full")
    new, _ = load_cli_config(None, [], None, "demo-long")
    assert old == new and new.max_steps == 300
    assert "now called 'demo-long'" in capsys.readouterr().err
