"""``LintState``: what one lint pass has gathered so far -- the public contract of the lint modules.

The per-row steps (``rows``) and the columnar fast path (``fast``) append to it, the
file-wide checks (``finish``, ``checks.corpus``) read it, and a parallel worker sends its
``partial()`` back to be ``merge``d in file order. Everything file-wide is compact: ``array``
columns indexed by the row's sequence number (offsets, token totals, answer kinds, 64-bit
text keys) and small counters, a few dozen bytes per row.
"""

from __future__ import annotations

from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ftui.data import formats
from ftui.data.checks.catalogue import CHECKS, ERROR
from ftui.data.checks.preference import PreferenceTally
from ftui.data.checks.structure import CHECKERS, Profile
from ftui.data.checks.tokens import EstimateCounter, make_counter
from ftui.data.lint.evalset import EvalSet
from ftui.data.lint.report import Finding
from ftui.data.source import SourceInfo, iter_raw_rows
from ftui.data.textkey import text_key

SFT_FORMATS = {formats.CHAT, formats.SHAREGPT, formats.ALPACA, formats.PROMPT_COMPLETION, formats.TEXT}
TURN_FORMATS = {formats.CHAT, formats.SHAREGPT, formats.PROMPT_COMPLETION}
LABEL_MAX_CHARS = 64
LABEL_MAX_DISTINCT = 50
SYS_EXAMPLES = 1000  # distinct system prompts kept as text (for W006 messages)
# what a parallel worker sends back (see ``partial`` / ``merge``)
MERGE_FIELDS = (
    "n", "valid", "error_rows", "offsets", "totals", "kinds", "has_sys", "has_user", "sys_hash", "role_len",
    "full_keys", "input_keys", "answer_keys", "sys_count", "sys_example", "labels", "turn_count",
    "trained_tokens", "all_tokens", "row_formats", "near_seq",
    "leaked", "near_seconds", "pending", "empty_turns", "fast_rows", "pref",
)
_SEQ_COLUMNS = ("offsets", "totals", "kinds", "has_sys", "has_user", "sys_hash", "full_keys", "input_keys", "answer_keys")


