"""Which tokens carry the loss, decided from the tokenizer alone before any weights load.

TRL's ``assistant_only_loss`` needs ``{% generation %}`` markers in the chat template and
patches only the templates it knows; Llama 3.1, Mistral and most published templates have
none, and a base model has no template at all. Left to SFTTrainer, those runs fail after
the full model load. ``plan_masking`` picks one path per run instead:

- ``assistant_only``: the template has generation markers, or TRL has a training version of
  it (asked through TRL's own ``get_training_chat_template``) -> TRL ``assistant_only_loss``.
- ``prompt_completion``: a chat template without markers -> ftui renders every assistant turn
  as its own row: the prompt is the template's rendering of all messages before that turn
  (with the generation prompt, exactly what generation feeds the model), the completion is
  the reply plus the template's end-of-turn token. Each reply carries loss exactly once,
  the same tokens assistant-only loss would train. The rows go to TRL pre-tokenized
  (``input_ids`` + ``completion_mask``, ``completion_only_loss``), so TRL adds no second
  eos and no second bos, and nothing of the prompt is trained.
- ``base``: no chat template -> the same rows in a plain-text format (``BASE_FORMAT``), the
  completion ending with the tokenizer's eos so the model learns to stop.
- ``text``: plain ``text`` rows -> loss on every token.
- ``full``: ``assistant_only_loss: false`` -> loss on every token of each conversation.

System messages a template refuses (Gemma 2 raises) or drops are folded into the first
user turn, the Gemma 3 convention. ``masking_problem`` runs the same decision and converts
a sample of the data for ``ftui.train.preflight.validate``: a template problem is one
``ConfigProblem`` with its fix. Heavy imports (transformers, trl) are deferred.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftui.models.system_prompt import fold_system, template_takes_system

if TYPE_CHECKING:
    from ftui.config import ConfigProblem, RunConfig

ASSISTANT_ONLY = "assistant_only"
PROMPT_COMPLETION = "prompt_completion"
BASE = "base"
TEXT = "text"
FULL = "full"
PATHS = (ASSISTANT_ONLY, PROMPT_COMPLETION, BASE, TEXT, FULL)

SAMPLE_ROWS = 64  # rows of the training file validation renders through the plan
BASE_FORMAT = "### System:\n{system}\n\n### Instruction:\n{user}\n\n### Response:\n{assistant}"
_SYSTEM, _USER, _RESPONSE = "### System:\n", "### Instruction:\n", "### Response:\n"
_PROBE_USER = "ftui-probe-question-91c2"
_PROBE_REPLY = "ftui-probe-answer-4d8e"
_PROBE_CHAT = [
    {"role": "user", "content": _PROBE_USER},
    {"role": "assistant", "content": _PROBE_REPLY},
    {"role": "user", "content": _PROBE_USER + "-2"},
    {"role": "assistant", "content": _PROBE_REPLY + "-2"},
]


class MaskingError(Exception):
    """A template or tokenizer problem that stops training; ``message`` says what, ``fix`` what to do."""

    def __init__(self, message: str, fix: str, field: str = "model") -> None:
        super().__init__(f"{message}. {fix}")
        self.message = message
        self.fix = fix
        self.field = field


@dataclass(frozen=True)
class MaskingPlan:
    """The loss-masking path of a run, and why; ``record()`` goes into the run's record."""

    path: str  # one of PATHS
    reason: str  # why this path, in a sentence
    system: str = "native"  # "native" (template handles it) | "folded" (into the first user turn) | "flattened" (base format)
    system_note: str | None = None  # why system messages are folded, when they are
    end_of_turn: str | None = None  # the token each trained reply ends with (None: the template's own, via TRL)
    lead_in: str = ""  # text the template puts before a reply (Qwen3's empty think block): kept in the prompt, untrained
    training_template: str | None = None  # TRL's training version of the template (assistant_only on a known one)
    conversations: int | None = None  # conversations in the training data
    rows: int | None = None  # training rows after conversion (one per assistant turn on prompt_completion / base)

    @property
    def assistant_only_loss(self) -> bool:
        return self.path == ASSISTANT_ONLY

    @property
    def completion_only_loss(self) -> bool | None:
        """True for the pre-tokenized prompt/completion rows; None leaves TRL's own choice."""
        return True if self.path in (PROMPT_COMPLETION, BASE) else None

    def describe(self) -> str:
        """One line for the run log: the path, why, and what it cost in rows."""
        text = f"loss masking: {self.path}"
        if self.path in (PROMPT_COMPLETION, BASE) and self.rows is not None and self.conversations is not None:
            text += f", {self.rows:,} rows from {self.conversations:,} conversations"  # the cost first: lines get cut
        text += f" ({self.reason})"
        if self.end_of_turn and self.path in (PROMPT_COMPLETION, BASE):
            text += f"; each reply trained with its end token {self.end_of_turn}"
        if self.system_note:
            text += f"; {self.system_note}"
        return text

    def record(self) -> dict[str, Any]:
        """JSON-ready summary for run.json and the ``started`` event (the training template left out)."""
        data = asdict(self)
        data.pop("training_template")
        data["trl_training_template"] = self.training_template is not None
        data["assistant_only_loss"] = self.assistant_only_loss
        data["completion_only_loss"] = bool(self.completion_only_loss)
        return {k: v for k, v in data.items() if v not in (None, "")}


