"""LLM-as-judge through any OpenAI-compatible endpoint: pairwise, both orders, resumable.

Judges prefer whatever is shown first (or second) more often than chance, so every pair
is judged twice with the answers swapped. A pair whose two verdicts disagree counts as a
tie (``consistent=False``); only a preference that survives the swap counts as a win. A
reply without a readable verdict is a *parse failure*, counted on its own (never as a tie),
and is asked again on the next run.

What the judge sees: the whole conversation (system instructions and every turn, not only
the last user message: for support tickets the instructions live in the system prompt) and
the reference answer when there is one. The prompt is a template file (default
``judge_prompt.md`` next to this module; pass your own with ``--judge-template``).
Placeholders: ``{prompt}`` (the conversation), ``{reference}``, ``{output_1}``, ``{output_2}``;
they are substituted in one pass, so an answer containing ``{output_2}`` cannot inject text.
The judge must end with ``Verdict: 1``, ``Verdict: 2`` or ``Verdict: tie``.

Resuming: every single-order verdict is appended (flushed and fsynced) to a ``VerdictCache``
keyed by (item, order, judge model, prompt hash); a rerun reuses what is there and asks only
the rest, so an interrupted run or an endpoint error loses nothing already judged. Requests run
``concurrency`` at a time. ``estimate`` gives the token count (≈ 4 characters per token) and,
with prices, the cost before a run starts.

Agreement with the human votes of a blind session is Cohen's κ over the side-free categories
a / b / tie (human both-bad, skip and identical votes and judge parse failures are left out),
with the confusion table (``agreement_with_humans``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
CHARS_PER_TOKEN = 4  # the estimate's rule of thumb (English and code; more tokens per char in CJK)
VERDICTS = ("a", "b", "tie")
FAILED = "failed"
MAX_ERRORS = 5  # endpoint errors after which a run stops (the endpoint is probably down)
SESSION_JUDGE_FILE = "judge/verdicts.jsonl"  # a session's judge verdicts (``ftui eval judge --session``)


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


def conversation_text(item: EvalItem) -> str:
    """What ``{prompt}`` becomes: the whole conversation. A lone user message is shown as it is;
    otherwise every turn is headed by its role (``[system]``, ``[user]``, ``[assistant]``)."""
    messages = [m for m in item.messages if m.get("content")]
    if len(messages) == 1 and messages[0].get("role") == "user":
        return messages[0]["content"]
    return "\n\n".join(f"[{m.get('role', 'user')}]\n{m['content']}" for m in messages)


def parse_verdict(text: str) -> str | None:
    """'1', '2' or 'tie' from the judge's reply (the last ``Verdict:`` line wins); None if absent."""
    found = _VERDICT.findall(text or "")
    if found:
        return found[-1].lower()
    bare = (text or "").strip().strip(".`*").lower()
    return bare if bare in ("1", "2", "tie") else None


def prompt_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:20]


@dataclass
class JudgeVerdict:
    item_id: str
    pair: tuple[str, str]  # (a, b)
    verdict: str  # "a", "b", "tie" after combining both orders, or "failed" (a reply without a verdict)
    a_first: str | None  # raw verdict with a shown as answer 1
    b_first: str | None  # raw verdict with b shown as answer 1
    consistent: bool
    model: str = ""


@dataclass
class JudgeResult:
    system_a: str
    system_b: str
    verdicts: list[JudgeVerdict] = field(default_factory=list)
    cancelled: bool = False
    errors: list[str] = field(default_factory=list)  # endpoint errors (those items are asked again next run)
    asked: int = 0  # requests sent in this run
    reused: int = 0  # single-order verdicts taken from the cache

    def summary(self) -> dict[str, Any]:
        """Win rate of b over a (Wilson CI) and the sign test, as for human votes; inconsistent pairs are
        ties; parse failures are their own count and left out of W/L/T."""
        wins = sum(1 for v in self.verdicts if v.verdict == "b")
        losses = sum(1 for v in self.verdicts if v.verdict == "a")
        ties = sum(1 for v in self.verdicts if v.verdict == "tie")
        return {
            "system_a": self.system_a, "system_b": self.system_b, "n": len(self.verdicts),
            "wins": wins, "losses": losses, "ties": ties,
            "inconsistent": sum(1 for v in self.verdicts if v.verdict == "tie" and not v.consistent),
            "parse_failures": sum(1 for v in self.verdicts if v.verdict == FAILED),
            "errors": len(self.errors), "asked": self.asked, "reused": self.reused, "cancelled": self.cancelled,
            "win_rate": S.proportion(wins, wins + losses).to_dict(),
            "sign_test_p": S.sign_test(wins, losses),
            "tie_half": S.tie_half_score(wins, losses, ties),
        }


def combine(a_first: str | None, b_first: str | None) -> tuple[str, bool]:
    """Map the two raw verdicts to a/b/tie. With a shown first, '1' means a; with b first, '1' means b.
    Either reply without a verdict -> ``"failed"`` (not a tie: nothing was judged)."""
    if a_first is None or b_first is None:
        return FAILED, False
    first = {"1": "a", "2": "b", "tie": "tie"}.get(a_first)
    second = {"1": "b", "2": "a", "tie": "tie"}.get(b_first)
    if first is not None and first == second:
        return first, True
    return "tie", False


