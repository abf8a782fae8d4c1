"""Shared fixtures. Every test runs with its own ftui home and cache, never the user's."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, each worker (and what it starts) gets its share of the cores for torch's intra-op threads.

    Every worker is a process with its own OpenMP pool sized to the whole machine: two workers on
    2 cores ran 4 spinning threads (test_eval_generate + test_train_merge on 2 workers, 2 shared cores:
    345 s, 262 s with one thread each). Set before anything imports torch; a value set by hand wins.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if os.environ.get("PYTEST_XDIST_WORKER") and workers > 1:
        share = str(max(1, (os.cpu_count() or 1) // workers))
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, share)
    config.addinivalue_line("markers", "real_gc_freeze: training freezes and unfreezes the heap as ftui does (see _TrainingCollector)")
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # keep the heavy-first order below (xdist sorts files by test count)
    _pilot_idle_checks_sleep_less()


def _pilot_idle_checks_sleep_less() -> None:
    """Pilot's "is the app idle?" check sleeps 20 ms at least: twice for each key a test presses, once for each
    ``pilot.pause()``. Summed over the suite that was ~100 s of workers asleep (tests/tui: 333 CPU-s in 434 s).
    It sleeps 4 ms a step here, with the same test of idleness (the process used under 5 % of a step's time).
    Tests wait on state, never on this sleep (make test-stress checks it).
    Pilot reads these module globals at each call (textual 8.2)."""
    import textual._wait as wait

    wait.SLEEP_GRANULARITY = 0.004
    wait.SLEEP_IDLE = wait.SLEEP_GRANULARITY / 20.0
    # A process that never goes idle (a run training in a thread) made each key wait the whole bound, twice: the
    # run trained on meanwhile, and a test that stops it burnt that CPU for nothing. 0.2 s, not 1 s.
    wait.wait_for_idle.__defaults__ = (wait.SLEEP_GRANULARITY, 0.2)


HEAVY_FIXTURES = {"demo_model", "family_model"}
NEEDS_DEMO = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, hand out the files that train or generate first and the quick ones last.

    ``--dist loadfile`` gives out whole files in collection order, so a file holding one long
    training test dealt out last keeps one worker busy while the others have finished. Heavy
    means: marked ``slow`` or using the demo or a family model. Within a file the order stays.
    """
    config.stash[NEEDS_DEMO] = any("demo_model" in item.fixturenames for item in items)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    heavy: dict[str, int] = {}
    demo: dict[str, int] = {}
    count: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        path = item.nodeid.split("::", 1)[0]
        count[path] = count.get(path, 0) + 1
        first.setdefault(path, index)
        is_heavy = item.get_closest_marker("slow") is not None or bool(HEAVY_FIXTURES & set(item.fixturenames))
        heavy[path] = heavy.get(path, 0) + is_heavy
        demo[path] = demo.get(path, 0) + ("demo_model" in item.fixturenames)
    # Heavy files that need no demo model come first: the workers that do not build it start on them and
    # reach a test of the demo model only once the build is done (test_train_hf's first test sat 16 s on
    # the build's lock when it came third).
    order = sorted(first, key=lambda path: (not heavy[path], demo[path] > 0, -heavy[path], -count[path], first[path]))
    # The first file each worker is dealt runs while the last worker builds the demo model: its tests of
    # the demo model go last in it, so the other worker trains family models meanwhile instead of
    # waiting on the build's lock (16 s of one core idle in the clean-clone CI of 482 s).
    opening = set(order[: int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)])
    rank = {path: n for n, path in enumerate(order)}

    def key(item: pytest.Item) -> tuple[int, bool]:
        path = item.nodeid.split("::", 1)[0]
        return rank[path], path in opening and "demo_model" in item.fixturenames

    items.sort(key=key)


_FROZEN_AT_MODULES = [0]  # how many modules were loaded when the collector last froze the heap
_UNFROZEN = [True]  # whether anything (a training run, a test) called gc.unfreeze() since the heap was last frozen
_gc_unfreeze = gc.unfreeze


def _unfreeze_and_note() -> None:
    """``gc.unfreeze()``, noted here: asking ``gc.get_freeze_count()`` instead walks the whole frozen list,
    45-175 ms per call with the ML stack loaded, which before every test was ~10% of the suite's CPU."""
    _UNFROZEN[0] = True
    _gc_unfreeze()


gc.unfreeze = _unfreeze_and_note  # hf_backend.train_frozen and the tests call it as gc.unfreeze()