# ---------------------------------------------------------------------------------------------
# Tokenizer and template helpers
# ---------------------------------------------------------------------------------------------


def load_tokenizer(model: str) -> Any:
    """The tokenizer of ``model`` (a directory, a cached Hub id, or "demo"); no weights are read."""
    from transformers import AutoTokenizer

    from ftui.models.source import resolve_model

    try:
        path = resolve_model(model)
        return AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - OSError, ValueError, hub errors: one readable line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MaskingError(f"cannot load the tokenizer of '{model}': {first[:200]}",
                           "Give a model directory with tokenizer files (tokenizer.json / tokenizer_config.json).") from None


def chat_template_of(tokenizer: Any) -> str | None:
    """The tokenizer's chat template as a string (the ``default`` one of named variants), or None."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default") or next(iter(template.values()), None)
    return template if isinstance(template, str) and template.strip() else None


def has_generation_markers(template: str) -> bool:
    """TRL's own test for ``{% generation %}`` markers (whitespace-trim variants included)."""
    import re

    return re.search(r"\{%-?\s*generation\s*-?%\}", template) is not None


def _render(tokenizer: Any, messages: list[dict], *, generation_prompt: bool, template: str | None = None) -> str:
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": generation_prompt}
    if template is not None:
        kwargs["chat_template"] = template
    text = tokenizer.apply_chat_template(messages, **kwargs)
    return text if isinstance(text, str) else str(text)


def _added_tokens(tokenizer: Any) -> list[str]:
    """Special and added token texts, longest first (turn markers, eos, ...)."""
    names: set[str] = set(getattr(tokenizer, "all_special_tokens", []) or [])
    try:
        names.update(str(t) for t in tokenizer.get_added_vocab())
    except Exception:  # noqa: BLE001 - a tokenizer without added vocab still has its special tokens
        pass
    return sorted((n for n in names if n), key=len, reverse=True)


def _first_token(text: str, tokens: list[str]) -> tuple[int, str] | None:
    """Where the earliest added token starts in ``text`` (the longest one at that spot)."""
    best: tuple[int, str] | None = None
    for token in tokens:
        pos = text.find(token)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, token)
    return best


def _last_token_start(text: str, tokens: list[str]) -> int:
    starts = [text.rfind(t) for t in tokens]
    return max(starts) if starts else -1


def _system_handling(tokenizer: Any, template: str | None) -> tuple[str, str | None]:
    """("native", None) when the template renders a system message; ("folded", why) when it refuses or drops it."""
    takes, why = template_takes_system(tokenizer, template)
    return ("native", None) if takes else ("folded", why)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


