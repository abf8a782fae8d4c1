"""The per-row checks of the Python path, as named steps over a ``LintState``.

``lint_row`` runs them in order for one raw row: parse and check the shape, the text
checks (only for rows the prefilter flagged), tokens and lengths, the turn structure, and
then record what the file-wide checks need (answer kind, system prompt, labels, keys,
near-duplicate text). The columnar fast path (``fast``) does the same for plain chat rows
in bulk and sends every other row here.
"""

from __future__ import annotations

import json
from array import array
from typing import Any

import orjson

from ftui.data import formats
from ftui.data.checks import content as C
from ftui.data.checks.structure import RowView, check_order
from ftui.data.checks.tokens import PER_MESSAGE, REPLY_PRIMING, truncation_loss
from ftui.data.dedup import MAX_DOC_CHARS
from ftui.data.dialects import placeholder_count
from ftui.data.lint.evalset import norm
from ftui.data.lint.state import LABEL_MAX_CHARS, LABEL_MAX_DISTINCT, SYS_EXAMPLES, LintState
from ftui.data.source import RawRow
from ftui.data.textkey import text_key

ORDER_MEMO_MAX = 10_000


def lint_row(state: LintState, r: RawRow, suspect: bool, near_texts: list[str] | None) -> None:
    """Every row-local check on ``r``, and its columns appended to ``state``."""
    seq = state.n
    state.n += 1
    state.at(seq, r.row, r.offset)
    state.offsets.append(r.offset)
    view = parse_row(state, r)
    if view is None:
        state.add_unusable_row()
        return
    state.valid += 1
    if suspect:
        emit = state.emit
        for k, (role, text) in enumerate(zip(view.roles, view.texts, strict=False)):
            C.check_text(role, k, text, emit)
    # LLaVA-style rows give each image twice (an ``images`` entry and an ``<image>`` placeholder, which
    # always makes a row suspect): the larger count is the number of images
    images = max(view.images, placeholder_count(view.texts)) if suspect else view.images
    if images:
        state.emit("W020", f"references {images} image{'s' if images > 1 else ''}: a text-only model trains the placeholders as text")
    counts, trained_tok = count_tokens(state, seq, view)
    if not state.sft:
        if view.pref is not None and state.pref is not None:
            state.pref.add(seq, view.pref)
        state.add_untargeted_row()
        state.add_keys(view.roles, view.texts, None)
        return
    if state.turns:
        check_turn_order(state, view.roles)
    state.turn_count[len(view.roles) - (view.roles[0] == "system")] += 1
    if trained_tok == 0:
        state.emit("E008", "every assistant turn has weight 0: nothing to train on" if "assistant" in view.roles
                   else "no assistant turn: nothing to train on")
    last_a, target = record_target(state, view)
    record_system_prompt(state, view)
    state.add_keys(view.roles, view.texts, (last_a, record_answer(state, target)))
    if near_texts is not None:
        record_near_text(state, seq, view, near_texts)


# -- parsing ------------------------------------------------------------------------------


def parse_row(state: LintState, r: RawRow) -> RowView | None:
    """The row's ``RowView``, or None (with the finding that says why) when it cannot be checked further."""
    data = r.data
    if r.truncated:
        state.emit("E013", f"row is {r.size / 1e6:.1f} MB, too large to train on (not parsed)")
        return None
    if not data.strip():
        state.emit("E003", "blank line: not a JSON object")
        return None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        bad_json(state, r, exc)
        return None
    if type(obj) is not dict:
        state.emit("E003", f"row is a JSON {_json_type(obj)}, not an object")
        return None
    fmt = state.fmt
    own = formats.CHAT if ("messages" in obj and fmt == formats.CHAT) else formats.row_format(obj)
    state.row_formats[own] += 1
    if own != fmt or own == formats.UNKNOWN:
        if own == formats.UNKNOWN:
            keys = ", ".join(list(obj)[:6]) or "no keys"
            state.emit("E004", f"format not recognised (keys: {keys}); the file is {formats.FORMAT_LABELS.get(fmt, fmt)}")
        else:
            state.emit("E004", f"row is {formats.FORMAT_LABELS[own]}, but the file is {formats.FORMAT_LABELS.get(fmt, fmt)}")
        return None
    view = state.checker(obj, state.profile, state.emit) if state.checker else None
    if view is None:
        return None
    if data.count(b'":') > view.nkeys:
        key = _duplicate_key(data)
        if key:
            state.emit("E002", f"duplicate key {key!r}: parsers keep only the last value")
            return None
    return view


def bad_json(state: LintState, r: RawRow, exc: Exception) -> None:
    """E001 / E002 for a row orjson could not parse, saying the likely cause."""
    data = r.data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as u:
        state.emit("E001", f"not valid UTF-8 (byte 0x{data[u.start]:02x} at column {u.start + 1})")
        return
    if b"\x00" in data:
        state.emit("E001", "contains a NUL byte")
        return
    msg = str(exc).split(":")[0]
    if r.no_newline:
        state.emit("E002", f"the last line is cut off ({msg}) and the file does not end with a newline: was it truncated mid-write?")
    elif b"NaN" in data or b"Infinity" in data:
        state.emit("E002", "NaN / Infinity is not valid JSON: write null or a number")
    elif "depth" in msg:
        state.emit("E002", "nested too deeply to parse (over 1024 levels)")
    else:
        state.emit("E002", f"invalid JSON: {msg}")


