"""Columnar fast path of the linter for plain chat rows (``{"messages": [{role, content}...]}``).

Why: per-row Python costs ~15 us, a bare parse ~1-2 us. For a batch of ordinary rows,
pyarrow parses the JSON into columns (C++, in the prefilter thread, GIL released) and
the per-row work becomes array arithmetic; only the hash-table updates stay per row.

Equivalence: a row takes the fast path only when the Python checks provably find
nothing row-local in it -- no prefilter hit, no duplicate or extra keys, every role
and content a string, a role sequence that passes every order check and ends on the
assistant, no empty answer, under the token limits, and an answer that
``target_kind_and_cut`` would call plain prose. Every other row, and every batch that
pyarrow cannot read with the strict schema, goes through ``rows.lint_row``. The file-wide
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
from ftui.data.lint.rows import lint_row
from ftui.data.lint.state import LABEL_MAX_CHARS, LABEL_MAX_DISTINCT, SYS_EXAMPLES, LintState
from ftui.data.source import RawRow
from ftui.data.textkey import bytes_key, text_key

if TYPE_CHECKING:  # pragma: no cover
    from ftui.data.source import RowBlock

FAST_ROLES = frozenset({"system", "user", "assistant"})
PROSE_ENDS = (".", "!", "?")
# byte -> is it one of these (a lookup table: 10x cheaper than np.isin on a batch's bytes)
_WS_BYTES = np.zeros(256, dtype=bool)
_WS_BYTES[list(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ")] = True  # str.isspace() in ASCII
_PROSE_END_BYTES = np.zeros(256, dtype=bool)
_PROSE_END_BYTES[list(b".!?")] = True
SPLIT_BYTES = 1 << 20  # a batch the strict schema rejects is tried again in parts of this size
# rows the fast path leaves to Python: any SUSPECT hit (they need the text checks) or a code fence
FAST_EXCLUDE_RE2 = C.SUSPECT_RE2 + "|```"


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))])


class Batch:
    """One lint batch: its rows joined by ``\\n`` in ``blob`` and where each starts.

    Why: a JSONL block read in one piece (``source.RowBlock``) goes to RE2 and pyarrow
    as is, and its rows become Python objects only when the Python path needs them
    (``raw``). Rows from elsewhere (odd blocks, JSON arrays, Parquet) are joined once.
    ``bounds[j]`` is where row j starts in ``blob`` and ``bounds[j + 1] - 1`` where it ends.
    """

    __slots__ = ("blob", "bounds", "offsets", "n", "nbytes", "_rows", "_row0")

    def __init__(self, blob: bytes, bounds: np.ndarray, offsets: np.ndarray, rows: list[RawRow] | None, row0: int) -> None:
        self.blob, self.bounds, self.offsets, self._rows, self._row0 = blob, bounds, offsets, rows, row0
        self.n = len(bounds) - 1
        self.nbytes = len(blob) + 1

    @classmethod
    def from_block(cls, block: RowBlock, max_row_bytes: int) -> Batch:
        blob = block.blob
        if b"\r" in blob:  # CRLF: rows must lose their "\r" -- the row objects do that
            return cls.from_rows(block.raw_rows(max_row_bytes))
        nl = block.newlines if block.newlines is not None else np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == 10)
        bounds = np.empty(len(nl) + 2, dtype=np.int64)
        bounds[0] = 0
        bounds[1:-1] = nl + 1
        bounds[-1] = len(blob) + 1
        if len(bounds) > 1 and int(np.diff(bounds).max()) - 1 > max_row_bytes:
            return cls.from_rows(block.raw_rows(max_row_bytes))
        return cls(blob, bounds, bounds[:-1] + block.offset, None, block.row)

    @classmethod
    def from_rows(cls, rows: list[RawRow]) -> Batch:
        lens = np.fromiter((len(r.data) + 1 for r in rows), dtype=np.int64, count=len(rows))
        bounds = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=bounds[1:])
        offsets = np.fromiter((r.offset for r in rows), dtype=np.int64, count=len(rows))
        return cls(b"\n".join([r.data for r in rows]), bounds, offsets, rows, 0)

    def raw(self, j: int) -> RawRow:
        if self._rows is not None:
            return self._rows[j]
        a, b = int(self.bounds[j]), int(self.bounds[j + 1]) - 1
        return RawRow(self._row0 + j, int(self.offsets[j]), self.blob[a:b], b - a)

    def row_no(self, j: int) -> int:
        return self._rows[j].row if self._rows is not None else self._row0 + j

    def datas(self) -> list[bytes]:
        return [r.data for r in self._rows] if self._rows is not None else [self.raw(j).data for j in range(self.n)]

    def part(self, j0: int, j1: int) -> Batch:
        """Rows [j0, j1) as a batch of their own (one copy of their bytes)."""
        a, b = int(self.bounds[j0]), int(self.bounds[j1]) - 1
        rows = self._rows[j0:j1] if self._rows is not None else None
        return Batch(self.blob[a:b], self.bounds[j0 : j1 + 1] - a, self.offsets[j0:j1], rows, self._row0 + j0)

    def split(self, nbytes: int) -> list[tuple[int, int]]:
        """Row ranges [j0, j1) of about ``nbytes`` each that cover the batch."""
        cuts = np.searchsorted(self.bounds, np.arange(nbytes, self.nbytes, nbytes), side="left").tolist()
        edges = sorted({0, self.n, *(c for c in cuts if 0 < c < self.n)})
        return list(zip(edges[:-1], edges[1:], strict=True))


def prefilter_and_plan(batch: Batch, params: tuple[frozenset[str], int | None, int | None, bool] | None) -> tuple[np.ndarray, Any, Any]:
    """Thread task (pyarrow and numpy release the GIL): suspect flags and, for plain chat
    (``params`` = allowed roles, max_len, hard limit, near-dups on), the batch parsed into
    columns and planned by ``plan_batch`` (None when the strict schema does not fit every line;
    for a large batch, a list of (part, its flags, its plan or None) instead)."""
    import pyarrow.compute as pc

    blob = batch.blob
    flags = _np_bool(pc.match_substring_regex(_lines_array(blob, batch.bounds), pattern=FAST_EXCLUDE_RE2 if params is not None else C.SUSPECT_RE2))
    if params is None:
        return flags, None, None
    counts = None  # duplicate keys make pyarrow's strict read fail, so no '":' count is needed here
    table = _read_strict(batch)
    if table is not None:
        return flags, counts, plan_batch(table, flags, *params)
    if batch.nbytes < 2 * SPLIT_BYTES:
        return flags, counts, None
    # One row the strict schema rejects (an extra key, parts for content) would send the whole
    # batch to the Python path: try its ~1 MB parts on their own, so only the failing ones go.
    parts = []
    for j0, j1 in batch.split(SPLIT_BYTES):
        sub = batch.part(j0, j1)
        sub_table = _read_strict(sub)
        parts.append((sub, flags[j0:j1], plan_batch(sub_table, flags[j0:j1], *params) if sub_table is not None else None))
    return flags, counts, parts


def _read_strict(batch: Batch) -> Any:
    """The batch parsed by pyarrow with the plain-chat schema, or None if any line does not fit it."""
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        table = pj.read_json(
            io.BytesIO(batch.blob),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(batch.blob) + 1024)),
            parse_options=pj.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="error"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    return table if table.num_rows == batch.n else None  # blank lines are skipped by pyarrow: row numbers would shift


def _lines_array(blob: bytes, bounds: np.ndarray) -> Any:
    """The rows as a pyarrow binary array over the joined batch, without copying each row:
    value i is row i plus its trailing newline, which no suspect pattern can match on."""
    import pyarrow as pa

    offsets = np.minimum(bounds, len(blob))
    return pa.Array.from_buffers(pa.large_binary(), len(bounds) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(blob)])


def _order_ok(allowed: frozenset[str], key: str) -> bool:
    """A role sequence on which every row-local role check is silent."""
    roles = key.split("\x1e")
    if not roles or roles[-1] != "assistant" or not set(roles) <= FAST_ROLES or not set(roles) <= allowed:
        return False
    found: list[tuple[str, str]] = []
    check_order(roles, lambda i, m: found.append((i, m)))
    return not found


def plan_batch(
    table: Any, flags: Any, allowed: frozenset[str], max_len: int | None, hard: int | None, near: bool
) -> dict[str, Any] | None:
    """Which rows of the parsed batch can take the fast path, and their values (no linter state touched).

    Values are computed for every row of the batch (cheaper than selecting first); only
    the fast rows' are used. Byte-level tests stand in for character-level ones where
    they can only be stricter (a row they wrongly exclude just takes the Python path).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    msgs = table.column("messages").combine_chunks()
    row_null = _np_bool(msgs.is_null())  # "messages": null (its list is empty in the offsets)
    offsets = _np(msgs.offsets).astype(np.int64)
    offsets -= offsets[0]
    nmsg = np.diff(offsets)
    list_off = _arrow_ints(offsets.astype(np.int32))
    flat = msgs.flatten()
    roles = flat.field("role")
    contents = flat.field("content")
    nm = len(contents)
    if nm == 0:
        return None
    m_null = _np_bool(roles.is_null()) | _np_bool(contents.is_null())
    if contents.null_count:
        contents = pc.coalesce(contents, _const_str(b"", nm))
    if roles.null_count:
        roles = pc.coalesce(roles, _const_str(b"", nm))
    # message level, from the raw buffers: byte length, first and last byte
    coff = np.frombuffer(contents.buffers()[1], dtype=np.int32)[contents.offset : contents.offset + nm + 1].astype(np.int64)
    blen = np.diff(coff)
    data = contents.buffers()[2]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(1, dtype=np.uint8)
    nonempty = blen > 0
    first_b = np.where(nonempty, buf[np.minimum(coff[:-1], len(buf) - 1)], 0)
    last_b = np.where(nonempty, buf[np.clip(coff[1:] - 1, 0, len(buf) - 1)], 0)
    # ASCII messages: those holding no byte >= 0x80 (one numpy pass over the text bytes)
    m_ascii = np.ones(nm, dtype=bool)
    high = np.flatnonzero(buf[coff[0] : coff[-1]] >= 0x80)
    if len(high):
        m_ascii[np.searchsorted(coff, high + coff[0], side="right") - 1] = False
    clen = blen.copy()  # characters: bytes for ASCII text
    wide = np.flatnonzero(~m_ascii)
    if len(wide):
        clen[wide] = _np(pc.utf8_length(pc.take(contents, _arrow_ints(wide))))
    tokens = clen // 4 + PER_MESSAGE
    parent = np.repeat(np.arange(n), nmsg)
    role_codes = pc.dictionary_encode(roles)
    role_names = role_codes.dictionary.to_pylist()
    rc = _np(role_codes.indices)
    is_asst = rc == (role_names.index("assistant") if "assistant" in role_names else -1)
    # row level
    row_null |= np.bincount(parent, weights=m_null, minlength=n) > 0
    row_empty_msg = np.bincount(parent, weights=~nonempty, minlength=n) > 0  # E006 / empty turns: Python path
    row_ascii = np.bincount(parent, weights=~m_ascii, minlength=n) == 0
    total = np.bincount(parent, weights=tokens, minlength=n).astype(np.int64) + REPLY_PRIMING
    trained = np.bincount(parent, weights=np.where(is_asst, tokens, 0), minlength=n).astype(np.int64)
    keys = pc.dictionary_encode(pc.binary_join(pa.ListArray.from_arrays(list_off, roles), _const_str(b"\x1e", n)))
    key_names = keys.dictionary.to_pylist()
    key_ok = np.array([_order_ok(allowed, k) for k in key_names] + [False], dtype=bool)
    kidx = _np(keys.indices)
    # the answer: the last message (the role key guarantees it is the assistant's)
    last = np.maximum(offsets[1:] - 1, 0)
    t_first, t_last, t_blen = first_b[last], last_b[last], blen[last]
    # an answer whose text could be blank (starts with whitespace or a non-ASCII byte) is measured
    maybe_blank = is_asst & nonempty & (_WS_BYTES[first_b] | (first_b >= 0x80))
    blank_answer = np.zeros(n, dtype=bool)
    mb = np.flatnonzero(maybe_blank)
    if len(mb):
        trimmed = _np(pc.utf8_length(pc.utf8_trim_whitespace(pc.take(contents, _arrow_ints(mb)))))
        blank_answer[parent[mb[trimmed == 0]]] = True
    # plain prose for target_kind_and_cut: not JSON-like, no ``` (the prefilter flags those rows),
    # and short or ending on . ! ? (a trailing space sends the row to the Python path)
    prose_ok = (t_first != 0x7B) & (t_first != 0x5B) & ((t_blen < 40) | _PROSE_END_BYTES[t_last])
    fast = (
        ~np.asarray(flags, dtype=bool)
        & (nmsg > 0)
        & ~row_null
        & ~row_empty_msg
        & key_ok[kidx]
        & ~blank_answer
        & prose_ok
    )
    if max_len:
        fast &= total <= max_len
    if hard:
        fast &= total <= hard
    if not fast.any():
        return None
    # the hash keys, exactly as ``LintState.add_keys`` and ``evalset.norm`` form them: the input (all turns
    # but the last) and the answer, lowered. Arrow lowers ASCII; a row with other characters
    # is finished by str.lower / str.strip (lower(ascii_lower(s)) == lower(s)).
    not_last = np.ones(nm, dtype=bool)
    not_last[offsets[1:][nmsg > 0] - 1] = False
    head_off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.maximum(nmsg - 1, 0), out=head_off[1:])
    heads_arr = pc.binary_join(pa.ListArray.from_arrays(_arrow_ints(head_off), pc.filter(contents, _arrow_bool(not_last))),
                               _const_str(b"\x1f", n))
    target = pc.take(contents, _arrow_ints(last))
    heads = _bytes(pc.ascii_lower(heads_arr))
    answers = _bytes(pc.ascii_lower(target))
    for i in np.flatnonzero(~row_ascii & fast).tolist():
        heads[i] = heads[i].decode().lower().encode()
        answers[i] = answers[i].decode().lower().encode()
    outs = answers  # _norm(answer): the same text unless there is whitespace to strip at either end
    strip = np.flatnonzero(fast & (_WS_BYTES[t_first] | _WS_BYTES[t_last] | (t_first >= 0x80) | (t_last >= 0x80)))
    if len(strip):
        outs = list(answers)
        for i in strip.tolist():
            outs[i] = answers[i].decode().strip().encode()
    key_ids = [text_key(k) for k in key_names]
    inps_l = list(map(bytes_key, heads))
    ahs_l = list(map(bytes_key, answers))
    fulls = np.fromiter(map(hash, zip(map(key_ids.__getitem__, kidx.tolist()), inps_l, ahs_l, strict=True)), np.int64, n)
    inps = np.array(inps_l, dtype=np.uint64)
    inps[nmsg <= 1] = 0  # a lone answer has no input to contradict
    ohs = np.fromiter(map(bytes_key, outs), np.uint64, n) if len(strip) else np.array(ahs_l, dtype=np.uint64)
    # system prompts: hashed once per distinct text in the batch
    is_sys_key = np.array([k.startswith("system\x1e") for k in key_names] + [False], dtype=bool)
    first_is_sys = is_sys_key[kidx]
    sys_h = np.zeros(n, dtype=np.uint64)
    sys_texts: list[str] = []
    sys_counts: list[int] = []
    sys_uh: list[int] = []
    sys_fast = first_is_sys & fast
    if sys_fast.any():
        enc = pc.dictionary_encode(pc.take(contents, _arrow_ints(offsets[:-1][sys_fast])))
        sys_texts = enc.dictionary.to_pylist()
        sys_uh = [text_key(t) for t in sys_texts]
        codes = _np(enc.indices)
        sys_h[sys_fast] = np.array(sys_uh, dtype=np.uint64)[codes]
        sys_counts = np.bincount(codes, minlength=len(sys_texts)).tolist()
    has_user_key = np.array(["user" in k.split("\x1e") for k in key_names] + [False], dtype=np.uint8)
    nl = sys_len = None
    if near:
        nl = pc.binary_join(pa.ListArray.from_arrays(list_off, contents), _const_str(b"\n", n)).to_pylist()
        sys_len = clen[offsets[:-1].clip(0, nm - 1)].tolist()
    return {
        "n": n, "fast": fast, "fidx": np.flatnonzero(fast), "parent": parent, "rc": rc, "role_names": role_names,
        "tokens": tokens, "trained": trained, "total": total, "nmsg": nmsg, "first_is_sys": first_is_sys,
        "has_user": has_user_key[kidx], "outs": outs, "ohs": ohs, "fulls": fulls, "inps": inps,
        "sys_h": sys_h, "sys_texts": sys_texts, "sys_uh": sys_uh, "sys_counts": sys_counts,
        "nl": nl, "sys_len": sys_len,
    }