def plan_masking(tokenizer_or_path: Any, kind: str, config: RunConfig, sample: list[dict] | None = None,
                 ask_trl: bool = True) -> MaskingPlan:
    """The masking path for data of ``kind`` ("chat" / "text") with this tokenizer; raises MaskingError.

    ``tokenizer_or_path`` is a loaded tokenizer or a model path ("demo" and Hub ids work).
    ``sample`` (chat rows) lets the assistant-only path be checked on the data's own turns.
    ``ask_trl=False`` skips asking TRL for a training version of a template without markers
    (and TRL's import, seconds in a cold process): such a template then plans prompt/completion.
    Reads no weights; with the libraries imported it takes well under a second.
    """
    tokenizer = load_tokenizer(str(tokenizer_or_path)) if isinstance(tokenizer_or_path, str | Path) else tokenizer_or_path
    if kind == "text":
        return MaskingPlan(TEXT, "plain text rows: loss on every token", system="native")
    template = chat_template_of(tokenizer)
    if template is None:
        eos = getattr(tokenizer, "eos_token", None)
        if not eos:
            raise MaskingError("the model has no chat template and its tokenizer has no eos token, so a model trained "
                               "on it could never learn to stop",
                               "Set eos_token in the model's tokenizer_config.json, or use a model with a chat template.")
        if not config.assistant_only_loss:
            return MaskingPlan(FULL, "assistant_only_loss is off: loss on every token of each conversation, written in "
                               "ftui's plain-text format (the model has no chat template)", system="flattened", end_of_turn=eos)
        return MaskingPlan(BASE, "the model has no chat template (a base model): each assistant reply is a plain-text "
                           "prompt/completion row in ftui's '### Instruction / ### Response' format",
                           system="flattened", end_of_turn=eos)
    system, system_note = _system_handling(tokenizer, template)
    if not config.assistant_only_loss:
        return MaskingPlan(FULL, "assistant_only_loss is off: loss on every token of each conversation",
                           system=system, system_note=system_note)
    why_not = _assistant_only_blocker(tokenizer, template, sample, system == "folded", ask_trl)
    if why_not is None:
        return MaskingPlan(ASSISTANT_ONLY, "the chat template marks assistant turns with {% generation %}",
                           system=system, system_note=system_note)
    training = _trl_training_template(tokenizer) if ask_trl else None
    if training is not None:
        trl_system, trl_note = _system_handling(tokenizer, training)
        if _assistant_only_blocker(tokenizer, training, sample, trl_system == "folded") is None:
            return MaskingPlan(ASSISTANT_ONLY, "TRL knows this chat template and trains with its version that has "
                               "{% generation %} markers", system=trl_system, system_note=trl_note, training_template=training)
    end = _end_of_turn(tokenizer, template, system == "folded")
    return MaskingPlan(PROMPT_COMPLETION, f"{why_not}: converted to prompt/completion, one row per assistant turn",
                       system=system, system_note=system_note, end_of_turn=end, lead_in=_probe_lead_in(tokenizer, template, system == "folded"))


def _assistant_only_blocker(tokenizer: Any, template: str, sample: list[dict] | None, fold: bool,
                            ask_trl: bool = True) -> str | None:
    """Why TRL's assistant-only loss cannot train this template correctly, or None when it can."""
    if not has_generation_markers(template):
        return "the chat template has no {% generation %} markers"
    chats = [r["messages"] for r in (sample or []) if isinstance(r, dict) and "messages" in r][:8] or [_PROBE_CHAT]
    for messages in chats:
        messages = fold_system(messages) if fold else messages
        try:
            out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                                return_assistant_tokens_mask=True, chat_template=template)
        except Exception as exc:  # noqa: BLE001 - rendering problems are reported by the conversion check
            return f"the chat template's generation markers cannot be used ({_one_line(exc)})"
        if 1 not in list(out.get("assistant_masks") or []):
            return "the chat template's {% generation %} markers mark no assistant tokens"
    if not ask_trl:
        return None
    try:
        from trl.chat_template_utils import is_chat_template_stop_token_trained
    except ImportError:
        return None
    if not is_chat_template_stop_token_trained(tokenizer, chat_template=template):  # TRL's own check
        return "the chat template's {% generation %} markers leave out the end-of-turn token"
    return None


