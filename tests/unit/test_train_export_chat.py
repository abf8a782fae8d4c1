"""After training: list checkpoints, export (adapter / merged / GGUF) and chat with a run, from the CLI.

One short LoRA run on the tiny Qwen2.5-family model (its real chat template, ``<|im_end|>``
end-of-turn) serves every test of the module.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.train.events import Finished, read_events
from ftui.train.worker import start_run
from tests.unit.test_train_hf import tiny_config


@pytest.fixture(scope="module")
def qwen_run(family_model, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("export")
    model = family_model("qwen2.5")
    config = tiny_config(base, model=str(model), max_steps=4, eval_steps=2, save_steps=2, save_total_limit=1)
    worker = start_run(config, run_dir=base / "run")
    assert worker.join(timeout=300)
    assert isinstance(read_events(worker.events_path)[-1], Finished)
    return base / "run"


def run_cli(argv: list[str], capsys, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_checkpoints_lists_step_eval_loss_size(qwen_run, capsys):
    code, out, _ = run_cli(["checkpoints", str(qwen_run)], capsys)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("checkpoint-")]
    assert lines and all(len(line.split()) >= 4 for line in lines)
    assert any(line.rstrip().endswith("best") for line in lines)
    assert f"run:{qwen_run.name}@checkpoint-N" in out


def test_export_adapter_and_merged(qwen_run, tmp_path, capsys):
    code, out, _ = run_cli(["export", str(qwen_run), "--what", "adapter", "--out", str(tmp_path / "a")], capsys)
    assert code == 0 and out.strip() == str(tmp_path / "a")
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in (tmp_path / "a").iterdir()}
    assert not (tmp_path / "a" / "optimizer.pt").exists()
    code, _, err = run_cli(["export", str(qwen_run), "--what", "merged", "--out", str(tmp_path / "m"), "--cpu"], capsys)
    assert code == 0, err
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(str(tmp_path / "m"))
    assert merged.config.model_type == "qwen2"
    # a checkpoint too, and a refusal to write over what is there
    code, _, err = run_cli(["export", str(qwen_run), "--what", "adapter", "--checkpoint", "best", "--out",
                            str(tmp_path / "a")], capsys)
    assert code == 2 and "already exists and is not empty" in err


def test_gguf_prints_the_command_without_a_converter_and_runs_one_when_there(qwen_run, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LLAMA_CPP_DIR", raising=False)
    monkeypatch.setenv("FTUI_GGUF_CONVERTER", str(tmp_path / "missing.py"))
    code, _, err = run_cli(["export", str(qwen_run), "--what", "gguf", "--out", str(tmp_path / "g"), "--cpu"], capsys)
    assert code == 2
    assert "convert_hf_to_gguf.py was not found" in err
    assert f"convert_hf_to_gguf.py {tmp_path / 'g' / 'merged'} --outfile {tmp_path / 'g' / 'run.gguf'} --outtype f16" in err
    assert (tmp_path / "g" / "merged" / "config.json").is_file()  # the merge is kept for that command
    fake = tmp_path / "convert_hf_to_gguf.py"
    fake.write_text("import json, sys\nargs = sys.argv[1:]\n"
                    "open(args[args.index('--outfile') + 1], 'w').write(json.dumps(args))\n")
    monkeypatch.setenv("FTUI_GGUF_CONVERTER", str(fake))
    code, out, err = run_cli(["export", str(qwen_run), "--what", "gguf", "--out", str(tmp_path / "g2"), "--cpu"], capsys)
    assert code == 0, err
    written = json.loads(Path(out.strip()).read_text())
    assert written[0] == str(tmp_path / "g2" / "merged") and written[-2:] == ["--outtype", "f16"]


def test_chat_pipes_two_turns_and_streams_both_sides(qwen_run, capsys, monkeypatch):
    code, out, err = run_cli(["chat", str(qwen_run), "--max-new-tokens", "6"], capsys,
                             stdin="My invoice is wrong.\nThanks!\n/exit\nnot read\n", monkeypatch=monkeypatch)
    assert code == 0, err
    label = f"[run:{qwen_run.name}]"
    assert out.count(label) == 2 and out.count("[base]") == 2
    assert "not read" not in out
    assert "/reset starts over, /exit quits" in err


def test_chat_reply_is_what_evaluation_generates(qwen_run):
    """Same prompt format (chat_template.render_prompt), stop ids and greedy decoding as ftui eval."""
    from ftui.evaluate.chat import ChatSession, resolve_target
    from ftui.evaluate.generate import GenerationConfig

    target = resolve_target(str(qwen_run))
    session = ChatSession(target, device="cpu")
    assert session.base is session.tuned  # the base answers with the adapter switched off: loaded once
    config = GenerationConfig(max_new_tokens=12, batch_size=1)
    ask = [{"role": "user", "content": "My invoice is wrong."}]
    text = session.ask("tuned", ask[0]["content"], lambda _: None, config)
    assert text == session.tuned.generator.generate_batch([ask], config)[0]
    pieces: list[str] = []
    base_text = session.ask("base", ask[0]["content"], pieces.append, config)
    from ftui.evaluate.generate import LocalGenerator
    from ftui.evaluate.normalize import normalize_output
    from ftui.evaluate.systems import SystemSpec

    base = LocalGenerator(SystemSpec("base", target.base.model), device="cpu")
    assert base_text == base.generate_batch([ask], config)[0]
    assert len(pieces) > 1 and normalize_output("".join(pieces)) == base_text  # streamed piece by piece
    assert session.histories["base"][-2:] == [ask[0], {"role": "assistant", "content": base_text}]


def test_chat_and_export_refuse_unknown_runs_readably(runs_dir, capsys, monkeypatch):
    code, _, err = run_cli(["chat", "nope"], capsys, stdin="", monkeypatch=monkeypatch)
    assert code == 2 and err.startswith("ftui: cannot chat: no run 'nope'")
    code, _, err = run_cli(["export", "nope", "--what", "adapter"], capsys)
    assert code == 2 and "no run 'nope'" in err


def test_a_checkpoint_is_a_system_for_evaluation(qwen_run):
    from ftui.evaluate.systems import SystemError_, parse_system
    from ftui.train.checkpoints import list_checkpoints

    best = next(c for c in list_checkpoints(qwen_run) if c.best)
    spec = parse_system(f"run:{qwen_run}@checkpoint-{best.step}")
    assert spec.kind == "adapter" and spec.adapter == str(best.path)
    assert spec.label == f"run:{qwen_run.name}@checkpoint-{best.step}"
    assert parse_system(f"run:{qwen_run}@best").adapter == str(best.path)
    with pytest.raises(SystemError_, match="has no checkpoint-999"):
        parse_system(f"run:{qwen_run}@checkpoint-999")


def test_merge_a_checkpoint_from_the_cli(qwen_run, capsys):
    from ftui.train.checkpoints import list_checkpoints

    best = next(c for c in list_checkpoints(qwen_run) if c.best)
    code, out, err = run_cli(["merge", str(qwen_run), "--checkpoint", "best", "--cpu"], capsys)
    assert code == 0, err
    assert (qwen_run / f"merged-checkpoint-{best.step}" / "config.json").is_file()
    code, _, err = run_cli(["train", "--from-checkpoint", "2"], capsys)
    assert code == 2 and "--from-checkpoint needs --resume RUN" in err
