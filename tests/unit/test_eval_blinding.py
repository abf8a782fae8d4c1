"""Blinding: a fresh seed per session, systems resolved at creation (run:latest -> the run it was),
one symmetric normaliser (stop markers, role continuations, repetition loops, special tokens) with
its rules stored in the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.evaluate.ab import BlindSession, load_plan
from ftui.evaluate.blinding import resolve_systems
from ftui.evaluate.items import EvalItem
from ftui.evaluate.normalize import RULES, normalize_output, trim_repetition
from ftui.evaluate.results import results_text
from ftui.evaluate.systems import parse_system
from ftui.train.events import EventLogWriter, Finished, Started


def _items(n: int = 6) -> list[EvalItem]:
    return [EvalItem(f"i{k}", ({"role": "user", "content": f"q{k}"},), f"a{k}") for k in range(n)]


def _outputs(items: list[EvalItem]) -> dict[str, dict[str, str]]:
    return {"base": {it.id: f"base {it.id}" for it in items}, "ft": {it.id: f"ft {it.id}" for it in items}}


def test_each_session_gets_a_fresh_seed_stored_in_the_plan(tmp_path: Path) -> None:
    items = _items()
    seeds = set()
    for k in range(3):
        s = BlindSession.create(tmp_path / f"s{k}", items, _outputs(items), "ana")
        seeds.add(load_plan(tmp_path / f"s{k}").seed)
        assert s.seed == load_plan(tmp_path / f"s{k}").seed
        s.close()
    assert len(seeds) == 3 and 0 not in seeds


def test_cli_session_seed_default_is_not_zero() -> None:
    import argparse

    from ftui.commands import evaluate as cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["eval", "session", "--system", "base", "--system", "fewshot:1", "--test", "t.jsonl",
                              "--rater", "ana"])
    assert args.seed is None  # BlindSession.create draws a fresh one


def _run(runs: Path, name: str, t: float) -> Path:
    run = runs / name
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_config.json").write_text('{"base_model_name_or_path": "demo"}')
    with EventLogWriter(run / "events.jsonl") as log:
        log.write(Started(run_id=name, method="lora", model="demo", t=t))
        log.write(Finished(step=10, t=t + 5))
    return run


def test_run_latest_is_stored_as_the_run_it_was(runs_dir: Path, tmp_path: Path) -> None:
    _run(runs_dir, "r-old", 1000.0)
    newest = _run(runs_dir, "r-new", 2000.0)
    spec = parse_system("run:latest")
    assert spec.name == "run:r-new"
    items = _items()
    outputs = {"base": _outputs(items)["base"], spec.name: _outputs(items)["ft"]}
    BlindSession.create(tmp_path / "s", items, outputs, "ana", seed=5,
                        resolved=resolve_systems([parse_system("base"), spec])).close()
    _run(runs_dir, "r-newer", 3000.0)  # a later run does not change what was rated
    plan = load_plan(tmp_path / "s")
    assert plan.systems == ["base", "run:r-new"]
    rec = plan.resolved["run:r-new"]
    assert rec["run_id"] == "r-new" and rec["checkpoint"] == str((newest / "adapter").resolve())
    assert rec["kind"] == "adapter" and plan.resolved["base"]["kind"] == "base"
    assert "checkpoint_of_run" not in rec  # the run's final adapter
    ckpt = newest / "checkpoint-10"
    ckpt.mkdir()
    from ftui.evaluate.blinding import resolve_system
    from ftui.evaluate.systems import SystemSpec

    rec = resolve_system(SystemSpec("adapter", "demo", adapter=str(ckpt)))
    assert rec["run_id"] == "r-new" and rec["checkpoint_of_run"] == "checkpoint-10"
    assert plan.normalisation["rules"] == list(RULES) and plan.normalisation["version"] >= 2
    with BlindSession(tmp_path / "s", "ana") as s:
        s.unblind()
        text = results_text(s.results())
    assert f"system run:r-new: adapter:r-new (run r-new) · {(newest / 'adapter').resolve()}" in text


@pytest.mark.parametrize(("raw", "shown"), [
    ("The answer is 4.\n\n### Instruction:\nNow write a poem", "The answer is 4."),
    ("Sure, refunds take 5 days.\nUser: thanks!\nAssistant: you're welcome", "Sure, refunds take 5 days."),
    ("billing\nHuman: next ticket", "billing"),
    ("Reset it here.<|im_start|>user\nmore", "Reset it here."),
    ("<|im_start|>assistant\nbilling<|im_end|>", "billing"),  # a leading turn start is not a cut
    ("User: is quoted at the start", "User: is quoted at the start"),
    ("<s> ok </s>", "ok"),
    ("<bos>billing<pad><pad>", "billing"),
    ("<start_of_turn>model\nhello<end_of_turn>", "hello"),
])
def test_role_continuations_and_special_tokens(raw: str, shown: str) -> None:
    assert normalize_output(raw) == shown


def test_repetition_loops_are_trimmed_to_one_copy() -> None:
    assert normalize_output("I can help. I can help. I can help. I can help. I ca") == "I can help."
    assert trim_repetition("a b c a b c a b c a b c") == "a b c"
    assert trim_repetition("go go go") == "go go go"  # too short to call a loop
    assert trim_repetition("[1, 1, 1, 1, 1, 1, 2]") == "[1, 1, 1, 1, 1, 1, 2]"  # does not reach the end
    assert trim_repetition("x y. x y.") == "x y. x y."  # two copies are not a loop


def test_special_tokens_need_no_tokenizer_list() -> None:
    """Local outputs used to get an extra pass with their tokenizer's token list; API outputs did not.
    The one pattern now covers the common special tokens for both."""
    for raw in ("billing<unk>", "<|reserved_special_token_3|>billing", "billing<|endoftext|>tail", "[INST]billing[/INST]",
                "<mask>billing"):
        assert normalize_output(raw) == "billing", raw