def _trl_training_template(tokenizer: Any) -> str | None:
    """TRL's training version of this template (``get_training_chat_template``), or None when it has none."""
    try:
        from trl.chat_template_utils import get_training_chat_template
    except ImportError:
        return None
    try:
        return get_training_chat_template(tokenizer)
    except Exception:  # noqa: BLE001 - ValueError "not training-compatible" (and a template that cannot render tools)
        return None


def _end_of_turn(tokenizer: Any, template: str, fold: bool) -> str | None:
    """The token the template closes an assistant reply with (e.g. ``<|eot_id|>``), probed on a tiny chat."""
    try:
        return _split_turn(tokenizer, _PROBE_CHAT[:1], _PROBE_REPLY, template, fold).end_token
    except MaskingError:
        return None


def _probe_lead_in(tokenizer: Any, template: str, fold: bool) -> str:
    try:
        return _split_turn(tokenizer, _PROBE_CHAT[:1], _PROBE_REPLY, template, fold).lead_in
    except MaskingError:
        return ""


# ---------------------------------------------------------------------------------------------
# Converting rows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Turn:
    prompt: str  # the generation prompt, plus any non-space lead-in
    completion: str  # the reply and its end-of-turn token (after any whitespace the template puts first)
    end_token: str | None
    lead_in: str


def _split_turn(tokenizer: Any, history: list[dict], reply: str, template: str | None, fold: bool,
                tokens: list[str] | None = None) -> _Turn:
    """Render one assistant turn as (prompt text, completion text) with the template.

    The prompt is what generation renders (``add_generation_prompt=True``). The completion
    comes from the full rendering: the reply as the template writes it, up to and including
    the first special token after it (the end-of-turn token). Whitespace the template puts
    before the reply (Mistral's space) is part of what the model must write; anything else
    there (Qwen3's empty ``<think>`` block) is moved into the prompt, untrained.
    """
    history = fold_system(history) if fold else history
    assistant = {"role": "assistant", "content": reply}
    prompt = _render(tokenizer, history, generation_prompt=True, template=template)
    full = _render(tokenizer, [*history, assistant], generation_prompt=False, template=template)
    shown = reply
    at = full.rfind(shown) if shown else -1
    if at < 0 and reply.strip():
        shown = reply.strip()
        at = full.rfind(shown)
    if at < 0:
        raise MaskingError("the chat template does not write an assistant reply as given (it renders "
                           f"{full[-120:]!r} for a conversation ending in {reply[:60]!r})",
                           "Use a chat template that writes assistant messages verbatim, or train with "
                           "assistant_only_loss: false.")
    tokens = tokens if tokens is not None else _added_tokens(tokenizer)
    before = full[:at]
    lead = ""
    anchor_at = _last_token_start(prompt, tokens)
    if anchor_at >= 0:
        anchor = prompt[anchor_at:]
        pos = before.rfind(anchor)
        if pos >= 0:
            lead = before[pos + len(anchor):]
    elif full.startswith(prompt):
        lead = before[len(prompt):]
    after = full[at + len(shown):]
    found = _first_token(after, tokens)
    eos = getattr(tokenizer, "eos_token", None)
    if found is not None:
        ending, end_token = after[: found[0] + len(found[1])], found[1]
    elif eos:
        ending, end_token = eos, eos  # the template closes a reply with no special token: eos teaches the stop
    else:
        raise MaskingError("the chat template ends an assistant reply with no special token and the tokenizer has "
                           "no eos token, so a model trained on it could never learn to stop",
                           "Set eos_token in the model's tokenizer_config.json.")
    if lead.strip():
        return _Turn(prompt + lead, shown + ending, end_token, lead)
    return _Turn(prompt, lead + shown + ending, end_token, lead)