class LintState:
    """One pass's findings (``pending``), per-row columns and counters; ``emit`` attaches a finding to the current row."""

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
        fast_path: bool = True,
        spill_dir: str | None = None,
    ) -> None:
        self.info = info
        self.fmt = guess.format
        self.profile = profile
        self.counter = make_counter(tokenizer)
        self.estimate = isinstance(self.counter, EstimateCounter)
        self.max_len = max_seq_len if max_seq_len else profile.default_max_seq_len
        # the columnar fast path handles plain chat rows when tokens are estimated
        fast_ok = self.estimate and guess.format == formats.CHAT and fast_path
        self.fast_params = (profile.roles, self.max_len, profile.hard_limit, near_dups or eval_path is not None) if fast_ok else None
        # TRL truncates instead of failing, so only a profile's own limit is hard (E013).
        self.hard = profile.hard_limit
        self.checker = CHECKERS.get(self.fmt)
        self.pref = PreferenceTally() if self.fmt == formats.PREFERENCE else None  # checks.preference
        self.sft = self.fmt in SFT_FORMATS
        self.turns = self.fmt in TURN_FORMATS
        self.order_memo: dict[str, list[tuple[str, str]]] = {}
        self.empty_turns: set[tuple[int, str]] = set()  # (seq, role) of turns with no text
        self.fast_rows = 0  # rows linted by the columnar fast path
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
        self.exact_dup_rows = 0  # these four are set by finish
        self.dup_groups: set[int] = set()
        self.contradictions = 0
        self.near_clusters = 0
        self.trained_tokens = 0
        self.all_tokens = 0
        self.row_formats: Counter[str] = Counter()
        # near duplicates and leakage
        self.near: Any = None
        if near_dups:
            from ftui.data.dedup import MinHashLSH

            self.near = MinHashLSH(spill_dir=spill_dir)  # band hashes on disk past a few MB
        self.near_threshold = near_threshold
        self.near_seconds = 0.0  # MinHash + LSH + verification time, for bench/lint.py
        self.near_texts: list[str] = []
        self.near_seq: array = array("q")  # lsh id -> row seq
        # JSONL rows are re-read by offset to verify candidates; other containers keep the (capped) texts
        self.docs_in_memory: list[str] | None = None if info.kind == "jsonl" else []
        self.eval = EvalSet(eval_path, near_dups) if eval_path else None
        self.leaked: set[int] = set()
        # the current row: emit() attaches findings to it
        self.row_no: int | None = None
        self.row_offset: int | None = None
        self.seq = -1

    # -- emitting ---------------------------------------------------------------------

    def at(self, seq: int, row: int | None, offset: int | None) -> None:
        """Make row ``seq`` (line ``row`` at byte ``offset``) the one ``emit`` reports on."""
        self.seq, self.row_no, self.row_offset = seq, row, offset

    def emit(self, check_id: str, message: str) -> None:
        sev = CHECKS[check_id].severity
        self.pending.append(Finding(check_id, sev, self.row_no, self.row_offset, message, CHECKS[check_id].hint))
        if sev == ERROR and self.seq >= 0:
            self.error_rows.add(self.seq)

    def emit_at(self, seq: int | None, check_id: str, message: str) -> None:
        row = self.base_row + seq if seq is not None else None
        off = self.offsets[seq] if seq is not None else None
        self.pending.append(Finding(check_id, CHECKS[check_id].severity, row, off, message, CHECKS[check_id].hint))
        if CHECKS[check_id].severity == ERROR and seq is not None:
            self.error_rows.add(seq)

    def est_note(self) -> str:
        """Appended to a token count that is an estimate."""
        return " (estimated)" if self.counter.estimated else ""

    def check_leak(self, doc: str) -> None:
        """W005 when the current row is also in the eval file."""
        message = self.eval.exact_message(doc) if self.eval is not None else None
        if message is not None:
            self.leaked.add(self.seq)
            self.emit("W005", message)

    # -- per-row columns ----------------------------------------------------------------

    def add_keys(self, roles: list[str], texts: list[str], target: tuple[int, int] | None) -> None:
        """Append the row's keys. The input (all turns but the last) and the last turn are keyed
        on their own, lowered: the columnar fast path builds exactly these two byte strings per row."""
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

    def add_unusable_row(self) -> None:
        """The columns of a row too broken to look at (no keys, no tokens)."""
        self.full_keys.append(0)
        self.input_keys.append(0)
        self.answer_keys.append(0)
        self.totals.append(0)
        self.add_untargeted_row()

    def add_untargeted_row(self) -> None:
        """The target columns of a row with no trained answer to judge (broken, or not SFT data)."""
        self.kinds.append(0)
        self.has_sys.append(2)
        self.has_user.append(2)
        self.sys_hash.append(0)

    # -- parallel: a worker's state, merged in file order -------------------------------

    def partial(self) -> dict[str, Any]:
        """What the parent needs from a worker (columns, counters, findings); picklable."""
        out = {k: getattr(self, k) for k in MERGE_FIELDS}
        if self.near is not None:
            self.near.spill()  # the parent merges block references, not the hashes themselves
        out["near_chunks"] = self.near._chunks if self.near is not None else []
        out["eval_chunks"] = self.eval.lsh._chunks if self.eval is not None and self.eval.lsh is not None else None
        return out

    def merge(self, p: dict[str, Any]) -> None:
        """Append a later byte range's state (seq numbers shift). Duplicates and contradictions
        across ranges need nothing here: finish finds them in the concatenated key columns."""
        shift = self.n
        self.n += p["n"]
        self.valid += p["valid"]
        self.error_rows.update(s + shift for s in p["error_rows"])
        for name in _SEQ_COLUMNS:
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
            self.near.extend(p["near_chunks"])
        self.leaked.update(s + shift for s in p["leaked"])
        self.empty_turns.update((s + shift, r) for s, r in p["empty_turns"])
        self.fast_rows += p["fast_rows"]
        if self.pref is not None and p.get("pref") is not None:
            self.pref.merge(p["pref"], shift)
        self.near_seconds = max(self.near_seconds, p["near_seconds"])  # workers ran side by side
        if p.get("eval_chunks") is not None and self.eval is not None:
            from ftui.data.dedup import MinHashLSH

            if self.eval.lsh is None:
                self.eval.lsh = MinHashLSH()
            if not self.eval.lsh._chunks:
                self.eval.lsh.extend(p["eval_chunks"])

    # -- reading back what is not kept ----------------------------------------------------

    def classification_labels(self) -> Counter[str] | None:
        """The answers as class labels, when they look like a classification task."""
        labels = self.labels
        total = sum(labels.values()) if labels else 0
        if not labels or total < 20 or len(labels) > max(2, total // 4):
            return None
        return labels

    def target_at(self, seq: int) -> str:
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

    def doc_text(self, lsh_id: int) -> str:
        """The near-duplicate text of the row behind MinHash id ``lsh_id``."""
        if self.docs_in_memory is not None:
            return self.docs_in_memory[lsh_id]
        return _reread_doc(self.info, self.offsets[self.near_seq[lsh_id]], self.fmt, self.profile)


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
