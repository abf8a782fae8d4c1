"""Regenerate the SVG screenshots in ``screenshots/``: ``python -m ftui.tui.screenshots``.

Every scenario runs the real app headless at a fixed terminal size in a throw-away
ftui home (so no user data shows), drives it with a Pilot, and saves one SVG. Add a
scenario for every screen or state worth showing; ``make screenshots`` runs them all.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from ftui.paths import REPO_ROOT
from ftui.tui.screenshots import chat, data, evaluate, plan, train
from ftui.tui.screenshots.scenario import Scenario

SIZE = (120, 40)
OUT_DIR = REPO_ROOT / "screenshots"


def _open_help(mode: str):  # noqa: ANN202
    async def setup(pilot, home: Path) -> None:  # noqa: ANN001
        await pilot.press("question_mark")

    return setup


SCENARIOS: list[Scenario] = [
    Scenario("shell-help", "plan", _open_help("plan")),
    *plan.SCENARIOS,
    *data.SCENARIOS,
    *train.SCENARIOS,
    *chat.SCENARIOS,
    *evaluate.SCENARIOS,
]


async def take(scenario: Scenario, out_dir: Path) -> Path:
    from ftui.tui.app import FtuiApp

    saved = dict(os.environ)  # a scenario's settings (plan's FTUI_GPU_GB) must not leak into the next ones
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            os.environ["FTUI_HOME"] = str(home / "home")
            os.environ["FTUI_RUNS_DIR"] = str(home / "home" / "runs")
            os.environ["FTUI_CONFIG_DIR"] = str(home / "config")  # every screenshot starts as a first launch
            if scenario.prepare:
                scenario.prepare(home)
            app = FtuiApp(data_path=scenario.data_path, start_mode=scenario.mode)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                if scenario.setup:
                    await scenario.setup(pilot, home)
                await pilot.pause(0.3)
                await pilot.wait_for_scheduled_animations()
                path = out_dir / f"{scenario.name}.svg"
                app.save_screenshot(filename=path.name, path=str(out_dir))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return path


async def take_all(names: list[str] | None, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    return [await take(s, out_dir) for s in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="only these scenarios (default: all)")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    os.environ.setdefault("FTUI_CACHE_DIR", str(Path(tempfile.gettempdir()) / "ftui-screenshot-cache"))
    for path in asyncio.run(take_all(args.names, args.out)):
        print(path)


if __name__ == "__main__":
    main()
