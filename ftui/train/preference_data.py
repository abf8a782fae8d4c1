"""Training data for preference methods (DPO, ORPO, KTO): a file -> TRL's conversational preference rows.

Paired rows (``prompt`` + ``chosen`` + ``rejected`` as strings or conversations, TRL's implicit-prompt
form where ``chosen``/``rejected`` carry the whole conversation, OpenAI's ``input`` /
``preferred_output`` / ``non_preferred_output``) are read through ``ftui.data.formats`` (the same
reader as the linter) and become ``{"prompt": [messages], "chosen": [messages], "rejected": [messages]}``.
Unpaired rows (``prompt`` + ``completion`` + boolean ``label``, or ``messages`` + ``label``, as KTO
uses) are read here: ``formats`` has no unpaired kind yet. KTO takes either kind (a pair becomes one
desirable and one undesirable row, as TRL's ``unpair_preference_dataset`` does); DPO and ORPO need
pairs. Conversational rows let the model's own chat template render every prompt.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ftui.config import RunConfig
from ftui.data import formats
from ftui.data.source import DatasetError, iter_raw_rows
from ftui.paths import resolve_data_path

PAIRED = "paired"
UNPAIRED = "unpaired"


class PreferenceDataError(Exception):
    """The preference file cannot be used; the message names the file and the fix."""


@dataclass
class PreferenceData:
    rows: list[dict]  # TRL rows: prompt/chosen/rejected (paired) or prompt/completion/label (unpaired)
    kind: str  # PAIRED or UNPAIRED
    skipped: int  # rows that could not be read or train nothing
    reasons: dict[str, int]  # why rows were skipped -> count
    bad_rows: list[Any] = field(default_factory=list)  # on_bad_rows: skip: every row left out (bad_rows.BadRow)
    lines: list[int] = field(default_factory=list)  # each row's number in the file, parallel to ``rows``
    eval_lines: list[int] = field(default_factory=list)  # the same for the eval rows build_preference_datasets kept


def _msgs(messages: list[Any]) -> list[dict]:
    return [{"role": m.role, "content": m.content} for m in messages]


def _as_messages(value: Any, role: str) -> list[dict] | None:
    """A string (one ``role`` turn) or a list of {role, content} messages; None when neither."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if isinstance(value, list) and value and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in value):
        return [{"role": m["role"], "content": formats.flatten_content(m.get("content"))} for m in value]
    return None