def apply_plan(linter: LintState, batch: Batch, flags: Any, plan: dict[str, Any], near_texts: list[str] | None) -> None:
    """Lint ``batch``: fast rows from the plan, the others through ``rows.lint_row``, in file order.

    A run of fast rows extends the columns from the plan's arrays, keys included: no
    Python work per row.
    """
    n, fast, fidx, parent, rc, role_names, tokens = (plan[k] for k in ("n", "fast", "fidx", "parent", "rc", "role_names", "tokens"))
    trained, total, nmsg, first_is_sys = plan["trained"], plan["total"], plan["nmsg"], plan["first_is_sys"]
    if near_texts is not None and plan["nl"] is None:  # planned without near texts: cannot happen, but stay correct
        for j in range(batch.n):
            lint_row(linter, batch.raw(j), flags[j], near_texts)
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
    turns = nmsg[fidx] - first_is_sys[fidx]
    for t, c in zip(*np.unique(turns, return_counts=True), strict=True):
        linter.turn_count[int(t)] += int(c)
    for text, h, c in zip(plan["sys_texts"], plan["sys_uh"], plan["sys_counts"], strict=True):
        if h not in linter.sys_count and len(linter.sys_example) < SYS_EXAMPLES:
            linter.sys_example[h] = text
        linter.sys_count[h] += c
    # in file order: slow rows through the Python path, the runs of fast rows between them
    # extend the columns
    label_chars, label_distinct = LABEL_MAX_CHARS, LABEL_MAX_DISTINCT
    j = 0
    for stop in [*np.flatnonzero(~fast).tolist(), n]:
        if stop > j:
            _extend_run(linter, batch, plan, j, stop, near_texts, label_chars, label_distinct)
        if stop < n:
            lint_row(linter, batch.raw(stop), flags[stop], near_texts)
        j = stop + 1