def base_prompt(messages: list[dict], bos: str = "") -> str:
    """ftui's plain-text format for a model with no chat template, ending where the reply starts.

    ``### System:`` / ``### Instruction:`` / ``### Response:`` blocks separated by a blank
    line; earlier replies appear without eos. The reply is then written after the last
    ``### Response:\\n`` and ends with the tokenizer's eos.
    """
    parts = [bos]
    for message in messages:
        head = {"system": _SYSTEM, "user": _USER, "assistant": _RESPONSE}.get(message["role"])
        if head:
            parts.append(f"{head}{message['content']}\n\n")
    parts.append(_RESPONSE)
    return "".join(parts)


def _bos_text(tokenizer: Any) -> str:
    """The bos text to write at the start of a plain-text prompt when the tokenizer prepends bos itself."""
    bos, bos_id = getattr(tokenizer, "bos_token", None), getattr(tokenizer, "bos_token_id", None)
    if not bos or bos_id is None:
        return ""
    try:
        ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    except Exception:  # noqa: BLE001
        return ""
    return bos if ids[:1] == [bos_id] else ""


def render_prompt(tokenizer: Any, messages: list[dict]) -> str:
    """The prompt text a model trained by ftui expects for ``messages`` (for generation).

    Chat template: ``add_generation_prompt=True``, system folded where the template refuses
    it, plus any lead-in the template writes before a reply (Qwen3's empty think block).
    No template: ``base_prompt``. Tokenize it with ``add_special_tokens=False``.
    """
    template = chat_template_of(tokenizer)
    if template is None:
        return base_prompt(messages, _bos_text(tokenizer))
    fold = _system_handling(tokenizer, None)[0] == "folded"
    try:
        return _split_turn(tokenizer, messages, _PROBE_REPLY, None, fold).prompt
    except MaskingError:
        return _render(tokenizer, fold_system(messages) if fold else messages, generation_prompt=True)


def _turns(messages: list[dict]) -> list[int]:
    """The assistant turns that train: a non-empty reply with a user message before it (a reply to nothing
    has no prompt, and chat templates refuse a conversation that opens with the assistant)."""
    asked = False
    turns = []
    for i, message in enumerate(messages):
        asked = asked or message["role"] == "user"
        if asked and message["role"] == "assistant" and message["content"].strip():
            turns.append(i)
    return turns