def split_implicit(chosen: list[dict], rejected: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """TRL's implicit prompt: the messages both sides share up to the last shared user turn are the prompt."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    while shared > 0 and chosen[shared - 1]["role"] == "assistant":
        shared -= 1  # a shared opening of the answers stays in the answers
    return chosen[:shared], chosen[shared:], rejected[shared:]


def paired_row(obj: Any) -> tuple[dict | None, str]:
    """One parsed row as a TRL paired row, or (None, why)."""
    try:
        conv = formats.normalize(obj, formats.PREFERENCE, 0, 0)
    except formats.FormatError as exc:
        return None, str(exc)
    rejected = _msgs(conv.extras.get("rejected") or [])
    raw_chosen = obj.get("preferred_output", obj.get("chosen"))
    n_chosen = len(raw_chosen) if isinstance(raw_chosen, list) else 1
    messages = _msgs(conv.messages)
    prompt, chosen = messages[: len(messages) - n_chosen], messages[len(messages) - n_chosen:]
    if not prompt:
        prompt, chosen, rejected = split_implicit(chosen, rejected)
    return _checked({"prompt": prompt, "chosen": chosen, "rejected": rejected})


def _checked(row: dict) -> tuple[dict | None, str]:
    if not row["prompt"] or row["prompt"][-1]["role"] == "assistant":
        return None, "no prompt (the conversation before the answers)"
    for side in ("chosen", "rejected", "completion"):
        if side in row and not any(m["role"] == "assistant" and m["content"].strip() for m in row[side]):
            return None, f"empty {side} answer"
    if "chosen" in row and row["chosen"] == row["rejected"]:
        return None, "chosen and rejected are identical"
    return row, ""


def unpaired_row(obj: Any) -> tuple[dict | None, str]:
    """A ``label`` row (prompt/completion or messages) as TRL's unpaired row, or (None, why)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("label"), bool):
        return None, "no boolean 'label'"
    if "messages" in obj:
        messages = _as_messages(obj["messages"], "user")
        if messages is None:
            return None, "'messages' is not a list of {role, content}"
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
        prompt, completion = messages[:last], messages[last:] if last >= 0 else []
    else:
        prompt, completion = _as_messages(obj.get("prompt"), "user"), _as_messages(obj.get("completion"), "assistant")
        if prompt is None or completion is None:
            return None, "needs 'prompt' and 'completion' (strings or messages)"
    return _checked({"prompt": prompt, "completion": completion, "label": obj["label"]})


def is_unpaired(obj: Any) -> bool:
    return isinstance(obj, dict) and "label" in obj and "chosen" not in obj and "preferred_output" not in obj


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        for raw in iter_raw_rows(path):
            if not raw.data.strip():
                continue
            try:
                yield raw.row, orjson.loads(raw.data)
            except orjson.JSONDecodeError:
                yield raw.row, None
    except DatasetError as exc:
        raise PreferenceDataError(str(exc)) from None


def load_preference(path_value: str, method: str, limit: int | None = None, skip_bad: bool = False,
                    dataset: str = "train", max_seq_len: int | None = None) -> PreferenceData:
    """Every usable row of a preference file for ``method`` (``limit``: stop after that many, for checks).

    ``skip_bad`` (``on_bad_rows: skip``): rows the linter finds an error in are left out too, and
    every row left out is listed in ``bad_rows`` with its row number and why.
    """
    from ftui.train.bad_rows import BadRow, scan_file

    path = resolve_data_path(path_value)
    if path is None or not path.is_file():
        raise PreferenceDataError(f"dataset {path_value} does not exist; fix train_path/eval_path.")
    rows: list[dict] = []
    reasons: dict[str, int] = {}
    bad_rows: list[BadRow] = []
    lines: list[int] = []
    try:
        lint_bad = scan_file(path, max_seq_len).rows if skip_bad else {}
    except Exception:  # noqa: BLE001 - an unreadable file is the reader's to name, below
        lint_bad = {}
    kind = ""
    skipped = 0
    for number, obj in _rows(path):
        row_kind = UNPAIRED if is_unpaired(obj) else PAIRED
        kind = kind or row_kind
        if obj is None:
            row, why = None, "invalid JSON"
        elif row_kind != kind:
            row, why = None, f"a {row_kind} row in a {kind} file"
        else:
            row, why = unpaired_row(obj) if kind == UNPAIRED else paired_row(obj)
        if row is not None and number in lint_bad:
            row, why = None, lint_bad[number]
        if row is None:
            skipped += 1
            reasons[why] = reasons.get(why, 0) + 1
            if skip_bad:
                bad_rows.append(BadRow(number, lint_bad.get(number, why), dataset))
            continue
        rows.append(row)
        lines.append(number)
        if limit and len(rows) >= limit:
            break
    if not rows:
        first = next(iter(reasons), "no rows")
        raise PreferenceDataError(
            f"no usable preference rows in {path.name} ({first}); {method} needs prompt/chosen/rejected rows"
            + (" or prompt/completion/label rows" if method == "kto" else "") + ". Run 'ftui lint' on it.")
    if kind == UNPAIRED and method != "kto":
        raise PreferenceDataError(f"{path.name} holds unpaired rows (a 'label' per answer); {method} needs pairs "
                                  "(prompt/chosen/rejected). Use method: kto, or give paired data.")
    if method == "kto" and kind == PAIRED:
        rows, lines = unpair(rows), [n for n in lines for _ in (0, 1)]
    return PreferenceData(rows=rows, kind=kind, skipped=skipped, reasons=reasons, bad_rows=bad_rows, lines=lines)


def unpair(rows: list[dict]) -> list[dict]:
    """Each pair as a desirable and an undesirable row (TRL's ``unpair_preference_dataset``)."""
    out = []
    for row in rows:
        out.append({"prompt": row["prompt"], "completion": row["chosen"], "label": True})
        out.append({"prompt": row["prompt"], "completion": row["rejected"], "label": False})
    return out


def skipped_note(data: PreferenceData, path_value: str) -> str | None:
    """The run-log line for skipped rows, with the reasons, or None."""
    if not data.skipped:
        return None
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(data.reasons.items(), key=lambda kv: -kv[1]))
    return f"skipped {data.skipped} rows of {Path(path_value).name}: {why}"


