"""Rich renderables for the Plan screen: the question, the outcome card, the memory breakdown, the costs.

Pure functions of advisor objects, so the screen stays small and tests can check the
text without running an app. Only our own tree text and numbers are rendered; the one
user-given string (a model name or path) goes through ``one_line`` into a ``Text``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ftui.advisor.tree import Outcome, Walker
from ftui.textsafe import one_line
from ftui.tui.widgets.hanging import hanging

if TYPE_CHECKING:  # pragma: no cover
    from ftui.advisor.vram import Estimate, Fix

COMPONENT_STYLES = {
    "weights": "#5f87d7",
    "trainable": "#af87ff",
    "gradients": "#d7af5f",
    "optimizer": "#d75f5f",
    "activations": "#5fafaf",
    "logits": "#87af5f",
    "overhead": "#808080",
}
SHORT_LABELS = {
    "weights": "Weights",
    "trainable": "Adapters",
    "gradients": "Gradients",
    "optimizer": "Optimizer",
    "activations": "Activations",
    "logits": "Logits",
    "overhead": "Overhead",
}


def render_question(walker: Walker) -> RenderableType:
    q = walker.question
    assert q is not None
    text = Text()
    text.append(f"Question {walker.depth}\n", style="dim")
    text.append(q.question + "\n", style="bold")
    if q.help:
        text.append(q.help + "\n", style="italic dim")
    # an answer's wrapped lines start under the answer, right of its key
    options = hanging([row for opt in q.options
                       for row in ((Text.assemble((f" {opt.key} ", "bold reverse"), " "), Text(opt.label)), ("", ""))])
    tail = Text()
    if walker.steps:
        tail.append("So far: ", style="dim")
        tail.append(" › ".join(s.option.label.split(":")[0] for s in walker.steps) + "\n", style="dim")
    tail.append("\nPress a key to answer · b/Esc back · r restart", style="dim")
    return Group(text, options, tail)


def _section(text: Text, title: str) -> None:
    text.append(f"\n{title}\n", style="bold underline")


def render_outcome(outcome: Outcome, walker: Walker | None = None) -> RenderableType:
    text = Text()
    text.append(outcome.title + "\n", style="bold #5fd7ff")
    if walker is not None:
        text.append(f"after {len(walker.steps)} answers\n", style="dim")
    text.append("\n")
    text.append(outcome.recommendation + "\n", style="bold")
    _section(text, "Why")
    text.append(outcome.why + "\n")
    _section(text, "Next steps")
    text.rstrip()  # the list follows on the next line, not after a blank one
    # list items wrap under their text, right of their number or mark
    steps = hanging([(Text(f" {n}. ", style="bold"), Text(step)) for n, step in enumerate(outcome.next_steps, 1)])
    blocks: list[RenderableType] = [text, steps]
    text = Text()
    blocks.append(text)
    _section(text, "Data")
    text.append(outcome.data_size + "\n")
    _section(text, "Method")
    text.append(outcome.method_label + "\n")
    hp = outcome.hyperparameters
    parts = []
    if "lora_r" in hp:
        parts.append(f"r={hp['lora_r']} alpha={hp.get('lora_alpha')} dropout={hp.get('lora_dropout')}")
    if "target_modules" in hp:
        parts.append(f"targets={hp['target_modules']}")
    if "learning_rate" in hp:
        parts.append(f"lr={hp['learning_rate']:g}")
    if "num_epochs" in hp:
        parts.append(f"epochs={hp['num_epochs']:g}")
    text.append(" · ".join(parts) + "\n", style="#d7af5f")
    if outcome.hyperparameters_note:
        text.append(outcome.hyperparameters_note + "\n", style="italic dim")
    _section(text, "Risks")
    text.rstrip()
    blocks.append(hanging([(Text(" ! ", style="bold #d78700"), Text(risk)) for risk in outcome.risks]))
    text = Text()
    blocks.append(text)
    if outcome.template:
        _section(text, "Few-shot template")
        text.append(outcome.template.rstrip() + "\n", style="dim")
    if outcome.break_even:
        text.append("\nSee the Cost tab (c) for the break-even.\n", style="italic")
    text.append("\nu use this plan · w save record · b back · r restart", style="dim")
    return Group(*blocks)


def _bar(value: float, scale: float, width: int, style: str) -> Text:
    cells = 0.0 if scale <= 0 else value / scale * width
    full = int(cells)
    bar = "█" * full + ("▌" if cells - full >= 0.5 else "")
    if value > 0 and not bar:
        bar = "▏"
    return Text(bar, style=style)


def render_breakdown(est: Estimate, gpu_label: str | None, bar_width: int = 26) -> RenderableType:
    """Component | GB | bar, then the total against the GPU, then the verdict."""
    total = est.total_gb
    gpu_gb = est.gpu_gb
    scale = max(total, gpu_gb or 0.0)
    table = Table(box=None, show_header=True, header_style="dim", pad_edge=False, padding=(0, 1), expand=False)
    table.add_column("component", no_wrap=True)
    table.add_column("GB", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for key, value in est.breakdown.items():
        gb = value / 1e9
        table.add_row(Text(SHORT_LABELS[key]), f"{gb:.2f}", _bar(gb, scale, bar_width, COMPONENT_STYLES[key]))
    fits = est.fits
    total_style = "bold" if fits is None else ("bold #5fd75f" if fits else "bold #ff5f5f")
    table.add_row(Text("Total", style="bold"), Text(f"{total:.2f}", style=total_style),
                  _bar(total, scale, bar_width, total_style))
    if gpu_gb is not None:
        table.add_row(Text("GPU", style="dim"), Text(f"{gpu_gb:.1f}", style="dim"),
                      _bar(gpu_gb, scale, bar_width, "#808080"))
    if fits is None:
        badge = (" ? ", "bold reverse")
        verdict = Text("no GPU size: type the GPU's GB to check the fit")
    elif fits:
        badge = (" FITS ", "bold reverse #5fd75f")
        verdict = Text(f"{total:.1f} of {gpu_gb:g} GB ({total / gpu_gb:.0%})")
    else:
        badge = (" DOES NOT FIT ", "bold reverse #ff5f5f")
        verdict = Text(f"needs {total:.1f} GB, GPU has {gpu_gb:g} GB")
    if gpu_label:
        verdict.append(f" · {gpu_label}", style="dim")
    # the wrapped lines start under the verdict, right of the badge
    return Group(table, hanging([(Text.assemble(badge, " "), verdict)]))


def render_fix(est: Estimate, fix: Fix | None) -> RenderableType:
    text = Text()
    if est.fits is not False:
        if est.notes:
            text.append("Note: " + "; ".join(est.notes), style="dim")
        return text
    if fix is None:
        text.append("Nothing fits this GPU", style="bold #ff5f5f")
        text.append(" even as QLoRA r=4, batch 1, seq 256: pick a smaller model, a bigger GPU, or several GPUs.")
        return text
    text.append("Cheapest fix: ", style="bold #d7af5f")
    text.append("; ".join(c.says for c in fix.changes))
    text.append(f"  → {fix.estimate.total_gb:.1f} GB", style="bold")
    text.append("  (f applies it)", style="dim")
    return text


def render_model_line(est: Estimate, label: str) -> Text:
    from ftui.advisor.architectures import format_params

    a = est.arch
    text = Text()
    text.append(one_line(label, 60), style="bold")
    text.append(f" · {format_params(a.n_params)} params · h {a.hidden_size} · {a.num_layers} layers · "
                f"{a.num_heads}/{a.num_kv_heads} heads · vocab {a.vocab_size:,}", style="dim")
    if est.setup.method != "full":
        text.append(f" · {est.trainable_params / 1e6:.1f}M trainable", style="dim")
    from ftui.advisor.vram import weights_basis

    text.append(f"\n{weights_basis(est.setup)} · grad ckpt {'on' if est.setup.grad_checkpointing else 'off'}"
                f" · loss {est.setup.loss}")
    return text


def render_cost(lines: list[tuple[str, str, str]]) -> RenderableType:
    """Rows of (label, value, detail)."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(justify="right", no_wrap=True, style="#5fd7ff")
    table.add_column(style="dim")
    for label, value, detail in lines:
        table.add_row(Text(label), Text(value), Text(detail))
    return table