class VerdictCache:
    """Append-only JSONL of single-order verdicts keyed by (item, order, judge model, prompt hash).

    Only parsed verdicts are stored (a parse failure or an endpoint error is asked again). Each line
    is flushed and fsynced before the verdict counts; a torn last line is ignored. Thread-safe."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data: dict[tuple[str, str, str, str], dict] = {}
        for rec in read_records(self.path):
            self._data[(rec["item_id"], rec["order"], rec["model"], rec["prompt_hash"])] = rec

    def get(self, item_id: str, order: str, model: str, phash: str) -> str | None:
        rec = self._data.get((item_id, order, model, phash))
        return rec["verdict"] if rec else None

    def put(self, rec: dict) -> None:
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            new = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            if new:
                from ftui.evaluate.fsutil import fsync_dir

                fsync_dir(self.path.parent)
            self._data[(rec["item_id"], rec["order"], rec["model"], rec["prompt_hash"])] = rec


def read_records(path: Path) -> list[dict]:
    """The cache's records (unreadable or torn lines skipped)."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
            if {"item_id", "order", "model", "prompt_hash", "verdict"} <= set(rec):
                out.append(rec)
        except ValueError:
            continue
    return out


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

    def content(self, item: EvalItem, output_1: str, output_2: str) -> str:
        return render(self.template, conversation_text(item), output_1, output_2, item.reference)

    def ask_content(self, content: str) -> str | None:
        """One request; the parsed verdict ('1', '2', 'tie') or None. JudgeError on an endpoint error."""
        import openai

        try:
            resp = self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": content}], temperature=0,
                max_tokens=self.max_tokens,
            )
        except openai.APIError as exc:
            from ftui.secrets import scrub_secrets  # a server may echo the Authorization header

            raise JudgeError(f"judge endpoint error: {scrub_secrets(str(exc))[:200]}") from None
        return parse_verdict(resp.choices[0].message.content or "")

    def ask(self, prompt: str, output_1: str, output_2: str, reference: str | None) -> str | None:
        return self.ask_content(render(self.template, prompt, output_1, output_2, reference))

    def judge_pair(self, item: EvalItem, pair: tuple[str, str], output_a: str, output_b: str,
                   cache: VerdictCache | None = None, counts: dict[str, int] | None = None) -> JudgeVerdict:
        """Both orders (each from the cache when there); JudgeError on an endpoint error."""
        raw: dict[str, str | None] = {}
        for order, (one, two) in (("ab", (output_a, output_b)), ("ba", (output_b, output_a))):
            content = self.content(item, one, two)
            phash = prompt_hash(content)
            cached = cache.get(item.id, order, self.model, phash) if cache is not None else None
            if cached is not None:
                raw[order] = cached
                if counts is not None:
                    counts["reused"] += 1
                continue
            if counts is not None:
                counts["asked"] += 1
            raw[order] = self.ask_content(content)
            if cache is not None and raw[order] is not None:
                cache.put({"item_id": item.id, "order": order, "model": self.model, "prompt_hash": phash,
                           "pair": list(pair), "verdict": raw[order]})
        verdict, consistent = combine(raw["ab"], raw["ba"])
        return JudgeVerdict(item.id, pair, verdict, raw["ab"], raw["ba"], consistent, self.model)


@dataclass
class JudgeEstimate:
    """Requests, tokens and (with prices) cost of a run, before it starts."""

    items: int
    requests: int  # requests still to send (cached ones excluded)
    cached: int
    prompt_tokens: int
    output_tokens: int  # upper bound: max_tokens per request
    cost: float | None  # in the prices' currency; None without prices

    def line(self) -> str:
        cost = "" if self.cost is None else f" · about {self.cost:.2f} (at the given prices)"
        return (f"judge estimate: {self.items} items · {self.requests} requests to send ({self.cached} cached) · "
                f"~{self.prompt_tokens:,} prompt tokens + up to {self.output_tokens:,} output tokens{cost}")


def _todo(items: Sequence[EvalItem], outputs: Mapping[str, Mapping[str, str]], a: str, b: str) -> list[EvalItem]:
    return [it for it in items if it.id in outputs[a] and it.id in outputs[b]]


