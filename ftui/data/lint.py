"""The dataset linter: one streaming pass over the rows, then the file-wide checks.

Design (why it is fast and small):
- JSONL is read in ~1 MB blocks of whole lines (``source.iter_jsonl_blocks``); one RE2
  scan over a block (``checks.content.SUSPECT``) picks the few rows that need the precise
  text checks, and plain chat rows are parsed into columns by pyarrow and checked as
  arrays (``lint_fast``); every other row takes the Python path (``_Linter.row``);
- file-wide state is compact ``array`` columns (offsets, lengths, kinds, 64-bit text
  keys: a few dozen bytes per row) and small counters; duplicates, contradictions and a
  dominant answer are found from the key columns after the pass;
- a large file is split into byte ranges linted by parallel processes (``lint_parallel``);
- ``on_progress(rows_done, bytes_done, bytes_total)`` and ``on_findings(list)`` are called
  once per batch so a UI can stream; ``cancel`` (anything with ``is_set()``) stops early.
  Duplicate and contradiction findings arrive at the end, with the file-wide checks.

Check ids, severities and fixes live in ``checks.catalogue``.
"""

from __future__ import annotations

import bisect
import json
import os
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson

from ftui.data import formats
from ftui.data.checks import content as C
from ftui.data.checks import corpus
from ftui.data.checks.catalogue import CHECKS, ERROR, INFO, SEVERITY_ORDER, WARNING
from ftui.data.checks.structure import CHECKERS, PROFILES, Profile, RowView, check_order
from ftui.data.checks.tokens import PER_MESSAGE, REPLY_PRIMING, EstimateCounter, make_counter, truncation_loss
from ftui.data.dedup import MAX_DOC_CHARS
from ftui.data.lint_fast import Batch, prefilter_and_plan
from ftui.data.source import DatasetError, RowBlock, SourceInfo, inspect_source, iter_jsonl_blocks, iter_raw_rows
from ftui.data.textkey import text_key

BATCH_BYTES = int(os.environ.get("FTUI_LINT_BATCH_BYTES", 1 << 20))  # env: a tuning/testing knob
MAX_ROW_BYTES = 64 << 20
FAST_PATH = True  # tests switch it off to compare the two paths
ARROW_MIN_BYTES = int(os.environ.get("FTUI_LINT_ARROW_MIN_BYTES", 8 << 20))  # below this, Python's re is fast enough and importing pyarrow is not worth it  # a longer row is reported (E013), not parsed
SFT_FORMATS = {formats.CHAT, formats.SHAREGPT, formats.ALPACA, formats.PROMPT_COMPLETION, formats.TEXT}
TURN_FORMATS = {formats.CHAT, formats.SHAREGPT, formats.PROMPT_COMPLETION}
LABEL_MAX_CHARS = 64
LABEL_MAX_DISTINCT = 50
SYS_EXAMPLES = 1000  # distinct system prompts kept as text (for W006 messages)


@dataclass(slots=True)
class Finding:
    """One problem: ``row``/``offset`` are None for findings about the whole file."""

    id: str
    severity: str
    row: int | None
    offset: int | None
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "row": self.row, "offset": self.offset,
                "message": self.message, "hint": self.hint}