def prepare_rows(plan: MaskingPlan, tokenizer: Any, rows: list[dict], source: str = "train data",
                 refused: list[tuple[int, str]] | None = None) -> list[dict]:
    """The rows SFTTrainer gets under ``plan``; raises MaskingError naming the first row the template refuses.

    ``refused`` (``on_bad_rows: skip``): a row the template refuses is left out and appended
    as (its index in ``rows``, why) instead of raising.

    assistant_only / full (chat template): conversations (system folded where needed).
    prompt_completion / base: one pre-tokenized row per assistant turn, ``input_ids`` and
    ``completion_mask`` (1 on the reply and its end token). full with no template: ``text``.
    text: unchanged.
    """
    if plan.path == TEXT:
        return rows
    fold = plan.system == "folded"
    if plan.path in (ASSISTANT_ONLY, FULL) and plan.system != "flattened":
        out = [{"messages": fold_system(r["messages"]) if fold else r["messages"]} for r in rows]
        return _check_renders(plan, tokenizer, out, source, refused)
    if plan.path == FULL:  # no chat template, loss on everything: the flattened conversation as text
        bos = _bos_text(tokenizer)
        out = []
        for row in rows:
            messages = row["messages"]
            last = _turns(messages)[-1] if _turns(messages) else len(messages)
            text = base_prompt(messages[:last], bos) + (messages[last]["content"] if last < len(messages) else "")
            out.append({"text": text + (tokenizer.eos_token or "")})
        return out
    prompts: list[str] = []
    completions: list[str] = []
    template = chat_template_of(tokenizer) if plan.path == PROMPT_COMPLETION else None
    bos = _bos_text(tokenizer) if plan.path == BASE else ""
    eos = tokenizer.eos_token or ""
    tokens = _added_tokens(tokenizer)
    for number, row in enumerate(rows, start=1):
        messages = row["messages"]
        turns: list[tuple[str, str]] = []
        for turn in _turns(messages):
            history, reply = messages[:turn], messages[turn]["content"]
            if plan.path == BASE:
                turns.append((base_prompt(history, bos), reply + eos))
                continue
            try:
                split = _split_turn(tokenizer, history, reply, template, fold, tokens)
            except MaskingError as exc:
                error = MaskingError(f"{source} row {number}: {exc.message}", exc.fix)
            except Exception as exc:  # noqa: BLE001 - the template's raise_exception and jinja errors
                error = _template_refuses(source, number, exc)
            else:
                turns.append((split.prompt, split.completion))
                continue
            if refused is None:
                raise error from None
            refused.append((number - 1, error.message))
            turns = []
            break
        prompts.extend(p for p, _ in turns)
        completions.extend(c for _, c in turns)
    if not prompts:
        raise MaskingError(f"{source}: no assistant reply to train on", "Check the rows with 'ftui lint'.", field="train_path")
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completions, add_special_tokens=False)["input_ids"]
    return [{"input_ids": list(p) + list(c), "completion_mask": [0] * len(p) + [1] * len(c)}
            for p, c in zip(prompt_ids, completion_ids, strict=True)]


def _check_renders(plan: MaskingPlan, tokenizer: Any, rows: list[dict], source: str,
                   refused: list[tuple[int, str]] | None = None) -> list[dict]:
    """The conversations that render with the template TRL will use (a refused row fails here, before the weights)."""
    template = plan.training_template
    kept = []
    for number, row in enumerate(rows, start=1):
        try:
            text = _render(tokenizer, row["messages"], generation_prompt=False, template=template)
        except Exception as exc:  # noqa: BLE001
            error = _template_refuses(source, number, exc)
        else:
            if text.strip():
                kept.append(row)
                continue
            error = MaskingError(f"the chat template renders nothing for {source} row {number}",
                                 "Give the model a working chat_template (tokenizer_config.json or chat_template.jinja).")
        if refused is None:
            raise error from None
        refused.append((number - 1, error.message))
    return kept


def _template_refuses(source: str, number: int, exc: BaseException) -> MaskingError:
    detail = _one_line(exc)
    if "alternate" in detail.lower() or "role" in detail.lower():
        fix = ("Fix those rows so the roles alternate user/assistant after at most one leading system message "
               "(merge consecutive messages of the same role; 'ftui lint' lists them), or set on_bad_rows: skip "
               "to train on the others.")
    else:
        fix = "Fix those rows, give the model a chat template that accepts them, or set on_bad_rows: skip to train on the others."
    return MaskingError(f"the model's chat template refuses {source} row {number}: {detail}", fix, field="train_path")


def conversions(plan: MaskingPlan, rows_in: int, rows_out: int) -> MaskingPlan:
    """``plan`` with its row counts (conversations in, training rows out) for the record."""
    return replace(plan, conversations=rows_in, rows=rows_out)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def masking_problem(config: RunConfig, model_path: str | None = None) -> ConfigProblem | None:
    """The one template / masking problem of ``config`` (None when it trains), from the tokenizer alone.

    Loads the tokenizer, plans the masking on the first ``SAMPLE_ROWS`` rows of train_path
    and converts them as training would. Data that cannot be read is left to the dataset
    checks. TRL is asked about the template only when it is already imported: its import
    takes seconds in a cold process, and a template TRL can patch is derived from one the
    prompt/completion check renders, so the same rows fail either way. Under 0.1 s once
    transformers is imported.
    """
    import sys

    from ftui.config import ConfigProblem
    from ftui.train.dataset import DataError, sample_examples

    try:
        sample = sample_examples(config.train_path, config.data_format, SAMPLE_ROWS)
    except (DataError, OSError, ValueError):
        return None
    try:
        tokenizer = load_tokenizer(model_path or config.model)
        plan = plan_masking(tokenizer, sample.kind, config, sample.rows, ask_trl="trl.chat_template_utils" in sys.modules)
        _prepare_skipping(config, plan, tokenizer, sample.rows, Path(str(config.train_path)).name, None, "train")
    except MaskingError as exc:
        return ConfigProblem(exc.field, exc.message, exc.fix)
    return None


