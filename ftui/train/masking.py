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
- ``base``: no chat template -> the same rows in a plain-text format (``chat_template.BASE_FORMAT``), the
  completion ending with the tokenizer's eos so the model learns to stop.
- ``text``: plain ``text`` rows -> loss on every token.
- ``full``: ``assistant_only_loss: false`` -> loss on every token of each conversation.

System messages a template refuses (Gemma 2 raises) or drops are folded into the first
user turn, the Gemma 3 convention. ``masking_problem`` runs the same decision and converts
a sample of the data for ``ftui.train.preflight.validate``: a template problem is one
``ConfigProblem`` with its fix. Heavy imports (transformers, trl) are deferred. How a
template renders a turn, its end-of-turn token and its system handling are ``chat_template``'s.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftui.models.system_prompt import fold_system
from ftui.train.chat_template import (
    PROBE_CHAT,
    added_tokens,
    base_prompt,
    bos_text,
    chat_template_of,
    end_of_turn,
    has_generation_markers,
    load_tokenizer,
    one_line,
    probe_lead_in,
    render_chat,
    split_tool_turn,
    split_turn,
    system_handling,
    template_messages,
    template_tools,
)
from ftui.train.errors import MaskingError

if TYPE_CHECKING:
    from ftui.config import ConfigProblem, RunConfig

ASSISTANT_ONLY = "assistant_only"
PROMPT_COMPLETION = "prompt_completion"
BASE = "base"
TEXT = "text"
FULL = "full"
PATHS = (ASSISTANT_ONLY, PROMPT_COMPLETION, BASE, TEXT, FULL)

SAMPLE_ROWS = 64  # rows of the training file validation renders through the plan


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
    system, system_note = system_handling(tokenizer, template)
    if not config.assistant_only_loss:
        return MaskingPlan(FULL, "assistant_only_loss is off: loss on every token of each conversation",
                           system=system, system_note=system_note)
    why_not = _assistant_only_blocker(tokenizer, template, sample, system == "folded", ask_trl)
    if why_not is None:
        return MaskingPlan(ASSISTANT_ONLY, "the chat template marks assistant turns with {% generation %}",
                           system=system, system_note=system_note)
    # tool-calling rows: ftui renders each of their turns with the tools itself (prompt_completion)
    training = _trl_training_template(tokenizer) if ask_trl and not any(_has_tools(r) for r in sample or ()) else None
    if training is not None:
        trl_system, trl_note = system_handling(tokenizer, training)
        if _assistant_only_blocker(tokenizer, training, sample, trl_system == "folded") is None:
            return MaskingPlan(ASSISTANT_ONLY, "TRL knows this chat template and trains with its version that has "
                               "{% generation %} markers", system=trl_system, system_note=trl_note, training_template=training)
    end = end_of_turn(tokenizer, template, system == "folded")
    return MaskingPlan(PROMPT_COMPLETION, f"{why_not}: converted to prompt/completion, one row per assistant turn",
                       system=system, system_note=system_note, end_of_turn=end, lead_in=probe_lead_in(tokenizer, template, system == "folded"))


def _assistant_only_blocker(tokenizer: Any, template: str, sample: list[dict] | None, fold: bool,
                            ask_trl: bool = True) -> str | None:
    """Why TRL's assistant-only loss cannot train this template correctly, or None when it can."""
    if not has_generation_markers(template):
        return "the chat template has no {% generation %} markers"
    chats = [r["messages"] for r in (sample or []) if isinstance(r, dict) and "messages" in r][:8] or [PROBE_CHAT]
    for messages in chats:
        messages = fold_system(messages) if fold else messages
        try:
            out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                                return_assistant_tokens_mask=True, chat_template=template)
        except Exception as exc:  # noqa: BLE001 - rendering problems are reported by the conversion check
            return f"the chat template's generation markers cannot be used ({one_line(exc)})"
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


# ---------------------------------------------------------------------------------------------
# Converting rows
# ---------------------------------------------------------------------------------------------


def _turns(messages: list[dict]) -> list[int]:
    """The assistant turns that train: a non-empty reply with a user message before it (a reply to nothing
    has no prompt, and chat templates refuse a conversation that opens with the assistant)."""
    asked = False
    turns = []
    for i, message in enumerate(messages):
        asked = asked or message["role"] == "user"
        if asked and message["role"] == "assistant" and (message["content"].strip() or message.get("tool_calls")):
            turns.append(i)
    return turns


def _has_tools(row: dict) -> bool:
    return bool(row.get("tools")) or any(m.get("tool_calls") or m["role"] == "tool" for m in row.get("messages", ()))


def _refuse_tools(plan: MaskingPlan, rows: list[dict], source: str) -> None:
    """Tool calls train only where ftui renders each turn with the template (prompt_completion)."""
    for number, row in enumerate(rows, start=1):
        if _has_tools(row):
            why = "the model has no chat template" if plan.path == BASE else f"loss masking is {plan.path}"
            raise MaskingError(f"{source} row {number} carries tool calls, and {why}: they would be dropped from training",
                               "Use a chat model whose template renders tools (e.g. Qwen2.5 Instruct): ftui then trains "
                               "each call turn by turn.",
                               field="train_path")


