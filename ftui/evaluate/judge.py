"""LLM-as-judge through any OpenAI-compatible endpoint: pairwise, both orders.

Judges prefer whatever is shown first (or second) more often than chance, so every pair
is judged twice with the answers swapped. A pair whose two verdicts disagree counts as a
tie (``consistent=False``); only a preference that survives the swap counts as a win.

The prompt is a template file (default ``judge_prompt.md`` next to this module; pass
your own with ``--judge-template``). Placeholders: ``{prompt}``, ``{reference}``,
``{output_1}``, ``{output_2}``; they are substituted in one pass over the template, so an
answer that itself contains ``{output_2}`` cannot inject text. The judge must end with
``Verdict: 1``, ``Verdict: 2`` or ``Verdict: tie``.

Agreement with the human votes of a blind session is Cohen's κ over the side-free
categories a / b / tie (human both-bad, skip and identical votes are left out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from ftui.evaluate import stats as S
from ftui.evaluate.items import EvalItem
from ftui.evaluate.systems import openai_api_key

DEFAULT_TEMPLATE_PATH = Path(__file__).with_name("judge_prompt.md")
PLACEHOLDERS = ("prompt", "reference", "output_1", "output_2")
_PLACEHOLDER = re.compile(r"\{(prompt|reference|output_1|output_2)\}")
_VERDICT = re.compile(r"verdict\s*[:=]\s*\**\s*(1|2|tie)\b", re.IGNORECASE)


class JudgeError(ValueError):
    """The judge template or endpoint is unusable; the message has the fix."""


def load_template(path: str | Path | None = None) -> str:
    """Read a judge template and check it has the placeholders it must have."""
    p = Path(path).expanduser() if path else DEFAULT_TEMPLATE_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise JudgeError(f"cannot read judge template {p}: {exc.strerror or exc}") from None
    missing = [f"{{{name}}}" for name in ("prompt", "output_1", "output_2") if f"{{{name}}}" not in text]
    if missing:
        raise JudgeError(f"judge template {p.name} lacks {', '.join(missing)}; copy {DEFAULT_TEMPLATE_PATH} and edit it")
    return text


def render(template: str, prompt: str, output_1: str, output_2: str, reference: str | None = None) -> str:
    values = {"prompt": prompt, "reference": reference or "", "output_1": output_1, "output_2": output_2}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def parse_verdict(text: str) -> str | None:
    """'1', '2' or 'tie' from the judge's reply (the last ``Verdict:`` line wins); None if absent."""
    found = _VERDICT.findall(text or "")
    if found:
        return found[-1].lower()
    bare = (text or "").strip().strip(".`*").lower()
    return bare if bare in ("1", "2", "tie") else None


@dataclass
class JudgeVerdict:
    item_id: str
    pair: tuple[str, str]  # (a, b)
    verdict: str  # "a", "b" or "tie" after combining both orders
    a_first: str | None  # raw verdict with a shown as answer 1
    b_first: str | None  # raw verdict with b shown as answer 1
    consistent: bool


@dataclass
class JudgeResult:
    system_a: str
    system_b: str
    verdicts: list[JudgeVerdict] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> dict[str, Any]:
        """Win rate of b over a (Wilson CI) and the sign test, as for human votes; inconsistent pairs are ties."""
        wins = sum(1 for v in self.verdicts if v.verdict == "b")
        losses = sum(1 for v in self.verdicts if v.verdict == "a")
        ties = sum(1 for v in self.verdicts if v.verdict == "tie")
        return {
            "system_a": self.system_a, "system_b": self.system_b, "n": len(self.verdicts),
            "wins": wins, "losses": losses, "ties": ties,
            "inconsistent": sum(1 for v in self.verdicts if not v.consistent),
            "win_rate": S.proportion(wins, wins + losses).to_dict(),
            "sign_test_p": S.sign_test(wins, losses),
            "tie_half": S.tie_half_score(wins, losses, ties),
        }