@dataclass
class LintReport:
    format: str
    rows: int
    findings: list[Finding]
    summary: dict[str, Any]
    stats: dict[str, Any]
    path: str = ""
    profile: str = "trl"
    format_label: str = ""
    cancelled: bool = False
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.summary.get("errors", 0)

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` object (docs/data-cli.md)."""
        return {
            "format": self.format,
            "format_label": self.format_label,
            "path": self.path,
            "profile": self.profile,
            "rows": self.rows,
            "cancelled": self.cancelled,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "stats": self.stats,
        }

    def by_id(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.id, []).append(f)
        return dict(sorted(out.items(), key=lambda kv: (SEVERITY_ORDER[kv[1][0].severity], kv[0])))


class _Flag(Protocol):
    def is_set(self) -> bool: ...


ProgressFn = Callable[[int, int, int], None]
FindingsFn = Callable[[list[Finding]], None]


def _hint(check_id: str) -> str:
    return CHECKS[check_id].hint


def _norm(text: str) -> str:
    return text.strip().lower()


class _Linter:
    def __init__(
        self,
        info: SourceInfo,
        guess: formats.FormatGuess,
        profile: Profile,
        tokenizer: str | None,
        max_seq_len: int | None,
        eval_path: str | Path | None,
        near_dups: bool,
        near_threshold: float,
    ) -> None:
        self.info = info
        self.fmt = guess.format
        self.profile = profile
        self.counter = make_counter(tokenizer)
        self.estimate = isinstance(self.counter, EstimateCounter)
        # the columnar fast path (lint_fast) handles plain chat rows when tokens are estimated
        fast_ok = self.estimate and guess.format == formats.CHAT and FAST_PATH
        max_len = max_seq_len if max_seq_len else profile.default_max_seq_len
        self.fast_params = (profile.roles, max_len, profile.hard_limit, near_dups or eval_path is not None) if fast_ok else None
        self.max_len = max_seq_len if max_seq_len else profile.default_max_seq_len
        # TRL truncates instead of failing, so only a profile's own limit is hard (E013).
        self.hard = profile.hard_limit
        self.checker = CHECKERS.get(self.fmt)
        self.sft = self.fmt in SFT_FORMATS
        self.turns = self.fmt in TURN_FORMATS
        self.order_memo: dict[str, list[tuple[str, str]]] = {}
        self.empty_turns: set[tuple[int, str]] = set()  # (seq, role) of turns with no text
        self.fast_rows = 0  # rows linted by the columnar fast path (lint_fast)
        self.pending: list[Finding] = []
        self.n = 0  # rows seen
        self.valid = 0  # rows that passed the structural checks
        self.error_rows: set[int] = set()
        # per-row columns (index = sequence number of the row)
        self.base_row = 1  # row number of seq 0 (a worker linting a byte range starts later)
        self.offsets = array("q")
        self.totals = array("i")  # tokens per row (0 for broken rows)
        self.kinds = bytearray()  # target kind for W017 (0 = none)
        self.has_sys = bytearray()
        self.has_user = bytearray()
        self.sys_hash = array("Q")  # text_key of the system prompt, 0 = none
        self.role_len: dict[str, tuple[array, array]] = {}  # role -> (row seq, tokens)
        # per-row keys (text_key values: the same in every process). Exact duplicates (W002),
        # contradictions (W004) and a dominant answer (W010) are found from these columns
        # after the pass, so a parallel merge only concatenates them. 0 = no key.
        self.full_keys = array("q")  # roles + normalised input + normalised answer
        self.input_keys = array("Q")  # everything before the trained answer
        self.answer_keys = array("Q")  # the trained answer, stripped and lowered
        self.sys_count: Counter[int] = Counter()
        self.sys_example: dict[int, str] = {}
        self.labels: Counter[str] | None = Counter()
        self.turn_count: Counter[int] = Counter()
        self.exact_dup_rows = 0  # these three are set by finish()
        self.dup_groups: set[int] = set()
        self.contradictions = 0
        self.trained_tokens = 0
        self.all_tokens = 0
        self.row_formats: Counter[str] = Counter()
        # near duplicates and leakage
        self.near = None
        if near_dups:
            from ftui.data.dedup import MinHashLSH

            self.near = MinHashLSH()
        self.near_threshold = near_threshold
        self.near_seconds = 0.0  # MinHash + LSH + verification time, for bench/lint.py
        self.near_texts: list[str] = []
        self.near_seq: array = array("q")  # lsh id -> row seq
        # JSONL rows are re-read by offset to verify candidates; other containers keep the (capped) texts
        self.docs_in_memory: list[str] | None = None if info.kind == "jsonl" else []
        self.eval = _EvalSet(eval_path, self.fmt, near_dups) if eval_path else None
        self.leaked: set[int] = set()
        # current row (emit() attaches findings to it)
        self._row: int | None = None
        self._off: int | None = None
        self._seq = -1

    # -- emitting ---------------------------------------------------------------------

    def emit(self, check_id: str, message: str) -> None:
        sev = CHECKS[check_id].severity
        self.pending.append(Finding(check_id, sev, self._row, self._off, message, CHECKS[check_id].hint))
        if sev == ERROR and self._seq >= 0:
            self.error_rows.add(self._seq)

    def emit_at(self, seq: int | None, check_id: str, message: str) -> None:
        row = self.base_row + seq if seq is not None else None
        off = self.offsets[seq] if seq is not None else None
        self.pending.append(Finding(check_id, CHECKS[check_id].severity, row, off, message, CHECKS[check_id].hint))
        if CHECKS[check_id].severity == ERROR and seq is not None:
            self.error_rows.add(seq)

    # -- the pass ---------------------------------------------------------------------

    def batch(self, batch: Batch, pre: tuple[Any, Any, Any] | None = None) -> None:
        """Lint a batch of rows. ``pre`` comes from the prefilter thread: suspect flags (rows
        needing text checks) and, for plain chat, the batch parsed into columns and planned."""
        near_texts = self.near_texts if (self.near is not None or self.eval is not None) else None
        if pre is not None and pre[2] is not None:
            from ftui.data.lint_fast import apply_plan

            apply_plan(self, batch, pre[0], pre[2], near_texts)
        else:
            suspects = set(np.flatnonzero(pre[0]).tolist()) if pre is not None else _suspects_re(batch)
            for j in range(batch.n):
                self.row(batch.raw(j), j in suspects, near_texts)
        if self.near is not None and near_texts:
            t = time.perf_counter()
            self.near.add(near_texts)
            self.near_seconds += time.perf_counter() - t
            near_texts.clear()

    def row(self, r: Any, suspect: bool, near_texts: list[str] | None) -> None:
        seq = self.n
        self.n += 1
        self._seq = seq
        self._row = r.row
        self._off = r.offset
        self.offsets.append(r.offset)
        view = self._parse(r)
        if view is None:
            self.full_keys.append(0)
            self.input_keys.append(0)
            self.answer_keys.append(0)
            self.totals.append(0)
            self.kinds.append(0)
            self.has_sys.append(2)
            self.has_user.append(2)
            self.sys_hash.append(0)
            return
        self.valid += 1
        roles, texts, trained = view.roles, view.texts, view.trained
        emit = self.emit
        if suspect:
            for k, (role, text) in enumerate(zip(roles, texts, strict=False)):
                C.check_text(role, k, text, emit)
        # tokens and lengths (the estimate is inlined: it runs for every row of every file)
        if self.estimate:
            counts = [len(t) // 4 + PER_MESSAGE for t in texts]
        else:
            counts, render_error = self.counter.count(roles, texts)
            if render_error:
                emit("E014", render_error)
        total = sum(counts) + REPLY_PRIMING
        self.totals.append(total)
        role_len = self.role_len
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
                self.empty_turns.add((seq, role))  # an empty turn is E006/E011's business, not a length outlier
        self.trained_tokens += trained_tok
        self.all_tokens += total
        if self.hard and total > self.hard:
            emit("E013", f"{total:,} tokens{self._est()}, over the {self.profile.name} limit of {self.hard:,}")
        elif self.max_len and total > self.max_len and self.sft:
            lost, kept = truncation_loss(counts, trained, self.max_len)
            if trained_tok and not kept:
                emit("E015", f"the prompt fills all {self.max_len:,} tokens{self._est()}: no assistant token survives "
                     "truncation, so the trainer drops or learns nothing from this row")
            else:
                what = f"{lost:,} assistant tokens are lost" if lost else "no assistant tokens are lost"
                emit("W001", f"{total:,} tokens{self._est()} > max_seq_len {self.max_len:,}: truncated, {what}")
        if not self.sft:
            self.kinds.append(0)
            self.has_sys.append(2)
            self.has_user.append(2)
            self.sys_hash.append(0)
            self._keys(roles, texts, None)
            return
        # turn structure
        if self.turns:
            roles_key = "\x1e".join(roles)
            order = self.order_memo.get(roles_key)
            if order is None:  # check_order depends on the role sequence only: memoise it
                found: list[tuple[str, str]] = []
                check_order(roles, lambda i, m: found.append((i, m)))
                order = found
                if len(self.order_memo) < 10_000:
                    self.order_memo[roles_key] = found
            for cid, msg in order:
                emit(cid, msg)
            if roles[-1] != "assistant":
                emit("W007", f"the last turn is {roles[-1]!r}: it is never trained")
        self.turn_count[len(roles) - (roles[0] == "system")] += 1
        if trained_tok == 0:
            if "assistant" in roles:
                emit("E008", "every assistant turn has weight 0: nothing to train on")
            else:
                emit("E008", "no assistant turn: nothing to train on")
        # target: the last trained turn
        last_a = len(roles) - 1
        while last_a >= 0 and not trained[last_a]:
            last_a -= 1
        target = texts[last_a] if last_a >= 0 else ""
        kind, cut = C.target_kind_and_cut(target)
        self.kinds.append(kind)
        if cut:
            emit("W016", f"the target {cut}")
        sys = roles[0] == "system" or roles[0] == "developer"
        self.has_sys.append(1 if sys else 0)
        self.has_user.append(1 if "user" in roles else 0)
        if sys:
            h = text_key(texts[0])
            self.sys_hash.append(h)
            if h not in self.sys_count and len(self.sys_example) < SYS_EXAMPLES:
                self.sys_example[h] = texts[0]
            self.sys_count[h] += 1
        else:
            self.sys_hash.append(0)
        # labels / dominant response
        out = _norm(target)
        oh = text_key(out)
        labels = self.labels
        if labels is not None:
            if len(out) <= LABEL_MAX_CHARS and "\n" not in out:
                labels[out] += 1
                if len(labels) > LABEL_MAX_DISTINCT:
                    self.labels = None
            else:
                self.labels = None
        self._keys(roles, texts, (last_a, oh))
        if near_texts is not None:
            doc = "\n".join(t for ro, t in zip(roles, texts, strict=False) if ro != "system")
            near_texts.append(doc)
            self.near_seq.append(seq)
            if self.docs_in_memory is not None:
                self.docs_in_memory.append(doc[:MAX_DOC_CHARS])
            if self.eval is not None:
                self.eval.check_exact(self, doc)

    def _est(self) -> str:
        return " (estimated)" if self.counter.estimated else ""

    def _keys(self, roles: list[str], texts: list[str], target: tuple[int, int] | None) -> None:
        """Append the row's keys. The input (all turns but the last) and the last turn are keyed
        on their own, lowered: the columnar fast path (lint_fast) builds exactly these two byte
        strings per row."""
        head = "\x1f".join(texts[:-1]).lower()
        self.full_keys.append(hash((text_key("\x1e".join(roles)), text_key(head), text_key(texts[-1].lower()) if texts else 0)))
        if target is None:
            self.input_keys.append(0)
            self.answer_keys.append(0)
            return
        last_a, oh = target
        self.answer_keys.append(oh)
        if last_a <= 0:
            self.input_keys.append(0)
        elif last_a == len(texts) - 1:  # the usual case: the input is everything before the final answer
            self.input_keys.append(text_key(head))
        else:
            self.input_keys.append(text_key("\x1f".join(texts[:last_a]).lower()))

    def _repeats(self) -> None:
        """W002 and W004 from the key columns, exactly as one ordered pass would decide them:
        a row is a duplicate of the first row with its key; among the rows that are not, the
        first row with an input decides what any later answer to it contradicts."""
        full = np.frombuffer(self.full_keys, dtype=np.int64)
        rows = np.flatnonzero(full != 0)
        if not len(rows):
            return
        first = _first_of_key(full[rows], rows)
        dup = first != rows
        dup_rows, dup_first = rows[dup], first[dup]
        self.exact_dup_rows = len(dup_rows)
        self.dup_groups = set(dup_first.tolist())
        for seq, f in zip(dup_rows.tolist(), dup_first.tolist(), strict=True):
            self.emit_at(seq, "W002", f"exact duplicate of row {self.base_row + f}")
        inputs = np.frombuffer(self.input_keys, dtype=np.uint64)
        answers = np.frombuffer(self.answer_keys, dtype=np.uint64)
        keep = inputs != 0
        keep[dup_rows] = False
        rows = np.flatnonzero(keep)
        if not len(rows):
            return
        first = _first_of_key(inputs[rows], rows)
        bad = answers[rows] != answers[first]
        self.contradictions = int(bad.sum())
        for seq, f in zip(rows[bad].tolist(), first[bad].tolist(), strict=True):
            self.emit_at(seq, "W004", f"same input as row {self.base_row + f}, different output")

    def _parse(self, r: Any) -> RowView | None:
        data = r.data
        if r.truncated:
            self.emit("E013", f"row is {r.size / 1e6:.1f} MB, too large to train on (not parsed)")
            return None
        if not data.strip():
            self.emit("E003", "blank line: not a JSON object")
            return None
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self._bad_json(r, exc)
            return None
        if type(obj) is not dict:
            self.emit("E003", f"row is a JSON {_json_type(obj)}, not an object")
            return None
        fmt = self.fmt
        own = formats.CHAT if ("messages" in obj and fmt == formats.CHAT) else formats.row_format(obj)
        self.row_formats[own] += 1
        if own != fmt or own == formats.UNKNOWN:
            if own == formats.UNKNOWN:
                keys = ", ".join(list(obj)[:6]) or "no keys"
                self.emit("E004", f"format not recognised (keys: {keys}); the file is {formats.FORMAT_LABELS.get(fmt, fmt)}")
            else:
                self.emit("E004", f"row is {formats.FORMAT_LABELS[own]}, but the file is {formats.FORMAT_LABELS.get(fmt, fmt)}")
            return None
        view = self.checker(obj, self.profile, self.emit) if self.checker else None
        if view is None:
            return None
        if data.count(b'":') > view.nkeys:
            _dup_key = _duplicate_key(data)
            if _dup_key:
                self.emit("E002", f"duplicate key {_dup_key!r}: parsers keep only the last value")
                return None
        return view

    def _bad_json(self, r: Any, exc: Exception) -> None:
        data = r.data
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as u:
            self.emit("E001", f"not valid UTF-8 (byte 0x{data[u.start]:02x} at column {u.start + 1})")
            return
        if b"\x00" in data:
            self.emit("E001", "contains a NUL byte")
            return
        msg = str(exc).split(":")[0]
        if r.no_newline:
            self.emit("E002", f"the last line is cut off ({msg}) and the file does not end with a newline: was it truncated mid-write?")
        elif b"NaN" in data or b"Infinity" in data:
            self.emit("E002", "NaN / Infinity is not valid JSON: write null or a number")
        elif "depth" in msg:
            self.emit("E002", "nested too deeply to parse (over 1024 levels)")
        else:
            self.emit("E002", f"invalid JSON: {msg}")

    # -- parallel: a worker's state, merged in file order -------------------------------

    _MERGE_FIELDS = (
        "n", "valid", "error_rows", "offsets", "totals", "kinds", "has_sys", "has_user", "sys_hash", "role_len",
        "full_keys", "input_keys", "answer_keys", "sys_count", "sys_example", "labels", "turn_count",
        "trained_tokens", "all_tokens", "row_formats", "near_seq",
        "leaked", "near_seconds", "pending", "empty_turns", "fast_rows",
    )

    def partial(self) -> dict[str, Any]:
        """What the parent needs from a worker (columns, counters, findings); picklable."""
        out = {k: getattr(self, k) for k in self._MERGE_FIELDS}
        out["near_chunks"] = self.near._chunks if self.near is not None else []
        out["eval_chunks"] = self.eval.lsh._chunks if self.eval is not None and self.eval.lsh is not None else None
        return out

    def merge(self, p: dict[str, Any]) -> None:
        """Append a later byte range's state (seq numbers shift). Duplicates and contradictions
        across ranges need nothing here: finish() finds them in the concatenated key columns."""
        shift = self.n
        self.n += p["n"]
        self.valid += p["valid"]
        self.error_rows.update(s + shift for s in p["error_rows"])
        for name in ("offsets", "totals", "kinds", "has_sys", "has_user", "sys_hash", "full_keys", "input_keys", "answer_keys"):
            getattr(self, name).extend(p[name])
        for role, (seqs, lens) in p["role_len"].items():
            mine = self.role_len.setdefault(role, (array("q"), array("i")))
            mine[0].frombytes((np.frombuffer(seqs, dtype=np.int64) + shift).tobytes())
            mine[1].extend(lens)
        self.pending.extend(p["pending"])  # rows are absolute
        for name in ("sys_count", "turn_count", "row_formats"):
            getattr(self, name).update(p[name])
        for k, v in p["sys_example"].items():
            if len(self.sys_example) < SYS_EXAMPLES:
                self.sys_example.setdefault(k, v)
        if self.labels is None or p["labels"] is None:
            self.labels = None
        else:
            self.labels.update(p["labels"])
            if len(self.labels) > LABEL_MAX_DISTINCT:
                self.labels = None
        self.trained_tokens += p["trained_tokens"]
        self.all_tokens += p["all_tokens"]
        self.near_seq.frombytes((np.frombuffer(p["near_seq"], dtype=np.int64) + shift).tobytes())
        if self.near is not None:
            self.near._chunks.extend(p["near_chunks"])
            self.near.count += sum(len(c) for c in p["near_chunks"])
        self.leaked.update(s + shift for s in p["leaked"])
        self.empty_turns.update((s + shift, r) for s, r in p["empty_turns"])
        self.fast_rows += p["fast_rows"]
        self.near_seconds = max(self.near_seconds, p["near_seconds"])  # workers ran side by side
        if p.get("eval_chunks") is not None and self.eval is not None:
            from ftui.data.dedup import MinHashLSH

            if self.eval.lsh is None:
                self.eval.lsh = MinHashLSH()
            if not self.eval.lsh._chunks:
                self.eval.lsh._chunks = p["eval_chunks"]
                self.eval.lsh.count = sum(len(c) for c in p["eval_chunks"])

    # -- after the pass ---------------------------------------------------------------

    def finish(self, fmt_label: str) -> dict[str, Any]:
        """File-wide checks; returns the stats dict."""
        self._seq = -1
        prof = self.profile
        if self.valid < prof.min_rows:
            self.emit_at(None, "E012", f"{self.valid} usable rows; {prof.name} fine-tuning needs at least {prof.min_rows}")
        self._repeats()
        t = time.perf_counter()
        near_pairs = self._near()
        self.near_seconds += time.perf_counter() - t
        if self.sft and self.valid:
            corpus.system_drift(self)
            corpus.missing_roles(self)
            corpus.outliers(self)
            corpus.format_consistency(self)
            corpus.imbalance(self)
        if self.info.has_bom:
            self.pending.append(Finding("W012", WARNING, 1, 0, "the file starts with a UTF-8 BOM (some loaders keep it in the first key)", _hint("W012")))
        return corpus.file_stats(self, fmt_label, near_pairs)

    def _near(self) -> int:
        count = 0
        if self.near is None or self.near.count == 0:
            return 0
        from ftui.data.dedup import verified_pairs

        pairs = verified_pairs(self.near.candidate_pairs(), self._doc_text, threshold=self.near_threshold)
        exact_rows = {f.row for f in self.pending if f.id == "W002"}
        flagged: set[int] = set()
        for i, j, jac in sorted(pairs, key=lambda p: (p[1], p[0])):
            a, b = self.near_seq[i], self.near_seq[j]
            if self.base_row + b in exact_rows or b in flagged:
                continue
            if jac >= 0.999 and self._doc_text(i) == self._doc_text(j):
                continue
            flagged.add(b)
            count += 1
            self.emit_at(b, "W003", f"near duplicate of row {self.base_row + a} (Jaccard {jac:.2f})")
        self.near_clusters = len({self.near_seq[i] for i, j, _ in pairs})
        if self.eval is not None:
            self.eval.check_near(self)
        return count

    def _target_at(self, seq: int) -> str:
        """The answer of row ``seq``, re-read from disk (answers are not kept in memory)."""
        try:
            if self.info.kind == "jsonl":
                with open(self.info.path, "rb") as f:
                    f.seek(self.offsets[seq])
                    data = f.readline()
            else:
                data = next(iter_raw_rows(self.info.path, seq, info=self.info)).data
            view = CHECKERS[self.fmt](orjson.loads(data), self.profile, lambda i, m: None)
        except (OSError, StopIteration, orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return "?"
        if view is None:
            return "?"
        for role, text, trained in zip(reversed(view.roles), reversed(view.texts), reversed(view.trained), strict=False):
            if trained or role == "assistant":
                return text
        return view.texts[-1] if view.texts else ""

    def _doc_text(self, lsh_id: int) -> str:
        if self.docs_in_memory is not None:
            return self.docs_in_memory[lsh_id]
        seq = self.near_seq[lsh_id]
        return _reread_doc(self.info, self.offsets[seq], self.fmt, self.profile)

    def classification_labels(self) -> Counter[str] | None:
        labels = self.labels
        total = sum(labels.values()) if labels else 0
        if not labels or total < 20 or len(labels) > max(2, total // 4):
            return None
        return labels

class _EvalSet:
    """The eval/test file for leakage: exact hashes of its inputs, and MinHash bands for near matches."""

    def __init__(self, path: str | Path, fmt: str, near: bool) -> None:
        self.path = Path(path)
        self.docs: list[str] = []
        self.rows: int = 0
        self.exact: dict[int, int] = {}
        for row, _off, conv, _err in formats.iter_conversations(self.path):
            self.rows += 1
            if conv is None:
                continue
            doc = "\n".join(m.content for m in conv.messages if m.role != "system")
            self.exact.setdefault(hash(_norm(doc)), row)
            self.docs.append(doc)
            self.doc_rows = getattr(self, "doc_rows", [])
            self.doc_rows.append(row)
        self.lsh = None
        if near and self.docs:
            from ftui.data.dedup import MinHashLSH

            self.lsh = MinHashLSH()
            for i in range(0, len(self.docs), 1000):
                self.lsh.add(self.docs[i : i + 1000])

    def check_exact(self, linter: _Linter, doc: str) -> None:
        row = self.exact.get(hash(_norm(doc)))
        if row is not None:
            linter.leaked.add(linter._seq)
            linter.emit("W005", f"also in the eval file {self.path.name} (row {row}, exact)")

    def check_near(self, linter: _Linter) -> None:
        if self.lsh is None or linter.near is None:
            return
        from ftui.data.dedup import verified_pairs

        pairs = verified_pairs(linter.near.query(self.lsh), linter._doc_text, self.docs.__getitem__, linter.near_threshold)
        best: dict[int, tuple[int, float]] = {}
        for i, j, jac in pairs:
            seq = linter.near_seq[i]
            if seq in linter.leaked:
                continue
            if seq not in best or jac > best[seq][1]:
                best[seq] = (j, jac)
        for seq, (j, jac) in sorted(best.items()):
            linter.leaked.add(seq)
            linter.emit_at(seq, "W005", f"near copy of eval row {self.doc_rows[j]} in {self.path.name} (Jaccard {jac:.2f})")


def _reread_doc(info: SourceInfo, offset: int, fmt: str, profile: Profile) -> str:
    """The near-duplicate text of the row at ``offset`` (re-read from disk: texts are not kept in memory)."""
    with open(info.path, "rb") as f:
        f.seek(offset)
        data = f.readline()
    try:
        view = CHECKERS[fmt](orjson.loads(data), profile, lambda i, m: None)
    except (orjson.JSONDecodeError, KeyError, AttributeError, TypeError):
        return ""
    if view is None:
        return ""
    return "\n".join(t for ro, t in zip(view.roles, view.texts, strict=False) if ro != "system")


def _first_of_key(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows`` (ascending), the first row with the same key. Repeats are rare:
    one plain sort finds the repeated keys, and only their rows are matched up in order."""
    first = rows.copy()
    ordered = np.sort(keys)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return first
    hit = np.flatnonzero(np.isin(keys, repeated))
    seen: dict[int, int] = {}
    first[hit] = list(map(seen.setdefault, keys[hit].tolist(), rows[hit].tolist()))
    return first


def _suspects_re(batch: Batch) -> set[int]:
    """Rows of a batch that need the precise text checks (Python re over the joined batch)."""
    blob = batch.blob
    suspects: set[int] = set()
    m = C.SUSPECT.search(blob)
    if m is None:
        return suspects
    ends = batch.bounds[1:].tolist()
    while m is not None:
        j = bisect.bisect_right(ends, m.start())
        suspects.add(j)
        if j >= len(ends):
            break
        m = C.SUSPECT.search(blob, ends[j])  # one hit per row is enough
    return suspects


def _arrow_ok(size: int) -> bool:
    """Use the RE2/pyarrow prefilter: the file is big enough to pay for importing pyarrow."""
    if size < ARROW_MIN_BYTES:
        return False
    try:
        import pyarrow.compute  # noqa: F401
        import pyarrow.json  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


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


@dataclass(frozen=True)
class _Options:
    profile: str
    tokenizer: str | None
    max_seq_len: int | None
    eval_path: str | None
    near_dups: bool
    near_threshold: float

    def linter(self, info: SourceInfo, guess: formats.FormatGuess) -> _Linter:
        return _Linter(info, guess, PROFILES[self.profile], self.tokenizer, self.max_seq_len, self.eval_path,
                       self.near_dups, self.near_threshold)


LINT_SWITCH_INTERVAL_S = 0.001


def iter_batches(info: SourceInfo, start: int = 0, end: int | None = None, start_row: int = 1) -> Iterator[Batch]:
    """The rows of ``info`` from ``start`` (a JSONL byte offset at a line start, else a row
    index) up to byte ``end``, as ~``BATCH_BYTES`` batches. JSONL blocks are read whole."""
    if info.kind == "jsonl":
        pending: list[Any] = []
        for item in iter_jsonl_blocks(info, start, end, start_row=start_row, max_row_bytes=MAX_ROW_BYTES, block_bytes=BATCH_BYTES):
            if isinstance(item, RowBlock):
                if pending:
                    yield Batch.from_rows(pending)
                    pending = []
                yield Batch.from_block(item, MAX_ROW_BYTES)
            else:
                pending.append(item)
        if pending:
            yield Batch.from_rows(pending)
        return
    rows: list[Any] = []
    size = 0
    for raw in iter_raw_rows(info.path, start, info=info, max_row_bytes=MAX_ROW_BYTES):
        rows.append(raw)
        size += len(raw.data) + 1
        if size >= BATCH_BYTES:
            yield Batch.from_rows(rows)
            rows, size = [], 0
    if rows:
        yield Batch.from_rows(rows)


def _drive(
    linter: _Linter, batches: Iterator[Batch], after_batch: Callable[[int], None], cancel: _Flag | None, threaded: bool = True
) -> bool:
    """Feed batches to ``linter``; the prefilter of batch k+1 runs in a thread (pyarrow releases
    the GIL) while Python lints batch k, unless ``threaded`` is False (one process per core
    already: the thread would only add GIL hand-offs). Returns True if cancelled.

    The cyclic GC is paused meanwhile: the pass allocates millions of small acyclic objects
    and the hash tables grow, so generation-2 collections would rescan them again and again.
    The GIL switch interval drops to 1 ms: each time the prefilter thread comes back from a
    pyarrow call it needs the GIL from the linting thread, and at the default 5 ms those
    hand-backs add ~10% to the pass (200k-row bench file: median 2.99 s -> 2.69 s over 6 runs).
    """
    import gc
    import sys

    gc_was_enabled = gc.isenabled()
    gc.disable()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, LINT_SWITCH_INTERVAL_S))
    try:
        return _drive_batches(linter, batches, after_batch, cancel, threaded)
    finally:
        sys.setswitchinterval(interval)
        if gc_was_enabled:
            gc.enable()


def _drive_batches(
    linter: _Linter, batches: Iterator[Batch], after_batch: Callable[[int], None], cancel: _Flag | None, threaded: bool
) -> bool:
    arrow = _arrow_ok(linter.info.size)
    params = linter.fast_params
    if not threaded:
        for batch in batches:
            linter.batch(batch, prefilter_and_plan(batch, params) if arrow else None)
            after_batch(batch.nbytes)
            if cancel is not None and cancel.is_set():
                return True
        return False
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="ftui-lint-prefilter") if arrow else None
    queued: tuple[Batch, Any] | None = None

    def run(item: tuple[Batch, Any]) -> None:
        batch, fut = item
        linter.batch(batch, fut.result() if fut is not None else None)
        after_batch(batch.nbytes)

    try:
        for batch in batches:
            fut = pool.submit(prefilter_and_plan, batch, params) if pool else None
            if queued:
                run(queued)
            queued = (batch, fut)
            if cancel is not None and cancel.is_set():
                return True
        if queued:
            run(queued)
    finally:
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)
    return False


def _identity(path: Path) -> tuple[int, int, int] | None:
    """(size, mtime_ns, inode) of a regular file, to notice it changing while we read it; None otherwise."""
    import os
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def lint_file(
    path: str | Path,
    profile: str = "trl",
    tokenizer: str | None = None,
    max_seq_len: int | None = None,
    eval_path: str | Path | None = None,
    near_dups: bool = True,
    near_threshold: float = 0.8,
    on_progress: ProgressFn | None = None,
    on_findings: FindingsFn | None = None,
    cancel: _Flag | None = None,
    workers: int | None = None,
) -> LintReport:
    """Lint ``path``. Raises ``DatasetError`` (file level: unreadable), ``TokenizerError`` or ``ValueError`` (bad profile).

    ``workers``: processes for a large JSONL file (default: one per CPU, up to 4, for files
    over 32 MB; 1 = in this process). Each lints a byte range; the parent merges them.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    start = time.perf_counter()
    info = inspect_source(path)
    if eval_path is not None:
        inspect_source(eval_path)
    guess = formats.detect_format(path, info)
    opts = _Options(profile, tokenizer, max_seq_len, str(eval_path) if eval_path else None, near_dups, near_threshold)
    total = info.size
    from ftui.data.lint_parallel import ParallelFailed, lint_parallel, worker_count

    nworkers = worker_count(info, workers)
    linter: _Linter | None = None
    cancelled = False
    streamed = 0
    identity = _identity(info.path)
    if nworkers > 1:
        try:
            linter, cancelled = lint_parallel(info, guess, opts, nworkers, on_progress, on_findings, cancel)
            streamed = len(linter.pending) if on_findings else 0
        except ParallelFailed:
            linter, nworkers = None, 1
    if linter is None:
        linter = opts.linter(info, guess)
        done = 0

        def after_batch(nbytes: int) -> None:
            nonlocal done, streamed
            done += nbytes
            if on_findings and len(linter.pending) > streamed:
                on_findings(linter.pending[streamed:])
                streamed = len(linter.pending)
            if on_progress:
                on_progress(linter.n, min(done, total), total)

        cancelled = _drive(linter, iter_batches(info), after_batch, cancel)
    if not cancelled and identity is not None and _identity(info.path) != identity:
        # Findings of a file that changed under us describe no file at all: say so, never "0 errors".
        now = _identity(info.path)
        raise DatasetError(
            f"{path} changed while it was read ({identity[0]:,} bytes when the lint started, "
            f"{now[0] if now else 0:,} bytes now; {linter.n:,} rows read): lint it again once it is completely written"
        )
    if on_progress and not cancelled:
        on_progress(linter.n, total, total)
    stats_dict = linter.finish(guess.label)
    findings = linter.pending
    if on_findings and len(findings) > streamed:
        on_findings(findings[streamed:])
    findings.sort(key=lambda f: (f.row is not None, f.row or 0, SEVERITY_ORDER[f.severity], f.id))
    counts = Counter(f.severity for f in findings)
    by_id = Counter(f.id for f in findings)
    summary = {
        "errors": counts.get(ERROR, 0),
        "warnings": counts.get(WARNING, 0),
        "info": counts.get(INFO, 0),
        "rows_with_errors": len(linter.error_rows),
        "by_id": dict(sorted(by_id.items())),
        "format_votes": guess.votes,
        "tokens": linter.counter.label,
    }
    return LintReport(
        format=guess.format,
        rows=linter.n,
        findings=findings,
        summary=summary,
        stats=stats_dict,
        path=str(path),
        profile=profile,
        format_label=guess.label,
        cancelled=cancelled,
        seconds=round(time.perf_counter() - start, 3),
        extra={"container": info.kind, "near_seconds": round(linter.near_seconds, 3),
               "error_rows": sorted(linter.base_row + s for s in linter.error_rows), "workers": nworkers, "fast_rows": linter.fast_rows},
    )


def report_json(report: LintReport) -> bytes:
    return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2 if os.environ.get("FTUI_JSON_INDENT") else 0)


__all__ = ["Finding", "LintReport", "lint_file", "report_json"]