def _extend_run(linter: LintState, batch: Batch, plan: dict[str, Any], j: int, j1: int, near_texts: list[str] | None,
                label_chars: int, label_distinct: int) -> None:
    """Rows [j, j1) of the batch, all fast: their columns, keys and near-duplicate texts."""
    from ftui.data.dedup import MAX_DOC_CHARS

    outs, ohs, fulls, inps, sys_h = plan["outs"], plan["ohs"], plan["fulls"], plan["inps"], plan["sys_h"]
    nl, sys_len, first_is_sys = plan["nl"], plan["sys_len"], plan["first_is_sys"]
    m = j1 - j
    linter.offsets.frombytes(batch.offsets[j:j1].tobytes())
    linter.totals.frombytes(plan["total"][j:j1].astype(np.int32).tobytes())
    linter.kinds.extend(bytes([C.KIND_PROSE]) * m)
    linter.has_sys.extend(first_is_sys[j:j1].astype(np.uint8).tobytes())
    linter.has_user.extend(plan["has_user"][j:j1].tobytes())
    linter.sys_hash.frombytes(sys_h[j:j1].tobytes())
    linter.valid += m
    linter.fast_rows += m
    seq0 = linter.n
    seqs = range(seq0, seq0 + m)
    linter.n += m
    linter.full_keys.frombytes(fulls[j:j1].tobytes())
    linter.input_keys.frombytes(inps[j:j1].tobytes())
    linter.answer_keys.frombytes(ohs[j:j1].tobytes())
    if linter.labels is not None:
        outs_r = [o.decode() for o in outs[j:j1]]
        if all(len(o) <= label_chars and "\n" not in o for o in outs_r):
            linter.labels.update(outs_r)
            if len(linter.labels) > label_distinct:
                linter.labels = None
        else:
            linter.labels = None
    if near_texts is not None:
        for i, seq in enumerate(seqs):
            jj = j + i
            doc = nl[jj][sys_len[jj] + 1 :] if first_is_sys[jj] else nl[jj]
            near_texts.append(doc)
            linter.near_seq.append(seq)
            if linter.docs_in_memory is not None:
                linter.docs_in_memory.append(doc[:MAX_DOC_CHARS])
            if linter.eval is not None:
                linter.at(seq, batch.row_no(jj), int(batch.offsets[jj]))
                linter.check_leak(doc)


