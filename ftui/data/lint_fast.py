"""Columnar fast path of the linter for plain chat rows (``{"messages": [{role, content}...]}``).

Why: per-row Python costs ~15 us, a bare parse ~1-2 us. For a batch of ordinary rows,
pyarrow parses the JSON into columns (C++, in the prefilter thread, GIL released) and
the per-row work becomes array arithmetic; only the hash-table updates stay per row.

Equivalence: a row takes the fast path only when the Python checks provably find
nothing row-local in it -- no prefilter hit, no duplicate or extra keys, every role
and content a string, a role sequence that passes every order check and ends on the
assistant, no empty answer, under the token limits, and an answer that
``target_kind_and_cut`` would call plain prose. Every other row, and every batch that
pyarrow cannot read with the strict schema, goes through ``_Linter.row``. The file-wide
state (hash keys, lengths, counters) is computed the same way on both paths, so a
duplicate of a fast row in a slow row is still found. ``tests/unit/test_lint_checks.py``
checks both paths give the same findings.
"""

from __future__ import annotations

import io
from array import array
from typing import TYPE_CHECKING, Any

import numpy as np

from ftui.data.checks import content as C
from ftui.data.checks.structure import check_order
from ftui.data.checks.tokens import PER_MESSAGE, REPLY_PRIMING

if TYPE_CHECKING:  # pragma: no cover
    from ftui.data.lint import _Linter

FAST_ROLES = frozenset({"system", "user", "assistant"})
PROSE_ENDS = (".", "!", "?")


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))])


def prefilter_and_plan(datas: list[bytes], params: tuple[frozenset[str], int | None, int | None, bool] | None) -> tuple[list[bool], Any, Any]:
    """Thread task (pyarrow and numpy release the GIL): suspect flags and, for plain chat
    (``params`` = allowed roles, max_len, hard limit, near-dups on), the batch parsed into
    columns and planned by ``plan_batch`` (None when the strict schema does not fit every line)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    blob = b"\n".join(datas)
    flags = pc.match_substring_regex(_lines_array(blob, datas), pattern=C.SUSPECT_RE2).to_pylist()
    if params is None:
        return flags, None, None
    counts = None  # duplicate keys make pyarrow's strict read fail, so no '":' count is needed here
    table = None
    try:
        import pyarrow.json as pj

        table = pj.read_json(
            io.BytesIO(blob),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(blob) + 1024)),
            parse_options=pj.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="error"),
        )
        if table.num_rows != len(datas):  # blank lines are skipped by pyarrow: row numbers would shift
            table = None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        table = None
    plan = plan_batch(table, flags, *params) if table is not None else None
    return flags, counts, plan


def _lines_array(blob: bytes, datas: list[bytes]) -> Any:
    """The rows as a pyarrow binary array over the joined batch, without copying each row:
    value i is row i plus its trailing newline, which no suspect pattern can match on."""
    import pyarrow as pa

    ends = np.cumsum(np.fromiter(map(len, datas), dtype=np.int64, count=len(datas)) + 1)
    offsets = np.empty(len(datas) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = np.minimum(ends, len(blob))
    return pa.Array.from_buffers(pa.large_binary(), len(datas), [None, pa.py_buffer(offsets), pa.py_buffer(blob)])


def _order_ok(allowed: frozenset[str], key: str) -> bool:
    """A role sequence on which every row-local role check is silent."""
    roles = key.split("\x1e")
    if not roles or roles[-1] != "assistant" or not set(roles) <= FAST_ROLES or not set(roles) <= allowed:
        return False
    found: list[tuple[str, str]] = []
    check_order(roles, lambda i, m: found.append((i, m)))
    return not found


def plan_batch(
    table: Any, flags: list[bool], allowed: frozenset[str], max_len: int | None, hard: int | None, near: bool
) -> dict[str, Any] | None:
    """Which rows of the parsed batch can take the fast path, and their values (no linter state touched)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    msgs = table.column("messages").combine_chunks()
    if msgs.null_count:
        msgs = pc.fill_null(msgs, pa.scalar([], type=msgs.type))
    offsets = msgs.offsets.to_numpy()
    nmsg = np.diff(offsets)
    flat = msgs.flatten()
    roles = flat.field("role")
    contents = flat.field("content")
    # message level
    m_null = (roles.is_null().to_numpy(zero_copy_only=False) | contents.is_null().to_numpy(zero_copy_only=False))
    clen = pc.utf8_length(pc.fill_null(contents, "")).to_numpy(zero_copy_only=False).astype(np.int64)
    tokens = clen // 4 + PER_MESSAGE
    parent = np.repeat(np.arange(n), nmsg)
    role_codes = pc.dictionary_encode(pc.fill_null(roles, ""))
    role_names = role_codes.dictionary.to_pylist()
    rc = role_codes.indices.to_numpy(zero_copy_only=False)
    assistant_code = role_names.index("assistant") if "assistant" in role_names else -1
    is_asst = rc == assistant_code
    blank = pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(contents, ""))).to_numpy(zero_copy_only=False) == 0
    # row level
    row_null = np.bincount(parent, weights=m_null, minlength=n) > 0
    row_blank_answer = np.bincount(parent, weights=is_asst & blank, minlength=n) > 0
    total = np.bincount(parent, weights=tokens, minlength=n).astype(np.int64) + REPLY_PRIMING
    trained = np.bincount(parent, weights=np.where(is_asst, tokens, 0), minlength=n).astype(np.int64)
    keys = pc.dictionary_encode(pc.fill_null(pc.binary_join(_roles_list(msgs, roles), "\x1e"), ""))
    key_names = keys.dictionary.to_pylist()
    key_ok = np.array([_order_ok(allowed, k) for k in key_names] + [False], dtype=bool)
    kidx = keys.indices.to_numpy(zero_copy_only=False)
    # the answer: the last message (the role key guarantees it is the assistant's)
    last = np.maximum(offsets[1:] - 1, 0)
    target = pc.take(contents, pa.array(last)) if len(contents) else pa.array([""] * n)
    t_trim = pc.utf8_rtrim_whitespace(pc.fill_null(target, ""))
    t_len = pc.utf8_length(t_trim).to_numpy(zero_copy_only=False)
    first_char = pc.utf8_slice_codeunits(t_trim, 0, 1)
    json_like = pc.is_in(first_char, value_set=pa.array(["{", "["])).to_numpy(zero_copy_only=False)
    fence = pc.match_substring(t_trim, "```").to_numpy(zero_copy_only=False)
    ends_prose = pc.match_substring_regex(t_trim, r"[.!?]$").to_numpy(zero_copy_only=False)
    prose_ok = ~json_like & ~fence & ((t_len < 40) | ends_prose)
    fast = (
        ~np.asarray(flags, dtype=bool)
        & (nmsg > 0)
        & ~row_null
        & key_ok[kidx]
        & ~row_blank_answer
        & prose_ok
    )
    if max_len:
        fast &= total <= max_len
    if hard:
        fast &= total <= hard
    if not fast.any():
        return None
    fidx = np.nonzero(fast)[0]
    # per-row strings, only for fast rows
    all_fast = len(fidx) == n
    sel = pa.array(fidx)
    msgs_f = msgs if all_fast else pc.take(msgs, sel)
    contents_f = msgs_f.flatten().field("content")
    nmsg_f = nmsg[fidx]
    joined = _strings(pc.binary_join(pa.ListArray.from_arrays(msgs_f.offsets, contents_f), "\x1f"))
    keys_f = [key_names[k] for k in kidx[fidx].tolist()]
    first_is_sys = np.array([k.startswith("system\x1e") for k in key_names] + [False], dtype=bool)[kidx[fidx]]
    first_is_sys_l = first_is_sys.tolist()
    sys_text = _strings(pc.take(contents, pa.array(offsets[:-1][fidx])))
    last_len = clen[last[fidx]].tolist()
    tgt = _strings(target if all_fast else pc.take(target, sel))
    nl = sys_len = None
    if near:
        nl = _strings(pc.binary_join(pa.ListArray.from_arrays(msgs_f.offsets, contents_f), "\n"))
        sys_len = clen[offsets[:-1][fidx]].tolist()
    plan = dict(locals())
    for name in ("pa", "pc", "table", "flags", "msgs", "flat", "roles", "contents", "target", "t_trim", "first_char",
                 "keys", "role_codes", "msgs_f", "contents_f", "sel"):
        plan.pop(name, None)
    return plan


