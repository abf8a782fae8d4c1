"""Run every corpus entry through one ftui command, in this process, and print one JSON line each.

    python -m tests.corpus.drive lint|check|stats|all CORPUS_DIR [--no-big]

Run as a subprocess by tests/corpus/test_corpus.py (the subprocess's own timeout is the hard
limit against a hang in C code); each entry also gets SIGALRM after ``PER_ENTRY_S`` so one hang
is reported as a hang of that entry and the rest still run. ``ftui.cli.main`` is called directly:
an exception that escapes it is what a user would see as a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import time
import traceback
from pathlib import Path

PER_ENTRY_S = 25


class Hang(BaseException):
    pass


def _alarm(_sig: int, _frame: object) -> None:
    raise Hang()


def run_one(argv: list[str]) -> dict:
    from ftui.cli import main

    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_ENTRY_S)
    result: dict = {}
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
        result["rc"] = rc
    except Hang:
        result["rc"] = None
        result["hang"] = True
    except SystemExit as exc:
        result["rc"] = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # noqa: BLE001 - what escapes main is a traceback a user would see
        result["rc"] = None
        result["traceback"] = traceback.format_exc()[-2000:]
    finally:
        signal.alarm(0)
    result["seconds"] = round(time.monotonic() - started, 2)
    result["out"] = out.getvalue()[-3000:]
    result["err"] = err.getvalue()[-3000:]
    return result


def main() -> None:
    from tests.corpus.make_corpus import make

    command, corpus = sys.argv[1], Path(sys.argv[2])
    only = [a.split("=", 1)[1] for a in sys.argv[3:] if a.startswith("--only=")]
    # a corpus written beforehand (by the test, to see what the commands leave behind) is used as it is
    entries = make(corpus, big="--no-big" not in sys.argv, write=not (corpus / "fifo.jsonl").exists())
    config_dir = corpus / "_configs"
    config_dir.mkdir(exist_ok=True)
    commands = ("lint", "stats", "check") if command == "all" else (command,)
    for command, e in ((c, e) for e in entries for c in commands):
        if command not in e.kinds or (only and e.name not in only):
            continue
        if command == "lint":
            argv = ["lint", str(e.path)]
        elif command == "stats":
            argv = ["data", "stats", str(e.path)]
        else:
            cfg = config_dir / f"{e.name}.yaml"
            cfg.write_text(json.dumps({"model": "demo", "train_path": str(e.path), "eval_path": None, "max_steps": 2}))
            argv = ["train", str(cfg), "--check"]
        res = run_one(argv)
        res.update(name=e.name, command=command, expect=e.expect, words=list(e.words))
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