def _json_type(obj: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}.get(type(obj), "value")


def _duplicate_key(data: bytes) -> str | None:
    """The first duplicated key in a row, checked with the slow parser only when the fast count says maybe."""
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if not found and len(set(keys)) != len(keys):
            seen = set()
            for k in keys:
                if k in seen:
                    found.append(k)
                    break
                seen.add(k)
        return dict(pairs)

    try:
        json.loads(data, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None


# -- tokens and structure -------------------------------------------------------------------


def count_tokens(state: LintState, seq: int, view: RowView) -> tuple[list[int], int]:
    """Tokens per turn and the length checks (E013, E014, E015, W001); returns (counts, trained tokens)."""
    roles, texts, trained = view.roles, view.texts, view.trained
    if state.estimate:  # the estimate is inlined: it runs for every row of every file
        counts = [len(t) // 4 + PER_MESSAGE for t in texts]
    else:
        counts, render_error = state.counter.count(roles, texts)
        if render_error:
            state.emit("E014", render_error)
    total = sum(counts) + REPLY_PRIMING
    state.totals.append(total)
    role_len = state.role_len
    trained_tok = 0
    for role, cnt, t, text in zip(roles, counts, trained, texts, strict=False):
        cols = role_len.get(role)
        if cols is None:
            cols = role_len[role] = (array("q"), array("i"))
        cols[0].append(seq)
        cols[1].append(cnt)
        if t:
            trained_tok += cnt
        if not text:
            state.empty_turns.add((seq, role))  # an empty turn is E006/E011's business, not a length outlier
    state.trained_tokens += trained_tok
    state.all_tokens += total
    max_len, hard = state.max_len, state.hard
    if hard and total > hard:
        state.emit("E013", f"{total:,} tokens{state.est_note()}, over the {state.profile.name} limit of {hard:,}")
    elif max_len and total > max_len and state.sft:
        lost, kept = truncation_loss(counts, trained, max_len)
        if trained_tok and not kept:
            state.emit("E015", f"the prompt fills all {max_len:,} tokens{state.est_note()}: no assistant token survives "
                       "truncation, so the trainer drops or learns nothing from this row")
        else:
            what = f"{lost:,} assistant tokens are lost" if lost else "no assistant tokens are lost"
            state.emit("W001", f"{total:,} tokens{state.est_note()} > max_seq_len {max_len:,}: truncated, {what}")
    return counts, trained_tok


def check_turn_order(state: LintState, roles: list[str]) -> None:
    """E009 (memoised per role sequence: check_order depends on nothing else) and W007."""
    roles_key = "\x1e".join(roles)
    order = state.order_memo.get(roles_key)
    if order is None:
        found: list[tuple[str, str]] = []
        check_order(roles, lambda i, m: found.append((i, m)))
        order = found
        if len(state.order_memo) < ORDER_MEMO_MAX:
            state.order_memo[roles_key] = found
    for cid, msg in order:
        state.emit(cid, msg)
    if roles[-1] != "assistant":
        state.emit("W007", f"the last turn is {roles[-1]!r}: it is never trained")


# -- what the file-wide checks need -----------------------------------------------------------


def record_target(state: LintState, view: RowView) -> tuple[int, str]:
    """The last trained turn (index, text): its kind for W017, and W016 when it is cut off."""
    last_a = len(view.roles) - 1
    while last_a >= 0 and not view.trained[last_a]:
        last_a -= 1
    target = view.texts[last_a] if last_a >= 0 else ""
    kind, cut = C.target_kind_and_cut(target)
    state.kinds.append(kind)
    if cut:
        state.emit("W016", f"the target {cut}")
    return last_a, target


def record_system_prompt(state: LintState, view: RowView) -> None:
    """Has-system / has-user flags (W008) and the system prompt's key (W006)."""
    roles = view.roles
    sys = roles[0] == "system" or roles[0] == "developer"
    state.has_sys.append(1 if sys else 0)
    state.has_user.append(1 if "user" in roles else 0)
    if not sys:
        state.sys_hash.append(0)
        return
    h = text_key(view.texts[0])
    state.sys_hash.append(h)
    if h not in state.sys_count and len(state.sys_example) < SYS_EXAMPLES:
        state.sys_example[h] = view.texts[0]
    state.sys_count[h] += 1


def record_answer(state: LintState, target: str) -> int:
    """Count the answer as a class label while the answers look like labels (W010, I004); returns its key."""
    out = norm(target)
    labels = state.labels
    if labels is not None:
        if len(out) <= LABEL_MAX_CHARS and "\n" not in out:
            labels[out] += 1
            if len(labels) > LABEL_MAX_DISTINCT:
                state.labels = None
        else:
            state.labels = None
    return text_key(out)


def record_near_text(state: LintState, seq: int, view: RowView, near_texts: list[str]) -> None:
    """The row's text for near duplicates (W003) and leakage into the eval file (W005)."""
    doc = "\n".join(t for ro, t in zip(view.roles, view.texts, strict=False) if ro != "system")
    near_texts.append(doc)
    state.near_seq.append(seq)
    if state.docs_in_memory is not None:
        state.docs_in_memory.append(doc[:MAX_DOC_CHARS])
    if state.eval is not None:
        state.check_leak(doc)
