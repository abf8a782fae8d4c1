"""The decision record: a short Markdown file with the answers, the outcome and the reasoning.

Teams revisit "why did we fine-tune?" months later; the record answers it without
anyone re-running the wizard. Only our own tree text and numbers go in, plus the
model name the user typed (written as inline code so Markdown cannot reinterpret it).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ftui.advisor.architectures import format_params
from ftui.advisor.tree import Walker
from ftui.advisor.vram import COMPONENT_LABELS, Estimate


def _code(text: str) -> str:
    return "`" + str(text).replace("`", "'").replace("\n", " ") + "`"


def render_record(walker: Walker, estimate: Estimate | None = None, now: datetime | None = None,
                  extra: list[str] | None = None) -> str:
    """Markdown for the walk so far (answers, outcome if reached, memory estimate if given)."""
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Fine-tuning decision record", "", f"Written by ftui on {when}.", "", "## Answers", ""]
    if not walker.steps:
        lines.append("_No questions answered yet._")
    for n, step in enumerate(walker.steps, 1):
        lines.append(f"{n}. **{step.question.question}**  ")
        lines.append(f"   -> {step.option.label} (`{step.option.key}`)")
    lines.append("")
    outcome = walker.outcome
    if outcome is None:
        q = walker.question
        lines += ["## Outcome", "", f"_Not reached yet; next question: {q.question if q else '-'}_", ""]
    else:
        lines += [f"## Outcome: {outcome.title}", "", f"**Recommendation.** {outcome.recommendation}", "",
                  f"**Why.** {outcome.why}", "", "**Next steps.**", ""]
        lines += [f"{i}. {s}" for i, s in enumerate(outcome.next_steps, 1)]
        lines += ["", f"**Typical data size.** {outcome.data_size}", "", f"**Method.** {outcome.method_label}", ""]
        hp = ", ".join(f"{k}={v}" for k, v in outcome.hyperparameters.items())
        lines += [f"**Starting hyperparameters.** {hp}"]
        if outcome.hyperparameters_note:
            lines += ["", f"_{outcome.hyperparameters_note}_"]
        lines += ["", "**Risks to watch.**", ""] + [f"- {r}" for r in outcome.risks] + [""]
        if outcome.template:
            lines += ["**Few-shot template.**", "", "```text", outcome.template.rstrip(), "```", ""]
    if estimate is not None:
        s = estimate.setup
        lines += ["## Memory estimate", "",
                  f"Model {_code(estimate.arch.name)} ({format_params(estimate.arch.n_params)} params), method {s.method}, "
                  f"seq len {s.seq_len}, micro-batch {s.micro_batch}, gradient checkpointing "
                  f"{'on' if s.grad_checkpointing else 'off'}, optimizer {s.optimizer}, precision {s.precision}"
                  + (f", LoRA r={s.lora_r}" if s.method != "full" else "") + ".", "",
                  "| component | GB |", "|---|---:|"]
        for key, value in estimate.breakdown.items():
            lines.append(f"| {COMPONENT_LABELS[key]} | {value / 1e9:.2f} |")
        lines.append(f"| **total** | **{estimate.total_gb:.2f}** |")
        if estimate.gpu_gb is not None:
            verdict = "fits" if estimate.fits else "does NOT fit"
            lines += ["", f"On a {estimate.gpu_gb:g} GB GPU: {verdict}."]
        lines.append("")
    if extra:
        lines += extra + [""]
    return "\n".join(lines)


def default_record_path(directory: Path | None = None, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return (directory or Path.cwd()) / f"ftui-decision-{stamp}.md"


def save_record(text: str, path: Path | None = None) -> Path:
    """Write the record to ``path`` (default: the cwd, else the ftui home if the cwd is read-only)."""
    import os

    from ftui import paths

    target = path or default_record_path()
    if path is None and not os.access(target.parent, os.W_OK):
        home = paths.home_dir()
        home.mkdir(parents=True, exist_ok=True)
        target = default_record_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