class _TrainingCollector:
    """The ``gc`` that ``ftui.train.hf_backend`` sees in the test process: ``train_frozen``'s freeze and unfreeze
    do nothing unless the test is marked ``real_gc_freeze``; everything else is the real module.

    Here the loaded stack is already frozen between tests (``pytest_runtest_setup``), so freezing again only adds
    the run's own model and trainer, and the unfreeze after ``trainer.train`` let the next test's setup rescan the
    whole stack to freeze it again: one full collection per training test, ~0.5 CPU-s each (13 of them, 6.3 of the
    64.6 CPU-s of tests/unit/test_train_hf.py with test_train_preference.py; 56.8 CPU-s without). A run's garbage
    is then the collector's as any test's is. What train_frozen does is still tested, unchanged, where it is
    asserted (tests/unit/test_train_hf.py) and in every ``ftui train`` child process."""

    real = False

    def __getattr__(self, name: str):  # noqa: ANN204 - the gc module's own attributes
        return getattr(gc, name)

    def freeze(self) -> None:
        if self.real:
            gc.freeze()

    def unfreeze(self) -> None:
        if self.real:
            gc.unfreeze()


_TRAINING_GC = _TrainingCollector()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Keep what lives as long as the process (the ML stack, Textual, our modules) out of the collector's reach.

    torch, transformers, TRL and Textual load about a million long-lived objects, and every full
    collection rescanned them all: 43 of the 97 CPU seconds of tests/tui/test_shell.py with
    tests/unit/test_train_merge.py went to 89 full collections. After a collection (so no garbage is
    frozen) the survivors are frozen again whenever new modules have loaded, or when a training run
    unfroze them (``hf_backend.train_frozen`` freezes during ``trainer.train`` and unfreezes all after, where a
    test is marked ``real_gc_freeze``: see ``_TrainingCollector``).
    Garbage is still freed: by reference counting always, and by the collector for what tests create.
    """
    _TRAINING_GC.real = item.get_closest_marker("real_gc_freeze") is not None
    backend = sys.modules.get("ftui.train.hf_backend")
    if backend is not None and backend.gc is not _TRAINING_GC:
        backend.gc = _TRAINING_GC
    modules = len(sys.modules)
    if modules - _FROZEN_AT_MODULES[0] >= 50 or _UNFROZEN[0]:
        _FROZEN_AT_MODULES[0], _UNFROZEN[0] = modules, False
        gc.collect()
        gc.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest's clean-up after this runs five full collections (for unraisable exceptions): with the heap
    frozen after one, they skip the loaded stack (5 x ~1 s per worker when the last test had trained)."""
    if _UNFROZEN[0]:
        _UNFROZEN[0] = False
        gc.collect()
        gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _isolated_ftui_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("ftui-home")
    os.environ["FTUI_HOME"] = str(base / "home")
    os.environ["FTUI_CACHE_DIR"] = str(base / "cache")
    os.environ["FTUI_CONFIG_DIR"] = str(base / "config")
    os.environ.pop("FTUI_RUNS_DIR", None)
    os.environ.pop("FTUI_SESSIONS_DIR", None)
    # One demo model per run: xdist workers share their run's temp root and build it once between them
    # (build_demo_model holds a file lock; whoever comes second reuses the first's build).
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ["FTUI_DEMO_MODEL"] = str(shared / "demo-model")
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def _demo_model_first_on_the_last_worker(_isolated_ftui_dirs: None, request: pytest.FixtureRequest) -> None:
    """Under xdist the last worker builds the demo model before its first test (~15 s on one core).

    The first worker starts on the first file dealt, which needs only the family models, so by the
    time it reaches a test of the demo model the build is done. Built on demand instead, the first
    test of each worker to need it came at about the same time, and one worker sat on the build's
    lock while the other built. A build that fails here is left to the tests that need it to report.
    """
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if count < 2 or os.environ.get("PYTEST_XDIST_WORKER") != f"gw{count - 1}":
        return
    if not request.config.stash.get(NEEDS_DEMO, False):
        return
    from ftui.models.demo import ensure_demo_model

    try:
        ensure_demo_model()
    except Exception:  # noqa: BLE001 - reported by the tests that use it, with their own names
        pass


@pytest.fixture(scope="session")
def demo_model(_isolated_ftui_dirs: None) -> Path:
    """The demo model, built once per test run (shared by the xdist workers) outside any user's cache."""
    from ftui.models.demo import ensure_demo_model

    return ensure_demo_model()


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty runs directory for one test."""
    path = tmp_path / "runs"
    monkeypatch.setenv("FTUI_RUNS_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def family_model(_isolated_ftui_dirs: None):
    """``family_model(name)``: the tiny random-weight model of a real family (see ftui.models.families),
    built once per test session into the isolated cache."""
    from ftui.models.families import build_family_model

    return build_family_model


@pytest.fixture(autouse=True)
def _fresh_session_memory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a first launch of ftui: what one test's app remembered must not steer the next."""
    monkeypatch.setenv("FTUI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