def apply_plan(linter: _Linter, rows: list[Any], flags: list[bool], plan: dict[str, Any], near_texts: list[str] | None) -> None:
    """Lint ``rows``: fast rows from the plan, the others through ``linter.row``, in file order."""
    from ftui.data.dedup import MAX_DOC_CHARS
    from ftui.data.lint import LABEL_MAX_CHARS, LABEL_MAX_DISTINCT

    n, fast, fidx, parent, rc, role_names, tokens = (plan[k] for k in ("n", "fast", "fidx", "parent", "rc", "role_names", "tokens"))
    trained, total, nmsg_f, first_is_sys, kidx, key_names = (plan[k] for k in ("trained", "total", "nmsg_f", "first_is_sys", "kidx", "key_names"))
    sys_text, tgt, joined, keys_f, last_len = (plan[k] for k in ("sys_text", "tgt", "joined", "keys_f", "last_len"))
    first_is_sys_l, nl, sys_len = plan["first_is_sys_l"], plan["nl"], plan["sys_len"]
    if near_texts is not None and nl is None:  # planned without near texts: cannot happen, but stay correct
        for j, r in enumerate(rows):
            linter.row(r, flags[j], near_texts)
        return
    # file-wide counters from the fast rows, in bulk
    fast_msg = fast[parent]
    for code, name in enumerate(role_names):
        mask = fast_msg & (rc == code)
        if not mask.any():
            continue
        cols = linter.role_len.setdefault(name, (array("q"), array("i")))
        cols[0].frombytes((parent[mask] + linter.n).astype(np.int64).tobytes())
        cols[1].frombytes(tokens[mask].astype(np.int32).tobytes())
    linter.trained_tokens += int(trained[fidx].sum())
    linter.all_tokens += int(total[fidx].sum())
    turns = nmsg_f - first_is_sys
    for t, c in zip(*np.unique(turns, return_counts=True), strict=True):
        linter.turn_count[int(t)] += int(c)
    # per-seq columns of the fast rows, extended a run at a time below
    has_user_key = np.array(["user" in k.split("\x1e") for k in key_names] + [False], dtype=np.uint8)
    col_totals = total[fidx].astype(np.int32)
    col_has_sys = first_is_sys.astype(np.uint8)
    col_has_user = has_user_key[kidx[fidx]]
    sys_unique: dict[str, int] = {}
    sys_h = []
    for k, is_sys in enumerate(first_is_sys.tolist()):
        if is_sys:
            st = sys_text[k]
            h = sys_unique.get(st)
            if h is None:
                h = sys_unique[st] = hash(st)
                if h not in linter.sys_count and len(linter.sys_example) < 1000:
                    linter.sys_example[h] = st
            linter.sys_count[h] += 1
            sys_h.append(h)
        else:
            sys_h.append(0)
    nmsg_l = nmsg_f.tolist()
    # in file order: slow rows through the Python path; runs of fast rows extend the columns
    # and then update the hash tables row by row
    fast_l = fast.tolist()
    label_chars, label_distinct = LABEL_MAX_CHARS, LABEL_MAX_DISTINCT
    out_count, out_example = linter.out_count, linter.out_example
    full_first, input_first = linter.full_first, linter.input_first
    k = 0
    j = 0
    while j < n:
        if not fast_l[j]:
            linter.row(rows[j], flags[j], near_texts)
            j += 1
            continue
        run_end = j
        while run_end < n and fast_l[run_end]:
            run_end += 1
        k0, k1 = k, k + (run_end - j)
        linter.offsets.extend([r.offset for r in rows[j:run_end]])
        linter.totals.frombytes(col_totals[k0:k1].tobytes())
        linter.kinds.extend(bytes([C.KIND_PROSE]) * (k1 - k0))
        linter.has_sys.extend(col_has_sys[k0:k1].tobytes())
        linter.has_user.extend(col_has_user[k0:k1].tobytes())
        linter.sys_hash.extend(sys_h[k0:k1])
        linter.valid += k1 - k0
        linter.fast_rows += k1 - k0
        # the hash-table updates of a run, as C-level map/update calls in file order
        seq0 = linter.n
        seqs = range(seq0, seq0 + (k1 - k0))
        linter.n += k1 - k0
        outs = [t.strip().lower() for t in tgt[k0:k1]]
        ohs = list(map(hash, outs))
        list(map(out_example.setdefault, ohs, seqs))
        out_count.update(ohs)
        if linter.labels is not None:
            if all(len(o) <= label_chars and "\n" not in o for o in outs):
                linter.labels.update(outs)
                if len(linter.labels) > label_distinct:
                    linter.labels = None
            else:
                linter.labels = None
        lows = [t.lower() for t in joined[k0:k1]]
        fulls = list(map(hash, zip(keys_f[k0:k1], lows, strict=True)))
        firsts = list(map(full_first.setdefault, fulls, seqs))
        for i, (seq, first) in enumerate(zip(seqs, firsts, strict=True)):
            k = k0 + i
            if first != seq:
                linter.exact_dup_rows += 1
                linter.dup_groups.add(first)
                r = rows[j + i]
                linter._seq, linter._row, linter._off = seq, r.row, r.offset
                linter.emit("W002", f"exact duplicate of row {linter.base_row + first}")
                continue
            if nmsg_l[k] > 1:
                low = lows[i]
                oh = ohs[i]
                inp = hash(low[: len(low) - last_len[k] - 1])
                seen = input_first.setdefault(inp, (seq, oh))
                if seen[0] == seq:
                    continue
                if linter.track_repeats:
                    linter.input_repeats.append((seq, inp, oh, rows[j + i].row, seen[1] != oh))
                if seen[1] != oh:
                    linter.contradictions += 1
                    r = rows[j + i]
                    linter._seq, linter._row, linter._off = seq, r.row, r.offset
                    linter.emit("W004", f"same input as row {linter.base_row + seen[0]}, different output")
        if near_texts is not None:
            for i, seq in enumerate(seqs):
                k = k0 + i
                doc = nl[k][sys_len[k] + 1 :] if first_is_sys_l[k] else nl[k]
                near_texts.append(doc)
                linter.near_seq.append(seq)
                if linter.docs_in_memory is not None:
                    linter.docs_in_memory.append(doc[:MAX_DOC_CHARS])
                if linter.eval is not None:
                    r = rows[j + i]
                    linter._seq, linter._row, linter._off = seq, r.row, r.offset
                    linter.eval.check_exact(linter, doc)
        k = k1
        j = run_end


def _strings(arr: Any) -> list[str]:
    """A pyarrow string array as Python strs (to_numpy is several times faster than to_pylist)."""
    return arr.to_numpy(zero_copy_only=False).tolist()


def _roles_list(msgs: Any, roles: Any) -> Any:
    import pyarrow as pa

    return pa.ListArray.from_arrays(msgs.offsets, roles)
