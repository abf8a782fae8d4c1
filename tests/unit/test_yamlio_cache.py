"""The JSON copy that keeps PyYAML off the TUI's first frame must never serve stale data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ftui.yamlio import load_file_cached


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FTUI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_copy_follows_the_file(tmp_path: Path) -> None:
    doc = tmp_path / "tree.yaml"
    doc.write_text("a: 1\nb: [x, y]\n")
    assert load_file_cached(doc) == {"a": 1, "b": ["x", "y"]}
    assert load_file_cached(doc) == {"a": 1, "b": ["x", "y"]}  # from the copy
    doc.write_text("a: 2\n")
    os.utime(doc, ns=(doc.stat().st_atime_ns, doc.stat().st_mtime_ns + 1_000_000))
    assert load_file_cached(doc) == {"a": 2}


def test_a_broken_copy_or_a_broken_file(tmp_path: Path, _cache: Path) -> None:
    doc = tmp_path / "tree.yaml"
    doc.write_text("a: 1\n")
    load_file_cached(doc)
    for copy in (_cache / "yaml").iterdir():
        copy.write_text("{not json")
    assert load_file_cached(doc) == {"a": 1}
    doc.write_text("a: [1\n")
    with pytest.raises(yaml.YAMLError):
        load_file_cached(doc)


def test_an_unwritable_cache_still_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("FTUI_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    doc = tmp_path / "tree.yaml"
    doc.write_text("when: 2026-12-02\n")  # a date JSON cannot hold: read, not cached
    assert str(load_file_cached(doc)["when"]) == "2026-12-02"


def test_the_tree_loads_without_pyyaml_once_cached(tmp_path: Path) -> None:
    code = "import sys; from ftui.advisor.tree import load_tree; load_tree(); print('yaml' in sys.modules)"
    env = dict(os.environ, FTUI_CACHE_DIR=str(tmp_path / "c2"))
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert (first.stdout.strip(), second.stdout.strip()) == ("True", "False")
