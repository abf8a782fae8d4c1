"""Issue 13 (8): the first switch to Train builds only what shows. The form's collapsed sections (two
thirds of its widgets) are built when one first opens; their values are the form's all the same."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Collapsible

from ftui.config import RunConfig
from ftui.train.config_fields import SPECS
from ftui.tui.app import FtuiApp
from ftui.tui.screens.train import TrainScreen
from tests.tui.test_train_screen import wait_for

HIDDEN = [spec.name for spec in SPECS.values() if spec.section == "advanced"]


async def test_the_train_screen_builds_a_collapsed_section_when_it_first_opens(runs_dir: Path) -> None:
    app = FtuiApp(start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        form = screen.form
        section = form.query_one("#sec-advanced", Collapsible)
        assert section.collapsed
        contents = section.query_one(Collapsible.Contents)
        assert not contents.children, "the collapsed advanced section was composed with the screen"
        assert len(list(screen.walk_children())) < 200  # ~120; built eagerly it was ~310
        assert form.config().seed == RunConfig().seed
        form.set_values({"seed": 1234})  # a field of an unbuilt section keeps its value
        assert form.config().seed == 1234
        before = len(list(screen.walk_children()))
        section.collapsed = False
        await wait_for(pilot, lambda: len(contents.children) == len(HIDDEN), 30, "the section's rows")
        await pilot.pause()
        assert len(list(screen.walk_children())) >= before + 3 * len(HIDDEN)
        assert str(form.query_one("#f-seed").value) == "1234"  # built with the value set before
        assert form.config().seed == 1234


async def test_a_choice_of_a_section_just_built_reads_and_takes_its_value_before_it_mounts(runs_dir: Path) -> None:
    """An unmounted Select reads Select.NULL: a start right after method=qlora built the 4-bit section was refused
    with "load_in_4bit_quant_type: one of nf4, fp4" (make test-stress, test_environment_refusals). Until the field
    has mounted the form reads the value it was built with, and a value set meanwhile reaches it once mounted."""
    from tests.tui.test_train_screen import open_train

    app = FtuiApp(start_mode="train")
    async with app.run_test(size=(160, 48)) as pilot:
        form = (await open_train(pilot)).form
        name = "load_in_4bit_quant_type"
        form.build_section(SPECS[name].section)
        values, errors = form.raw_values()  # at once: the section's fields have not mounted yet
        assert name not in errors and values[name] == "nf4"
        form.set_values({name: "fp4"})
        assert form.raw_values()[0][name] == "fp4"
        await wait_for(pilot, lambda: name not in form._mounting, 30)  # noqa: SLF001
        assert str(form.query_one(f"#f-{name}").value) == "fp4"
