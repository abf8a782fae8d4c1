"""Read a run's curves the way an experienced practitioner does, and say what to change.

``diagnose(history)`` looks at a ``RunHistory`` (live or finished) and returns the
findings worth interrupting someone for, each with the usual fix:

- ``loss-nan``            loss or grad norm went NaN/inf (learning rate too high, fp16 overflow, bad rows)
- ``loss-zero``           training loss is exactly 0 (every label masked, or the data leaks the answer)
- ``loss-spikes``         sudden jumps in the loss (learning rate too high, bad rows)
- ``grad-explosion``      grad norm far above its usual level (learning rate too high)
- ``loss-flat``           loss has not moved since the start (learning rate too low, nothing trainable)
- ``overfitting``         eval loss rising while train loss falls (fewer epochs, more data, early stopping)
- ``throughput-collapse`` tokens/s fell far below its earlier level (memory pressure, other jobs, eval too often)
- ``memory-near-limit``   device memory close to the card's total
- ``memory-creep``        memory rising steadily; at this slope it reaches the limit before the end
- ``data-cut``            max_seq_len drops rows or cuts off >= 5% of the trained tokens (from the ``data`` event)

Preference runs (DPO, ORPO, KTO; their logs carry TRL's implicit rewards) also get:

- ``pref-chosen-falling`` the chosen answers' reward falls well below zero while the margin grows: the
                          ranking comes from making *both* answers less likely (likelihood displacement)
- ``pref-no-separation``  well into the run the model still does not tell chosen from rejected
- ``pref-too-easy``       every pair ranked right almost at once with a near-zero loss: probably a
                          shortcut (length, format) rather than quality

The thresholds are deliberately conservative: a healthy run must show nothing.
Pure Python, no Textual, no torch: cheap enough to run once a second on a live run.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from ftui.train.history import RunHistory, Series

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

# how many logged points before a finding about a trend is trusted
MIN_POINTS_FLAT = 20
MIN_POINTS_THROUGHPUT = 8
MIN_EVALS_OVERFIT = 3


@dataclass(frozen=True)
class Diagnosis:
    id: str
    severity: str  # "error" | "warning" | "info"
    title: str
    detail: str
    fix: str


def diagnose(history: RunHistory) -> list[Diagnosis]:
    """Every finding for this run, most severe first."""
    found: list[Diagnosis] = []
    for check in CHECKS:
        result = check(history)
        if result is not None:
            found.append(result)
    found.sort(key=lambda d: SEVERITY_ORDER.get(d.severity, 9))
    return found


# ---------------------------------------------------------------------- loss health
def check_nan(history: RunHistory) -> Diagnosis | None:
    for name, series in (("loss", history.loss), ("grad norm", history.grad_norm)):
        for step, value in zip(series.steps, series.values, strict=True):
            if not math.isfinite(value):
                return Diagnosis(
                    "loss-nan",
                    "error",
                    f"{name.capitalize()} became {_nan_word(value)} at step {step}",
                    "Training has diverged: the weights are no longer usable from this point on.",
                    "Lower the learning rate (÷3 to ÷10) and keep warm-up; prefer bf16 over fp16 "
                    "(fp16 overflows); look for bad rows (empty or huge examples) near that step.",
                )
    return None


def check_zero_loss(history: RunHistory) -> Diagnosis | None:
    values = history.loss.values
    if len(values) >= 5 and all(v == 0.0 for v in values[-5:]):
        return Diagnosis(
            "loss-zero",
            "error",
            "Training loss is exactly 0",
            "A loss of exactly zero means no token contributes to it.",
            "Check that the assistant answers are not all masked (the run log's 'loss masking:' line says "
            "which tokens train) and that the data has non-empty answers.",
        )
    return None


def check_spikes(history: RunHistory) -> Diagnosis | None:
    steps, values = history.loss.steps, history.loss.values
    window = 8
    spikes: list[int] = []
    for i in range(window, len(values)):
        value = values[i]
        if not math.isfinite(value):
            continue
        previous = [v for v in values[i - window : i] if math.isfinite(v)]
        if len(previous) < window // 2:
            continue
        base = statistics.median(previous)
        if value > 2.0 * base and value - base > 0.5:
            spikes.append(steps[i])
    if not spikes:
        return None
    where = ", ".join(str(s) for s in spikes[:5]) + (" …" if len(spikes) > 5 else "")
    return Diagnosis(
        "loss-spikes",
        "warning",
        f"Loss spiked {len(spikes)}× (step {where})",
        "The loss jumped to more than twice its recent level.",
        "Lower the learning rate or lengthen warm-up; inspect the rows of the batches at those steps "
        "for broken or extreme examples; keep gradient clipping on.",
    )


def check_grad_explosion(history: RunHistory) -> Diagnosis | None:
    values = [v for v in history.grad_norm.values if math.isfinite(v)]
    steps = [s for s, v in zip(history.grad_norm.steps, history.grad_norm.values, strict=True) if math.isfinite(v)]
    if len(values) < 6:
        return None
    for i in range(5, len(values)):
        base = statistics.median(values[:i])
        if base > 0 and values[i] > 10.0 * base and values[i] > 1.0:
            return Diagnosis(
                "grad-explosion",
                "warning",
                f"Gradient norm exploded at step {steps[i]} ({values[i]:.3g} vs usual {base:.3g})",
                "A gradient norm ten times its usual level usually precedes a loss spike or divergence.",
                "Lower the learning rate, keep gradient clipping (max_grad_norm 1.0), and check the batch's "
                "rows for extreme lengths or garbage.",
            )
    return None


def check_flat(history: RunHistory) -> Diagnosis | None:
    values = [v for v in history.loss.values if math.isfinite(v)]
    if len(values) < MIN_POINTS_FLAT:
        return None
    if history.progress is not None and history.progress < 0.15:
        return None  # too early to call
    k = max(3, len(values) // 10)
    head = statistics.fmean(values[:k])
    tail = statistics.fmean(values[-k:])
    if head <= 0:
        return None
    drop = (head - tail) / head
    if drop >= 0.02:
        return None
    return Diagnosis(
        "loss-flat",
        "warning",
        f"Loss flat since the start ({head:.3f} → {tail:.3f})",
        f"After {len(values)} logged steps the loss has dropped by {max(drop, 0) * 100:.1f}% only.",
        "Raise the learning rate (×3 to ×10; LoRA usually wants 1e-4–3e-4); check warm-up is not "
        "most of the run and that the LoRA targets include the linear layers.",
    )


def check_overfitting(history: RunHistory) -> Diagnosis | None:
    evals = [(s, v) for s, v in zip(history.eval_loss.steps, history.eval_loss.values, strict=True) if math.isfinite(v)]
    if len(evals) < MIN_EVALS_OVERFIT:
        return None
    best_step, best_value = min(evals, key=lambda sv: sv[1])
    last_step, last_value = evals[-1]
    if best_step == last_step or best_value <= 0:
        return None
    rise = (last_value - best_value) / best_value
    # rising for at least the last two evals, by a margin that noise rarely gives
    if rise < 0.05 or evals[-1][1] <= evals[-2][1]:
        return None
    train_then = _mean_loss_near(history, best_step)
    train_now = _mean_loss_near(history, last_step)
    if train_then is None or train_now is None or train_now >= train_then:
        return None
    checkpoint = history.checkpoint_at_or_before(best_step)
    best_epoch = _epoch_at(history, best_step)
    where = f"step {best_step}" + (f" (epoch {best_epoch:.2f})" if best_epoch is not None else "")
    keep = (
        f"the best checkpoint is {checkpoint.path} (step {checkpoint.step})"
        if checkpoint is not None
        else "no checkpoint was saved at or before it: save more often (lower save_steps)"
    )
    return Diagnosis(
        "overfitting",
        "warning",
        f"Overfitting: eval loss up {rise * 100:.0f}% since {where}",
        f"Eval loss was lowest ({best_value:.3f}) at {where} and is {last_value:.3f} now, while training "
        f"loss kept falling ({train_then:.3f} → {train_now:.3f}); {keep}.",
        "Train fewer epochs (stop near the best step), add more or more varied data, or turn on early "
        "stopping (early_stopping_patience) to stop there. With eval data the best checkpoint is kept and "
        "becomes the run's adapter (the last step's is in adapter-last/).",
    )


# ---------------------------------------------------------------------- speed and memory
def check_throughput(history: RunHistory) -> Diagnosis | None:
    values = [v for v in history.tokens_per_s.values if v is not None and math.isfinite(v) and v > 0]
    if len(values) < MIN_POINTS_THROUGHPUT:
        return None
    warm = values[max(1, len(values) // 10) :]  # the first steps include compilation and caching
    recent = warm[-max(3, len(warm) // 5) :]
    earlier = warm[: -len(recent)]
    if len(earlier) < 3:
        return None
    before = statistics.median(earlier)
    now = statistics.median(recent)
    if before <= 0 or now >= 0.5 * before:
        return None
    return Diagnosis(
        "throughput-collapse",
        "warning",
        f"Throughput fell to {now:,.0f} tokens/s (was {before:,.0f})",
        f"Recent steps run at {now / before * 100:.0f}% of the earlier speed.",
        "Usually memory pressure (swapping, paged optimizer spilling to host), another job on the "
        "same GPU, or thermal throttling: check nvidia-smi; also evaluating or saving too often.",
    )


def check_memory(history: RunHistory) -> Diagnosis | None:
    limit = history.memory_limit_bytes()
    points = [(p, _used(p)) for p in history.memory]
    points = [(p, u) for p, u in points if u is not None]
    if not limit or len(points) < 2:
        return None
    used_now = points[-1][1]
    fraction = used_now / limit
    if fraction >= 0.92:
        return Diagnosis(
            "memory-near-limit",
            "error" if fraction >= 0.97 else "warning",
            f"Memory at {fraction * 100:.0f}% of the device ({_gb(used_now)} of {_gb(limit)})",
            "An out-of-memory error is one long batch away.",
            "Halve micro_batch_size and double grad_accum (same effective batch), keep gradient "
            "checkpointing on, shorten max_seq_len, or use an 8-bit optimizer / QLoRA.",
        )
    return _memory_creep(history, points, limit)


def _memory_creep(history: RunHistory, points: list, limit: int) -> Diagnosis | None:
    half = points[len(points) // 2 :]
    with_steps = [(p.step, u) for p, u in half if p.step is not None]
    if len(with_steps) < 6 or not history.total_steps:
        return None
    xs = [float(s) for s, _ in with_steps]
    ys = [float(u) for _, u in with_steps]
    slope = _slope(xs, ys)
    if slope is None or slope <= 0:
        return None
    rise = ys[-1] - ys[0]
    if rise < 0.03 * limit:
        return None  # noise, not creep
    projected = ys[-1] + slope * max(0, history.total_steps - with_steps[-1][0])
    if projected < 0.97 * limit:
        return None
    return Diagnosis(
        "memory-creep",
        "warning",
        f"Memory creeping up: about {_gb(projected)} by the end, the device has {_gb(limit)}",
        f"Memory grew {_gb(rise)} over the last {len(with_steps)} samples and keeps rising.",
        "Something accumulates: evaluation predictions kept in memory (eval_accumulation_steps), "
        "growing sequence lengths, or fragmentation (PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True).",
    )


# ---------------------------------------------------------------------- data
DATA_LOST_SHARE = 0.05


def check_data_cut(history: RunHistory) -> Diagnosis | None:
    """Rows the trainer dropped, or a large share of trained tokens truncation cut off."""
    account = history.data_accounting.get("train")
    if account is None:
        return None
    lost = account.trained_tokens_lost or 0
    share = lost / account.trained_tokens_in if account.trained_tokens_in else 0.0
    if not account.dropped and share < DATA_LOST_SHARE:
        return None
    parts = []
    if account.dropped:
        parts.append(f"{account.dropped:,} of {account.rows_in:,} rows train on nothing")
    if account.truncated:
        parts.append(f"{account.truncated:,} rows are cut")
    longest = f" (the longest row has {account.longest:,} tokens)" if account.longest else ""
    return Diagnosis(
        "data-cut",
        "warning",
        f"max_seq_len {account.max_seq_len} cuts the data: " + ", ".join(parts),
        f"{lost:,} of {account.trained_tokens_in or 0:,} trained tokens ({share * 100:.1f}%) lie past "
        f"max_seq_len and are never learnt; dropped rows had all of theirs there.",
        f"Raise max_seq_len{longest} if memory allows, or shorten or split the long rows "
        "(ftui lint lists them); packing does not recover cut tokens.",
    )


# ---------------------------------------------------------------------- helpers
def _used(point) -> int | None:  # noqa: ANN001 - MemoryPoint
    # the interval peak first: a step-end sample sees the memory after the activations are freed
    candidates = [v for v in (point.device_used, point.peak_reserved, point.reserved, point.allocated) if v]
    return max(candidates) if candidates else None


def _slope(xs: list[float], ys: list[float]) -> float | None:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def _mean_loss_near(history: RunHistory, step: int, window: int = 5) -> float | None:
    near = [
        v
        for s, v in zip(history.loss.steps, history.loss.values, strict=True)
        if s <= step and math.isfinite(v)
    ][-window:]
    return statistics.fmean(near) if near else None


def _epoch_at(history: RunHistory, step: int) -> float | None:
    for s, e in zip(history.eval_loss.steps, history.eval_loss.epochs, strict=True):
        if s == step:
            return e
    return None


def _nan_word(value: float) -> str:
    return "NaN" if math.isnan(value) else "infinite"


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


# ---------------------------------------------------------------------- preference runs
PREF_MIN_POINTS = 12
CHOSEN_FLOOR = -1.0  # the chosen reward's tail mean below this (beta-scaled log-prob lost vs the reference)
NO_SEPARATION_ACC = 0.55
TOO_EASY_ACC = 0.98
TOO_EASY_LOSS = 0.05


def _tail(series: Series, share: float = 0.2) -> list[float]:
    values = [v for v in series.values if math.isfinite(v)]
    k = max(3, int(len(values) * share))
    return values[-k:]


def _head(series: Series, share: float = 0.2) -> list[float]:
    values = [v for v in series.values if math.isfinite(v)]
    return values[: max(3, int(len(values) * share))]


def check_chosen_falling(history: RunHistory) -> Diagnosis | None:
    chosen, margin = history.rewards_chosen, history.rewards_margin
    if len(chosen) < PREF_MIN_POINTS or len(margin) < PREF_MIN_POINTS:
        return None
    tail_chosen, tail_margin = statistics.fmean(_tail(chosen)), statistics.fmean(_tail(margin))
    if tail_chosen >= CHOSEN_FLOOR or tail_margin <= 0 or tail_chosen >= statistics.fmean(_head(chosen)):
        return None
    return Diagnosis(
        "pref-chosen-falling", "warning",
        f"Chosen answers are getting less likely (reward {tail_chosen:+.2f}, margin {tail_margin:+.2f})",
        "The margin grows because both answers lose probability, the rejected ones faster: the model "
        "drifts away from the chosen answers too, which often hurts what it generates.",
        "Lower the learning rate or raise beta; or keep an SFT term on the chosen answers "
        "(extra: {loss_type: [sigmoid, sft]}), or use method: orpo, which always has one.",
    )


def check_no_separation(history: RunHistory) -> Diagnosis | None:
    acc = history.rewards_accuracy
    if len(acc) < PREF_MIN_POINTS * 2 or (history.progress is not None and history.progress < 0.3):
        return None
    tail_acc = statistics.fmean(_tail(acc, 0.3))
    tail_margin = statistics.fmean(_tail(history.rewards_margin, 0.3)) if history.rewards_margin else 0.0
    if tail_acc > NO_SEPARATION_ACC or tail_margin > 0.05:
        return None
    return Diagnosis(
        "pref-no-separation", "warning",
        f"The model does not tell chosen from rejected (accuracy {tail_acc:.0%}, margin {tail_margin:+.3f})",
        f"After {len(acc)} logged steps the chosen answer wins about as often as a coin flip.",
        "Raise the learning rate (LoRA preference runs use ~5e-5 to 5e-4); check the pairs with 'ftui lint' "
        "(identical sides, pairs that contradict each other, chosen/rejected swapped).",
    )


def check_too_easy(history: RunHistory) -> Diagnosis | None:
    acc, loss = history.rewards_accuracy, history.loss
    if len(acc) < PREF_MIN_POINTS or history.total_steps is None:
        return None
    early = [v for s, v in zip(acc.steps, acc.values, strict=True) if s <= max(PREF_MIN_POINTS, history.total_steps // 5)]
    if len(early) < PREF_MIN_POINTS or statistics.fmean(early[-5:]) < TOO_EASY_ACC:
        return None
    if statistics.fmean(_tail(loss)) > TOO_EASY_LOSS:
        return None
    return Diagnosis(
        "pref-too-easy", "info",
        "Every pair is ranked right almost at once",
        "Pairs this easy usually differ by something a shortcut can see (length, format, a phrase) "
        "rather than by quality; the model learns the shortcut.",
        "Check the length bias and near-identical pairs in 'ftui lint'; mix in harder pairs.",
    )


CHECKS = (
    check_nan,
    check_zero_loss,
    check_spikes,
    check_grad_explosion,
    check_flat,
    check_overfitting,
    check_throughput,
    check_memory,
    check_data_cut,
    check_chosen_falling,
    check_no_separation,
    check_too_easy,
)