def estimate(judge: Judge, items: Sequence[EvalItem], outputs: Mapping[str, Mapping[str, str]], system_a: str,
             system_b: str, cache: VerdictCache | None = None, price_in: float | None = None,
             price_out: float | None = None) -> JudgeEstimate:
    """Tokens ≈ characters / ``CHARS_PER_TOKEN`` of each rendered request; prices per million tokens."""
    todo = _todo(items, outputs, system_a, system_b)
    requests = cached = chars = 0
    for it in todo:
        oa, ob = outputs[system_a][it.id], outputs[system_b][it.id]
        for order, (one, two) in (("ab", (oa, ob)), ("ba", (ob, oa))):
            content = judge.content(it, one, two)
            if cache is not None and cache.get(it.id, order, judge.model, prompt_hash(content)) is not None:
                cached += 1
                continue
            requests += 1
            chars += len(content)
    prompt_tokens = -(-chars // CHARS_PER_TOKEN)
    output_tokens = requests * judge.max_tokens
    cost = None
    if price_in is not None or price_out is not None:
        cost = (prompt_tokens * (price_in or 0.0) + output_tokens * (price_out or 0.0)) / 1e6
    return JudgeEstimate(len(todo), requests, cached, prompt_tokens, output_tokens, cost)


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
    cache: VerdictCache | None = None,
    concurrency: int = 4,
    max_errors: int = MAX_ERRORS,
) -> JudgeResult:
    """Judge system_b against system_a on every item both answered, ``concurrency`` requests at a time.

    Checks ``cancel`` before each item; an endpoint error is recorded in ``errors`` and the run goes on
    (stopping after ``max_errors``). With a ``cache`` a rerun asks only what is missing. ``out_path``
    appends one JSON line per combined verdict."""
    result = JudgeResult(system_a, system_b)
    todo = _todo(items, outputs, system_a, system_b)
    counts = {"asked": 0, "reused": 0}
    lock = threading.Lock()
    done = [0]
    stop = Event()
    fh = open(out_path, "a", encoding="utf-8") if out_path else None  # noqa: SIM115
    found: dict[str, JudgeVerdict] = {}

    def one(it: EvalItem) -> None:
        if stop.is_set() or (cancel is not None and cancel.is_set()):
            return
        try:
            v = judge.judge_pair(it, (system_a, system_b), outputs[system_a][it.id], outputs[system_b][it.id],
                                 cache, counts)
        except JudgeError as exc:
            with lock:
                result.errors.append(f"{it.id}: {exc}")
                if len(result.errors) >= max_errors:
                    stop.set()
            return
        with lock:
            found[it.id] = v
            if fh is not None:
                fh.write(json.dumps(asdict(v)) + "\n")
                fh.flush()
            done[0] += 1
            n = done[0]
        if progress:
            progress(n, len(todo))

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            list(pool.map(one, todo))
    finally:
        if fh is not None:
            fh.close()
    result.verdicts = [found[it.id] for it in todo if it.id in found]
    result.cancelled = (cancel is not None and cancel.is_set()) or stop.is_set()
    result.asked, result.reused = counts["asked"], counts["reused"]
    return result


def verdicts_from_cache(records: Iterable[dict], items: Sequence[EvalItem] | None = None) -> dict[str, list[JudgeVerdict]]:
    """judge model -> combined verdicts rebuilt from cache records (the latest record per item, pair and
    order; items judged in one order only are left out)."""
    latest: dict[tuple[str, str, tuple[str, str], str], str] = {}
    for rec in records:
        pair = tuple(rec.get("pair") or ())
        if len(pair) != 2:
            continue
        latest[(rec["model"], rec["item_id"], pair, rec["order"])] = rec["verdict"]  # type: ignore[index]
    keep = None if items is None else {it.id for it in items}
    out: dict[str, list[JudgeVerdict]] = {}
    for (model, item_id, pair, order), raw in latest.items():
        if order != "ab" or (keep is not None and item_id not in keep):
            continue
        other = latest.get((model, item_id, pair, "ba"))
        if other is None:
            continue
        verdict, consistent = combine(raw, other)
        out.setdefault(model, []).append(JudgeVerdict(item_id, pair, verdict, raw, other, consistent, model))
    return out


def agreement_with_humans(verdicts: Sequence[JudgeVerdict], votes: Sequence[Any]) -> dict[str, Any]:
    """Cohen's κ and the confusion table between the judge and the human votes (``ab.VoteRecord``) on the
    same (item, pair).

    Categories a / b / tie in the pair's canonical order; when several humans rated one pair each
    of their votes is compared with the judge's. ``confusion[human][judge]`` counts; judge parse
    failures are counted in ``judge_failed`` and left out of κ."""
    by_key = {}
    for v in verdicts:
        by_key[(v.item_id, tuple(v.pair))] = v.verdict
        by_key[(v.item_id, tuple(reversed(v.pair)))] = {"a": "b", "b": "a"}.get(v.verdict, v.verdict)
    human, machine = [], []
    failed = 0
    for vote in votes:
        cat = vote.absolute()
        if cat not in VERDICTS:
            continue
        key = (vote.item_id, tuple(vote.pair))
        if key in by_key:
            if by_key[key] == FAILED:
                failed += 1
                continue
            human.append(cat)
            machine.append(by_key[key])
    agree = sum(1 for h, m in zip(human, machine, strict=True) if h == m)
    confusion = {h: {m: sum(1 for x, y in zip(human, machine, strict=True) if x == h and y == m) for m in VERDICTS}
                 for h in VERDICTS}
    return {
        "n": len(human),
        "agreement": agree / len(human) if human else None,
        "kappa": S.cohen_kappa(human, machine, VERDICTS) if human else None,
        "confusion": confusion,
        "judge_failed": failed,
    }
