"""The tests' worker wait: a worker replaced in its exclusive group is not a failure; a failed one is."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App
from textual.worker import WorkerFailed

from ftui.tui.screenshots.scenario import settle_workers


async def test_a_replaced_exclusive_worker_is_waited_past_and_the_newer_one_finished() -> None:
    app = App()
    release = asyncio.Event()
    done: list[str] = []

    async def work(name: str) -> None:
        await release.wait()
        done.append(name)

    async with app.run_test():
        app.run_worker(work("first"), group="check", exclusive=True)
        waiting = asyncio.create_task(settle_workers(app))  # a test settling while the form revalidates
        await asyncio.sleep(0)
        app.run_worker(work("second"), group="check", exclusive=True)  # cancels the first, as a revalidation does
        release.set()
        await waiting  # app.workers.wait_for_complete() raised WorkerCancelled here (the first was replaced)
        assert done == ["second"]


async def test_a_failed_worker_still_fails_the_wait() -> None:
    app = App()

    async def broken() -> None:
        raise ValueError("boom")

    async with app.run_test():
        app.run_worker(broken(), exit_on_error=False)
        with pytest.raises(WorkerFailed):
            await settle_workers(app)