def combine(a_first: str | None, b_first: str | None) -> tuple[str, bool]:
    """Map the two raw verdicts to a/b/tie. With a shown first, '1' means a; with b first, '1' means b."""
    first = {"1": "a", "2": "b", "tie": "tie"}.get(a_first or "")
    second = {"1": "b", "2": "a", "tie": "tie"}.get(b_first or "")
    if first is not None and first == second:
        return first, True
    return "tie", False


class Judge:
    """A judge model behind an OpenAI-compatible endpoint (key from ``OPENAI_API_KEY``)."""

    def __init__(self, model: str, base_url: str | None = None, template: str | None = None, client: Any = None,
                 max_tokens: int = 400) -> None:
        if client is None:
            import openai

            client = openai.OpenAI(base_url=base_url, api_key=openai_api_key(base_url), max_retries=2, timeout=120.0)
        self.client = client
        self.model = model
        self.template = template or load_template()
        self.max_tokens = max_tokens

    def ask(self, prompt: str, output_1: str, output_2: str, reference: str | None) -> str | None:
        import openai

        content = render(self.template, prompt, output_1, output_2, reference)
        try:
            resp = self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": content}], temperature=0,
                max_tokens=self.max_tokens,
            )
        except openai.APIError as exc:
            from ftui.secrets import scrub_secrets

            raise JudgeError(f"judge endpoint error: {scrub_secrets(str(exc))[:200]}") from None
        return parse_verdict(resp.choices[0].message.content or "")

    def judge_pair(self, item: EvalItem, pair: tuple[str, str], output_a: str, output_b: str) -> JudgeVerdict:
        a_first = self.ask(item.prompt_text, output_a, output_b, item.reference)
        b_first = self.ask(item.prompt_text, output_b, output_a, item.reference)
        verdict, consistent = combine(a_first, b_first)
        return JudgeVerdict(item.id, pair, verdict, a_first, b_first, consistent)


def run_judge(
    judge: Judge,
    items: Sequence[EvalItem],
    outputs: Mapping[str, Mapping[str, str]],
    system_a: str,
    system_b: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Event | None = None,
    out_path: str | Path | None = None,
) -> JudgeResult:
    """Judge system_b against system_a on every item both answered (in a worker thread: checks
    ``cancel`` between items). ``out_path`` appends one JSON line per verdict."""
    result = JudgeResult(system_a, system_b)
    todo = [it for it in items if it.id in outputs[system_a] and it.id in outputs[system_b]]
    fh = open(out_path, "a", encoding="utf-8") if out_path else None  # noqa: SIM115
    try:
        for n, it in enumerate(todo, 1):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            v = judge.judge_pair(it, (system_a, system_b), outputs[system_a][it.id], outputs[system_b][it.id])
            result.verdicts.append(v)
            if fh is not None:
                fh.write(json.dumps(asdict(v)) + "\n")
                fh.flush()
            if progress:
                progress(n, len(todo))
    finally:
        if fh is not None:
            fh.close()
    return result


def agreement_with_humans(verdicts: Sequence[JudgeVerdict], votes: Sequence[Any]) -> dict[str, Any]:
    """Cohen's κ between the judge and the human votes (``ab.VoteRecord``) on the same (item, pair).

    Categories a / b / tie in the pair's canonical order; when several humans rated one pair each
    of their votes is compared with the judge's."""
    by_key = {}
    for v in verdicts:
        by_key[(v.item_id, tuple(v.pair))] = v.verdict
        by_key[(v.item_id, tuple(reversed(v.pair)))] = {"a": "b", "b": "a"}.get(v.verdict, v.verdict)
    human, machine = [], []
    for vote in votes:
        cat = vote.absolute()
        if cat not in ("a", "b", "tie"):
            continue
        key = (vote.item_id, tuple(vote.pair))
        if key in by_key:
            human.append(cat)
            machine.append(by_key[key])
    agree = sum(1 for h, m in zip(human, machine, strict=True) if h == m)
    return {
        "n": len(human),
        "agreement": agree / len(human) if human else None,
        "kappa": S.cohen_kappa(human, machine, ("a", "b", "tie")) if human else None,
    }