# pyarrow -> numpy and back through the buffers: pyarrow's own converters (to_numpy,
# pa.array, Python scalars as arguments) import pandas first, 0.3-0.4 s in every process.


def _np(arr: Any) -> np.ndarray:
    """A primitive pyarrow array without nulls (or whose null slots do not matter) as numpy."""
    dtype = np.dtype(str(arr.type))  # int32, int64, ...
    if len(arr) == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)]


def _np_bool(arr: Any) -> np.ndarray:
    """A pyarrow boolean array as numpy bools (a null counts as False)."""
    n, off = len(arr), arr.offset
    if n == 0:
        return np.zeros(0, dtype=bool)
    bits = np.unpackbits(np.frombuffer(arr.buffers()[1], dtype=np.uint8), bitorder="little")[off : off + n].astype(bool)
    if arr.null_count:
        bits &= np.unpackbits(np.frombuffer(arr.buffers()[0], dtype=np.uint8), bitorder="little")[off : off + n].astype(bool)
    return bits


def _arrow_ints(values: np.ndarray) -> Any:
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    kind = {np.dtype(np.int32): pa.int32(), np.dtype(np.int64): pa.int64()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _arrow_bool(mask: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(np.packbits(mask, bitorder="little"))])


def _const_str(value: bytes, n: int) -> Any:
    """``n`` copies of ``value`` as a pyarrow string array (a separator or a fill for n rows)."""
    import pyarrow as pa

    offsets = np.arange(n + 1, dtype=np.int32) * len(value)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(value * n or b"\0")])


def _bytes(arr: Any) -> list[bytes]:
    """A pyarrow string array's values as bytes objects (cheaper to make than strs: no decoding)."""
    import pyarrow as pa

    return arr.cast(pa.binary()).to_pylist()
