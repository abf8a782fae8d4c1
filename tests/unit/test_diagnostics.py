"""Each diagnostic fires on the synthetic log that shows it, and a healthy run shows none."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ftui.train.diagnostics import diagnose
from ftui.train.events import Eval, Log, Started, read_events
from ftui.train.history import RunHistory, config_diff, format_duration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "train"


def history_of(name: str) -> RunHistory:
    return RunHistory.from_events(read_events(FIXTURES / f"{name}.jsonl"))


def ids(name: str) -> list[str]:
    return [d.id for d in diagnose(history_of(name))]


@pytest.mark.parametrize("name", ["healthy", "cpu", "compare_a", "compare_b", "live", "stopped"])
def test_healthy_logs_show_nothing(name: str) -> None:
    assert ids(name) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nan", "loss-nan"),
        ("spikes", "loss-spikes"),
        ("grad_explosion", "grad-explosion"),
        ("flat", "loss-flat"),
        ("overfit", "overfitting"),
        ("throughput", "throughput-collapse"),
        ("memory_limit", "memory-near-limit"),
        ("memory_creep", "memory-creep"),
        ("zero_loss", "loss-zero"),
    ],
)
def test_each_problem_is_found_alone(name: str, expected: str) -> None:
    assert ids(name) == [expected]


def test_nan_is_an_error_with_the_step_and_the_fix() -> None:
    (diag,) = diagnose(history_of("nan"))
    assert diag.severity == "error"
    assert "step 50" in diag.title
    assert "learning rate" in diag.fix.lower()


def test_zero_loss_is_an_error_that_points_at_the_masking() -> None:
    (diag,) = diagnose(history_of("zero_loss"))
    assert diag.severity == "error" and "exactly 0" in diag.title
    assert "assistant" in diag.fix and "'loss masking:' line" in diag.fix


@pytest.mark.parametrize(
    ("losses", "fires"),
    [([1.0] * 10 + [0.0] * 5, True), ([1.0] * 10 + [0.0] * 4, False), ([0.0] * 6 + [0.3], False),
     ([1.0] * 10 + [1e-9] * 5, False)],
    ids=["five-zeros-at-the-end", "four-zeros", "zeros-then-a-loss-again", "tiny-but-not-zero"],
)
def test_zero_loss_needs_the_last_five_losses_exactly_zero(losses: list[float], fires: bool) -> None:
    events = [Started(run_id="r", method="lora", model="demo", total_steps=1000, t=0.0)]
    events += [Log(step=i, loss=v, t=float(i)) for i, v in enumerate(losses, start=1)]
    assert ("loss-zero" in [d.id for d in diagnose(RunHistory.from_events(events))]) is fires


def test_overfitting_names_the_best_step_and_checkpoint() -> None:
    (diag,) = diagnose(history_of("overfit"))
    assert "step 40" in diag.title
    assert "checkpoints/checkpoint-40" in diag.detail
    assert "early stopping" in diag.fix


def test_flat_loss_waits_until_enough_of_the_run_is_done() -> None:
    events = [Started(run_id="r", method="lora", model="demo", total_steps=1000, t=0.0)]
    events += [Log(step=i, loss=2.3, t=float(i)) for i in range(1, 60)]
    assert [d.id for d in diagnose(RunHistory.from_events(events))] == []  # 6% done: too early
    events += [Log(step=i, loss=2.3, t=float(i)) for i in range(60, 200)]
    assert [d.id for d in diagnose(RunHistory.from_events(events))] == ["loss-flat"]


def test_overfitting_needs_train_loss_to_fall() -> None:
    # eval rising while train also rises is divergence, not overfitting
    events = [Started(run_id="r", method="lora", model="demo", total_steps=100, t=0.0)]
    for i in range(1, 101):
        events.append(Log(step=i, loss=1.0 + i / 100, t=float(i)))
        if i % 20 == 0:
            events.append(Eval(step=i, eval_loss=1.0 + (i / 100) ** 2, t=float(i)))
    assert "overfitting" not in [d.id for d in diagnose(RunHistory.from_events(events))]


def test_history_rebuilds_curves_progress_and_best_eval() -> None:
    h = history_of("healthy")
    assert h.status == "finished"
    assert len(h.loss) == 120 and h.last_step == 120 and h.progress == 1.0
    assert len(h.eval_loss) == 6
    step, value = h.best_eval()  # type: ignore[misc]
    assert step == 120 and value == min(h.eval_loss.values)
    assert h.last_checkpoint is not None and h.last_checkpoint.step == 120
    assert h.memory_source == "cuda" and h.memory_limit_bytes() == 24_000_000_000
    assert h.loss.xs("epoch")[-1] == pytest.approx(3.0)


def test_live_history_has_an_eta_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_bytes((FIXTURES / "live.jsonl").read_bytes() + b'{"type": "log", "step": 71, "lo')
    h = RunHistory.from_events(read_events(log))
    assert h.status == "running" and h.last_step == 70
    assert h.eta_s() == pytest.approx((120 - 70) * 0.5, rel=0.01)


def test_failed_history_keeps_message_and_hint() -> None:
    h = history_of("failed")
    assert h.status == "failed"
    assert "out of memory" in h.terminal.message  # type: ignore[union-attr]
    assert "micro_batch_size" in h.terminal.hint  # type: ignore[union-attr]


def test_config_diff_lists_only_differences_in_order() -> None:
    a = {"model": "demo", "learning_rate": 2e-4, "lora_r": 16, "seed": 1}
    b = {"model": "demo", "learning_rate": 5e-5, "lora_r": 16}
    assert config_diff([a, b]) == [("learning_rate", [2e-4, 5e-5]), ("seed", [1, None])]
    assert config_diff([a, dict(a)]) == []


def test_format_duration() -> None:
    assert format_duration(42) == "42s"
    assert format_duration(185) == "3m 05s"
    assert format_duration(2 * 3600 + 14 * 60) == "2h 14m"
    assert format_duration(None) == "—" and format_duration(math.nan) == "—"
