"""One rater-name check: the CLI, the Evaluate screen's prompt and every other rater prompt use
``session_plan.rater_problem`` (no module keeps its own copy of the try/except around check_rater_name)."""

from __future__ import annotations

import ast
from pathlib import Path

import ftui

ROOT = Path(ftui.__file__).parent


def _calls_check_rater_name(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "check_rater_name"
               for node in ast.walk(tree))


def test_only_the_session_code_calls_check_rater_name_directly() -> None:
    callers = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if _calls_check_rater_name(p))
    # the session itself (opening, starting) and the one shared check; every prompt and the CLI use rater_problem
    assert callers == ["evaluate/ab.py", "evaluate/session_plan.py"], callers


def test_rater_problem_names_the_rule_and_passes_good_names() -> None:
    from ftui.evaluate.session_plan import rater_problem
    from ftui.tui.screens.eval_common import rater_problem as screen_check

    assert screen_check is rater_problem
    assert rater_problem("alice.b-2") is None
    problem = rater_problem("../x")
    assert problem is not None and "1-40 letters, digits" in problem


def test_cli_session_refuses_a_bad_rater_with_the_shared_message(capsys) -> None:
    from ftui.cli import main

    code = main(["eval", "session", "--rater", "bad name", "--system", "a=demo", "--system", "b=demo", "--test", "x.jsonl"])
    err = capsys.readouterr().err
    assert code != 0
    assert "--rater: rater name 'bad name' is not allowed" in err