def timed_masking_problem(config: RunConfig, model_path: str | None = None) -> tuple[ConfigProblem | None, float]:
    """``masking_problem`` and the seconds it took (for the tests' and benches' time budget)."""
    started = time.perf_counter()
    problem = masking_problem(config, model_path)
    return problem, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# Reading back what a prepared dataset trains on (tests, diagnostics)
# ---------------------------------------------------------------------------------------------


def trained_spans(input_ids: list[int], labels: list[int]) -> list[list[int]]:
    """The runs of consecutive tokens whose label is not -100 (each one reply and its end token)."""
    spans: list[list[int]] = []
    current: list[int] = []
    for token, label in zip(input_ids, labels, strict=False):
        if label != -100:
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    return spans


# ---------------------------------------------------------------------------------------------
# The training run's side
# ---------------------------------------------------------------------------------------------


def prepare_datasets(config: RunConfig, tokenizer: Any, kind: str, train_ds: Any, eval_ds: Any | None,
                     loaded: Any = None) -> tuple[MaskingPlan, Any, Any | None]:
    """(plan with its row counts, train Dataset, eval Dataset) as SFTTrainer should get them; raises MaskingError.

    Called by ``hf_backend.run_hf`` with the tokenizer only, before the model is loaded, so a
    template that refuses a row fails in seconds, not after an 8B load. Under
    ``on_bad_rows: skip`` a refused row is left out instead and added to ``loaded.bad_rows``
    (``loaded``: the ``dataset.LoadedData``, whose ``lines`` name each row by its row in the file).
    """
    from datasets import Dataset

    train_rows = train_ds.to_list()
    plan = plan_masking(tokenizer, kind, config, train_rows[:SAMPLE_ROWS])
    if plan.path == TEXT:
        return conversions(plan, len(train_rows), len(train_rows)), train_ds, eval_ds
    prepared = _prepare_skipping(config, plan, tokenizer, train_rows, Path(str(config.train_path)).name, loaded, "train")
    evaluated = None
    if eval_ds is not None:
        evaluated = Dataset.from_list(_prepare_skipping(config, plan, tokenizer, eval_ds.to_list(), "eval data", loaded, "eval"))
    return conversions(plan, len(train_rows), len(prepared)), Dataset.from_list(prepared), evaluated


def _prepare_skipping(config: RunConfig, plan: MaskingPlan, tokenizer: Any, rows: list[dict], source: str,
                      loaded: Any, dataset: str) -> list[dict]:
    """``prepare_rows``, leaving out (and recording) the rows the template refuses under ``on_bad_rows: skip``."""
    from ftui.train.bad_rows import BadRow, skips

    if not skips(config):
        return prepare_rows(plan, tokenizer, rows, source=source)
    refused: list[tuple[int, str]] = []
    prepared = prepare_rows(plan, tokenizer, rows, source=source, refused=refused)
    if refused and len(refused) == len(rows):
        raise MaskingError(refused[0][1], "The template refuses every row: fix the rows or give the model another chat template.")
    lines = (getattr(loaded, "lines" if dataset == "train" else "eval_lines", None) or []) if loaded is not None else []
    for index, why in refused:
        row = lines[index] if index < len(lines) else None
        if loaded is not None:
            loaded.bad_rows.append(BadRow(row, why, dataset))
            if dataset == "train":
                loaded.skipped += 1
    return prepared