def prepare_rows(plan: MaskingPlan, tokenizer: Any, rows: list[dict], source: str = "train data",
                 refused: list[tuple[int, str]] | None = None, max_len: int | None = None,
                 lines: list[int] | None = None) -> list[dict]:
    """The rows SFTTrainer gets under ``plan``; raises MaskingError naming the first row the template refuses.

    ``refused`` (``on_bad_rows: skip``): a row the template refuses is left out and appended
    as (its index in ``rows``, why) instead of raising. ``max_len`` (``overlong.cut_length``):
    a pre-tokenized row whose every prompt fills it is refused (or left out) the same way, named
    by its row in the file when ``lines`` gives them (``overlong``).

    assistant_only / full (chat template): conversations (system folded where needed).
    prompt_completion / base: one pre-tokenized row per assistant turn, ``input_ids`` and
    ``completion_mask`` (1 on the reply and its end token). full with no template: ``text``.
    text: unchanged.
    """
    if plan.path == TEXT:
        return rows
    if plan.path != PROMPT_COMPLETION:
        _refuse_tools(plan, rows, source)
    fold = plan.system == "folded"
    if plan.path in (ASSISTANT_ONLY, FULL) and plan.system != "flattened":
        out = [{"messages": fold_system(r["messages"]) if fold else r["messages"]} for r in rows]
        return _check_renders(plan, tokenizer, out, source, refused)
    if plan.path == FULL:  # no chat template, loss on everything: the flattened conversation as text
        bos = bos_text(tokenizer)
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
    bos = bos_text(tokenizer) if plan.path == BASE else ""
    eos = tokenizer.eos_token or ""
    tokens = added_tokens(tokenizer)
    owners: list[int] = []  # the row each turn comes from
    for number, row in enumerate(rows, start=1):
        messages = template_messages(row["messages"])
        tools = template_tools(row.get("tools"))
        turns: list[tuple[str, str]] = []
        for turn in _turns(messages):
            history, reply = messages[:turn], messages[turn]["content"]
            if plan.path == BASE:
                turns.append((base_prompt(history, bos), reply + eos))
                continue
            try:
                if messages[turn].get("tool_calls"):
                    split = split_tool_turn(tokenizer, history, messages[turn], template, fold, tools, tokens)
                else:
                    split = split_turn(tokenizer, history, reply, template, fold, tokens, tools,
                                       messages[turn].get("reasoning_content"))
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
        owners.extend(number - 1 for _ in turns)
    if not prompts:
        raise MaskingError(f"{source}: no assistant reply to train on", "Check the rows with 'ftui lint'.", field="train_path")
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completions, add_special_tokens=False)["input_ids"]
    out = [{"input_ids": list(p) + list(c), "completion_mask": [0] * len(p) + [1] * len(c)}
           for p, c in zip(prompt_ids, completion_ids, strict=True)]
    if max_len:
        out = _drop_overlong(tokenizer, rows, out, [len(p) for p in prompt_ids], owners, max_len, source, refused,
                             lines, template, fold)
    return out


def _drop_overlong(tokenizer: Any, rows: list[dict], out: list[dict], lengths: list[int], owners: list[int],
                   max_len: int, source: str, refused: list[tuple[int, str]] | None, lines: list[int] | None,
                   template: str | None, fold: bool) -> list[dict]:
    """``out`` less the rows none of whose replies starts inside ``max_len``; raises on the first unless ``refused``."""
    from ftui.train import overlong

    bad = overlong.overlong(lengths, owners, max_len)
    if not bad:
        return out
    for index in bad:
        messages = template_messages(rows[index]["messages"])
        first = next(iter(_turns(messages)), len(messages))
        history = fold_system(messages[:first]) if fold else messages[:first]
        shares = overlong.tool_tokens(tokenizer, history, template_tools(rows[index].get("tools")), template)
        shortest = min(n for n, o in zip(lengths, owners, strict=True) if o == index)
        row = lines[index] if lines and index < len(lines) else index + 1
        why = overlong.message(source, row, shortest, max_len, shares)
        if refused is None:
            raise MaskingError(why, overlong.FIX, field="train_path")
        refused.append((index, why))
    dropped = set(bad)
    return [r for r, o in zip(out, owners, strict=True) if o not in dropped]


def _check_renders(plan: MaskingPlan, tokenizer: Any, rows: list[dict], source: str,
                   refused: list[tuple[int, str]] | None = None) -> list[dict]:
    """The conversations that render with the template TRL will use (a refused row fails here, before the weights)."""
    template = plan.training_template
    kept = []
    for number, row in enumerate(rows, start=1):
        try:
            text = render_chat(tokenizer, row["messages"], generation_prompt=False, template=template)
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
    detail = one_line(exc)
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
    from ftui.train.dataset import DataError, keeps_reasoning, sample_examples

    try:
        sample = sample_examples(config.train_path, config.data_format, SAMPLE_ROWS, keeps_reasoning(config))
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
    from ftui.train.overlong import cut_length

    lines = (getattr(loaded, "lines" if dataset == "train" else "eval_lines", None) or []) if loaded is not None else []
    max_len = cut_length(config)
    if not skips(config):
        return prepare_rows(plan, tokenizer, rows, source=source, max_len=max_len, lines=lines)
    refused: list[tuple[int, str]] = []
    prepared = prepare_rows(plan, tokenizer, rows, source=source, refused=refused, max_len=max_len, lines=lines)
    if refused and len({index for index, _ in refused}) == len(rows):
        raise MaskingError(f"every row of {source} would be skipped, nothing is left to train: {refused[0][1]}",
                           "Fix the rows, give the model a chat template that accepts them, or raise max_seq_len.")
    for index, why in refused:
        row = lines[index] if index < len(lines) else None
        if loaded is not None:
            loaded.bad_rows.append(BadRow(row, why, dataset))
            if dataset == "train":
                loaded.skipped += 1
    return prepared
