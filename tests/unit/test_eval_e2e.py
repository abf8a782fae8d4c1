"""Done-when of the evaluate area, on CPU with the demo model: fine-tune on the sample tickets with
ftui's own training engine, generate base and fine-tuned outputs on the test split, and the
metrics show the fine-tuned system ahead with McNemar's p reported (through ``ftui eval metrics``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui import paths
from ftui.cli import main

pytestmark = pytest.mark.slow

TEST_ITEMS = 60


def test_finetuned_beats_base_on_the_ticket_test_split(demo_model: Path, runs_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from ftui.config import RunConfig
    from ftui.train.worker import start_run

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 1M-parameter model: more threads only add contention on a shared box
    try:
        config = RunConfig(
            model="demo", train_path=str(paths.sample_data("support_tickets_train.jsonl")), eval_path=None,
            eval_fraction=0.0, method="lora", lora_r=32, lora_alpha=64, lora_dropout=0.0, max_steps=20,
            learning_rate=3e-3, lr_scheduler="constant", warmup_ratio=0.0, micro_batch_size=16, max_seq_len=256,
            gradient_checkpointing=False, save_steps=10_000, eval_steps=10_000, logging_steps=5, precision="fp32",
        )
        worker = start_run(config)
        assert worker.join(timeout=240), "training did not finish in time"
        assert worker.result == "finished", worker.error
        assert (worker.run_dir / "adapter" / "adapter_config.json").is_file()

        code = main(["eval", "metrics", "--system", "base", "--system", f"tuned=run:{worker.run_id}",
                     "--test", str(paths.sample_data("support_tickets_test.jsonl")), "--limit", str(TEST_ITEMS),
                     "--max-new-tokens", "6", "--batch-size", "30", "--bootstrap", "300", "--json"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    base, tuned = data["systems"]["base"], data["systems"]["tuned"]
    cmp_ = data["comparisons"][0]
    print(f"base accuracy {base['accuracy']:.3f}, fine-tuned {tuned['accuracy']:.3f}, "
          f"McNemar p = {cmp_['mcnemar_p']:.3g}")
    assert data["task"] == "label" and base["n"] == tuned["n"] == TEST_ITEMS
    assert tuned["accuracy"] > base["accuracy"]
    assert tuned["macro_f1"] >= base["macro_f1"]
    assert cmp_["only_b_correct"] > cmp_["only_a_correct"]
    assert 0.0 <= cmp_["mcnemar_p"] < 0.05
    assert cmp_["accuracy_diff"]["low"] > 0