def build_preference_datasets(config: RunConfig) -> tuple[Any, Any | None, PreferenceData]:
    """(train Dataset, eval Dataset or None, what was loaded); eval held out (seeded) when no eval_path.

    ``loaded.lines`` ends as the train rows' numbers in the file, in the Dataset's order.
    """
    from datasets import Dataset

    from ftui.train.bad_rows import skips

    skip = skips(config)
    train = load_preference(config.train_path, config.method, skip_bad=skip, max_seq_len=config.max_seq_len)
    train_rows, train_lines = train.rows, train.lines
    eval_rows: list[dict] | None = None
    cap = max(0, int(config.eval_max_rows or 0))
    if config.eval_path:
        evaluation = load_preference(config.eval_path, config.method, skip_bad=skip, dataset="eval", max_seq_len=config.max_seq_len)
        train.bad_rows.extend(evaluation.bad_rows)
        eval_rows, train.eval_lines = evaluation.rows, evaluation.lines
        if cap and len(eval_rows) > cap:
            keep = sorted(random.Random(config.seed).sample(range(len(eval_rows)), cap))
            eval_rows, train.eval_lines = [eval_rows[i] for i in keep], [train.eval_lines[i] for i in keep]
    elif config.eval_fraction > 0 and len(train_rows) >= 10:
        order = list(range(len(train_rows)))
        random.Random(config.seed).shuffle(order)
        n_eval = max(1, int(len(order) * config.eval_fraction))
        n_eval = min(n_eval, cap) if cap else n_eval
        eval_rows, train.eval_lines = [train_rows[i] for i in order[:n_eval]], [train_lines[i] for i in order[:n_eval]]
        train_rows, train_lines = [train_rows[i] for i in order[n_eval:]], [train_lines[i] for i in order[n_eval:]]
    train.lines = train_lines
    if config.method == "kto":
        _check_kto_balance(train_rows, config.train_path)
    return Dataset.from_list(train_rows), Dataset.from_list(eval_rows) if eval_rows else None, train


def skip_refused(tokenizer: Any, train_ds: Any, loaded: PreferenceData, model: str) -> Any:
    """``on_bad_rows: skip``: the train rows the chat template renders (each refused one recorded in ``loaded``)."""
    from ftui.train.bad_rows import BadRow

    keep = []
    for index, row in enumerate(train_ds.to_list()):
        found = render_problem(tokenizer, [row], model)
        if found is None:
            keep.append(index)
            continue
        line = loaded.lines[index] if index < len(loaded.lines) else None
        loaded.bad_rows.append(BadRow(line, found[0].replace(" preference row 1", " this row"), "train"))
        loaded.skipped += 1
    if not keep:
        raise PreferenceDataError(f"the chat template of {model} refuses every preference row; fix the rows or use another model.")
    return train_ds if len(keep) == len(train_ds) else train_ds.select(keep)


def render_problem(tokenizer: Any, rows: list[dict], model: str) -> tuple[str, str] | None:
    """(message, fix) when the chat template is missing or refuses a row (rendered as TRL will), else None."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return (f"{model} has no chat template, and preference rows are conversations",
                "Use a chat (instruct) model, or add a chat template to its tokenizer.")
    for i, row in enumerate(rows, 1):
        first = template_refusal(tokenizer, row)
        if first is not None:
            return (f"the chat template of {model} refuses preference row {i}: {first}",
                    "Fix the rows (e.g. fold the system prompt into the first user turn) or use another model.")
    return None


def template_refusal(tokenizer: Any, row: dict) -> str | None:
    """The template's own error for ``row`` (its first line), or None when it renders the row as TRL will."""
    answer = row.get("chosen") or row.get("completion") or []
    try:
        tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        tokenizer.apply_chat_template(row["prompt"] + answer, tokenize=False)
    except Exception as exc:  # noqa: BLE001 - a template's own error (e.g. "System role not supported")
        return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return None


def skip_refused_eval(tokenizer: Any, eval_ds: Any, loaded: PreferenceData, model: str, record: bool) -> tuple[Any, str | None]:
    """(the eval rows the chat template renders, or None when it refuses them all; the run-log line, or None).

    A refused eval row is unusable like an empty side: skipped with a count and the reason, under
    either ``on_bad_rows`` (``record``: ``skip``, where it is also listed in ``loaded.bad_rows``), so
    one row cannot stop the run in TRL's eval tokenization. Training rows stay ``render_problem``'s.
    """
    from ftui.train.bad_rows import BadRow

    keep: list[int] = []
    reasons: dict[str, int] = {}
    for index, row in enumerate(eval_ds.to_list()):
        why = template_refusal(tokenizer, row)
        if why is None:
            keep.append(index)
            continue
        reasons[why] = reasons.get(why, 0) + 1
        if record:
            line = loaded.eval_lines[index] if index < len(loaded.eval_lines) else None
            loaded.bad_rows.append(BadRow(line, f"the chat template refuses this row: {why}", "eval"))
    if not reasons:
        return eval_ds, None
    refused = sum(reasons.values())
    why = "; ".join(f"{n} {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    head = f"skipped {refused} of {len(eval_ds)} eval rows the chat template of {model} refuses ({why})"
    if not keep:
        return None, f"{head}: no eval row is left, so this run trains without evaluation"
    return (eval_ds.select(keep), f"{head}; evaluation runs on the other {len(keep)}")


def _check_kto_balance(rows: list[dict], path_value: str) -> None:
    labels = {bool(r["label"]) for r in rows}
    if len(labels) < 2:
        which = "desirable" if True in labels else "undesirable"
        raise PreferenceDataError(f"every row of {Path(path_value).name} is {which}; KTO needs both labels "
                                  "(label: true and label: false rows).")
