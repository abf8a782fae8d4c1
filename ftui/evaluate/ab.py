"""Blind A/B rating sessions with durable votes (spec: shared/reference/blind-ab.md).

A session is a directory::

    <session>/session.json              the fixed plan: systems, items, normalised outputs, seed (written once)
    <session>/raters/<rater>/queue.json  that rater's task order and side assignment (written once, atomically)
    <session>/raters/<rater>/votes.jsonl append-only log: vote / undo / unblind records, one JSON line each

Why this shape:
- The plan and each queue are fixed before the first vote ("no peeking, fixed plan"), and the
  queue file makes side assignment and order stable across resume even if the code changes.
- Every record is flushed and fsynced before ``vote()`` returns, so a ``kill -9`` loses nothing
  the rater saw as recorded. Resume = replay the log. A torn last line (crash mid-write) is
  skipped with a warning in ``BlindSession.warnings``; it never crashes.
- Undo is an appended ``undo`` record (the log is never rewritten).
- Results need an explicit ``unblind()`` by this rater, which is itself a recorded event.

Typical use (a screen or the CLI)::

    s = BlindSession.create(path, items, outputs, rater="ana", seed=7, base_system="base")
    while (pair := s.current()) is not None:
        ...show pair.output_left / pair.output_right...
        s.vote("left", note="", flags=())        # or "right", "tie", "both_bad", "skip"; s.undo()
    s.unblind()
    res = s.results()                           # SessionResults; res.to_dict() for --json
    rows = s.drilldown(disagreements_only=True)  # DrillRow list
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path

from ftui.evaluate import metrics as M
from ftui.evaluate.fsutil import fsync_dir
from ftui.evaluate.items import EvalItem
from ftui.evaluate.normalize import normalize_output
from ftui.evaluate.results import (  # noqa: F401 - re-exported: the statistics moved to results.py
    KappaResult,
    PairResult,
    SessionResults,
    comparison_line,
    compute_results,
    metrics_line,
    pair_result,
    rater_kappas,
    results_text,
)
from ftui.evaluate.scoring import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOTSTRAP

SESSION_FILE = "session.json"
FORMAT_VERSION = 1
HUMAN_CHOICES = ("left", "right", "tie", "both_bad", "skip")
CHOICES = HUMAN_CHOICES + ("identical",)
DECISIVE = ("left", "right")
BREAK_EVERY = 25  # suggest a break every ~25 rated items (fatigue)
SIDE_BLOCK = 4  # the smallest side block; block sizes are drawn from SIDE_BLOCKS
SIDE_BLOCKS = (4, 6, 8)  # randomised block sizes: each block is balanced, its end (the forced side) unknowable
_RATER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class SessionError(Exception):
    """A session operation the user asked for cannot be done; the message says why and what to do."""


class BlindError(SessionError):
    """Results or system names were asked for before this rater unblinded."""


def _now_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _atomic_write_json(path: Path, data: object) -> None:
    from ftui.private import private_dir

    new_dir = not path.parent.exists()
    private_dir(path.parent)  # session and rater directories: owner only (mkstemp files are 0600)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)  # the new name is durable only once its directory is
        if new_dir:
            fsync_dir(path.parent.parent)  # and a new directory once its parent is
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_rater_name(rater: str) -> str:
    """Rater names become directory names: letters, digits, ``_ . -``, up to 40 chars."""
    if not isinstance(rater, str) or not _RATER_RE.match(rater):
        raise SessionError(
            f"rater name {rater!r} is not allowed: use 1-40 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return rater


@dataclass(frozen=True)
class Task:
    """One pair to rate: an item and two systems, with the sides this rater sees them on."""

    index: int
    item_id: str
    pair: tuple[str, str]  # canonical order: (base/earlier system, other)
    left: str
    right: str

    def to_dict(self) -> dict:
        return {"index": self.index, "item_id": self.item_id, "pair": list(self.pair), "left": self.left,
                "right": self.right}

    @classmethod
    def from_dict(cls, d: dict) -> Task:
        return cls(int(d["index"]), str(d["item_id"]), (d["pair"][0], d["pair"][1]), d["left"], d["right"])


@dataclass(frozen=True)
class ShownPair:
    """What the rating screen shows for the current task. Deliberately has no system names."""

    task: int
    position: int  # 1-based position in this rater's queue
    total: int
    item_id: str
    messages: tuple[dict[str, str], ...]
    prompt: str
    reference: str | None  # hide until the rater asks for it
    output_left: str
    output_right: str


@dataclass(frozen=True)
class VoteRecord:
    """One vote as stored in the log (spec fields + ``task``, ``pair``, ``fast``, ``ts``)."""

    task: int
    item_id: str
    rater: str
    left: str
    right: str
    choice: str
    note: str
    flags: tuple[str, ...]
    shown_at: str
    dwell_ms: int
    seed: int
    pair: tuple[str, str]
    fast: bool = False
    ts: str = ""

    def to_record(self) -> dict:
        d = asdict(self)
        d["flags"] = list(self.flags)
        d["pair"] = list(self.pair)
        return {"type": "vote", **d}

    @classmethod
    def from_record(cls, d: dict) -> VoteRecord:
        return cls(
            task=int(d["task"]), item_id=str(d["item_id"]), rater=str(d["rater"]), left=str(d["left"]),
            right=str(d["right"]), choice=str(d["choice"]), note=str(d.get("note", "")),
            flags=tuple(d.get("flags") or ()), shown_at=str(d.get("shown_at", "")), dwell_ms=int(d.get("dwell_ms", 0)),
            seed=int(d.get("seed", 0)), pair=tuple(d.get("pair") or (d["left"], d["right"])),  # type: ignore[arg-type]
            fast=bool(d.get("fast", False)), ts=str(d.get("ts", "")),
        )

    @property
    def preferred(self) -> str | None:
        """The preferred system name for a decisive vote, else None."""
        return self.left if self.choice == "left" else self.right if self.choice == "right" else None

    def absolute(self) -> str | None:
        """The vote in side-free terms relative to ``pair``: 'a', 'b', 'tie', 'both_bad' (None for skip/identical).
        Needed because counterbalancing shows the same pair on different sides to different raters."""
        if self.choice in DECISIVE:
            return "a" if self.preferred == self.pair[0] else "b"
        if self.choice in ("tie", "both_bad"):
            return self.choice
        return None


@dataclass(frozen=True)
class Progress:
    position: int  # 1-based index of the current task (total + 1 when finished)
    total: int
    done: int
    decisive: int
    ties: int
    both_bad: int
    skipped: int
    identical: int
    elapsed_s: float  # sum of dwell times of recorded votes
    finished: bool
    suggest_break: bool  # True right after every BREAK_EVERY-th rated item


def min_plausible_ms(left: str, right: str) -> int:
    """A vote faster than this is flagged ``fast`` (fatigue / click-through): 400 ms plus 25 ms per
    word of both outputs, capped at 4 s — skimming speed, not reading speed."""
    words = len(M.tokenize(left)) + len(M.tokenize(right))
    return min(4000, 400 + 25 * words)


# --- plan -----------------------------------------------------------------------------------


def build_queue(item_ids: Sequence[str], pairs: Sequence[tuple[str, str]], rater: str, seed: int) -> list[Task]:
    """This rater's fixed task list.

    Order: each pair of systems gets its own seeded shuffle of the items, and the pairs are
    interleaved round-robin (so consecutive screens show different comparisons); then no item
    appears on two consecutive screens (``_spread``), which round-robin alone allows with three
    or more systems.
    Sides: per pair, permuted blocks (half with the first system on the left) whose sizes are drawn
    from ``SIDE_BLOCKS``, from a seeded RNG keyed by (seed, rater, pair): counterbalanced within every
    block, and with random block ends the side of a block's last pair cannot be predicted.
    """
    per_pair: list[list[tuple[str, str, str, str]]] = []
    for a, b in pairs:
        order = list(item_ids)
        random.Random(f"{seed}:{rater}:order:{a}|{b}").shuffle(order)
        side_rng = random.Random(f"{seed}:{rater}:sides:{a}|{b}")
        sides: list[bool] = []
        while len(sides) < len(order):
            remaining = len(order) - len(sides)  # the last block fits, so totals stay balanced (±1 when odd)
            size = side_rng.choice([k for k in SIDE_BLOCKS if k <= remaining] or [remaining + remaining % 2])
            block = [True] * (size // 2) + [False] * (size // 2)
            side_rng.shuffle(block)
            sides.extend(block)
        per_pair.append([(i, a, b, "a" if s else "b") for i, s in zip(order, sides[: len(order)], strict=True)])
    rows: list[tuple[str, str, str, str]] = []
    longest = max((len(p) for p in per_pair), default=0)
    for r in range(longest):
        for lane in per_pair:
            if r < len(lane):
                rows.append(lane[r])
    tasks: list[Task] = []
    for item_id, a, b, left_is in _spread(rows):
        left, right = (a, b) if left_is == "a" else (b, a)
        tasks.append(Task(len(tasks), item_id, (a, b), left, right))
    return tasks


def _spread(rows: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """Reorder so that no item id follows itself: each clash swaps in a later row with another item
    that does not clash with its new neighbours, preferring a row of the same pair of systems (which
    keeps the round-robin interleaving). Deterministic; left as it is where no such row exists."""
    rows = list(rows)
    n = len(rows)
    for i in range(1, n):
        if rows[i][0] != rows[i - 1][0]:
            continue

        def fits(j: int, i: int = i) -> bool:
            return rows[j][0] != rows[i - 1][0] and (j == i + 1 or i + 1 >= n or rows[j][0] != rows[i + 1][0])

        later = range(i + 1, n)
        same_pair = [j for j in later if rows[j][1:3] == rows[i][1:3]]
        for j in [*same_pair, *later]:
            if fits(j):
                rows[i], rows[j] = rows[j], rows[i]
                break
    return rows


def canonical_pairs(systems: Sequence[str], base: str) -> list[tuple[str, str]]:
    """All pairs of systems; the base system (else the earlier one) first in each."""
    pairs = []
    for a, b in combinations(systems, 2):
        if b == base:
            a, b = b, a
        pairs.append((a, b))
    return pairs


@dataclass
class SessionPlan:
    """The immutable part of a session (``session.json``)."""

    systems: list[str]
    base_system: str
    seed: int
    items: list[EvalItem]
    outputs: dict[str, dict[str, str]]  # system -> item id -> normalised output (what raters see)
    task: str
    labels: list[str]
    created: str
    name: str = ""
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP  # one bootstrap size and seed per session: every view agrees
    bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED
    resolved: dict[str, dict] = field(default_factory=dict)  # system -> concrete run/checkpoint (blinding.py)
    normalisation: dict = field(default_factory=dict)  # normaliser version and rules applied to every system

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return canonical_pairs(self.systems, self.base_system)

    def item(self, item_id: str) -> EvalItem:
        return self._index()[item_id]

    def _index(self) -> dict[str, EvalItem]:
        cached = getattr(self, "_item_index", None)
        if cached is None:
            cached = {it.id: it for it in self.items}
            object.__setattr__(self, "_item_index", cached)
        return cached

    def to_dict(self) -> dict:
        return {
            "version": FORMAT_VERSION, "name": self.name, "created": self.created, "systems": self.systems,
            "base_system": self.base_system, "seed": self.seed, "task": self.task, "labels": self.labels,
            "items": [it.to_dict() for it in self.items], "outputs": self.outputs,
            "stats": {"n_bootstrap": self.n_bootstrap, "bootstrap_seed": self.bootstrap_seed},
            "resolved": self.resolved, "normalisation": self.normalisation,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SessionPlan:
        return cls(
            systems=list(d["systems"]), base_system=d["base_system"], seed=int(d["seed"]),
            items=[EvalItem.from_dict(x) for x in d["items"]], outputs={k: dict(v) for k, v in d["outputs"].items()},
            task=d.get("task", "text"), labels=list(d.get("labels", [])), created=d.get("created", ""),
            name=d.get("name", ""),
            n_bootstrap=int((d.get("stats") or {}).get("n_bootstrap", DEFAULT_N_BOOTSTRAP)),
            bootstrap_seed=int((d.get("stats") or {}).get("bootstrap_seed", DEFAULT_BOOTSTRAP_SEED)),
            resolved=dict(d.get("resolved") or {}), normalisation=dict(d.get("normalisation") or {}),
        )


def load_plan(directory: str | Path) -> SessionPlan:
    path = Path(directory) / SESSION_FILE
    if not path.is_file():
        raise SessionError(f"{directory} is not a rating session (no {SESSION_FILE}). "
                           "Create one with 'ftui eval session' or pick an existing session directory.")
    try:
        return SessionPlan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise SessionError(f"{path} is damaged ({exc}); the votes are in raters/*/votes.jsonl") from None


@dataclass(frozen=True)
class SessionSummary:
    path: Path
    name: str
    created: str
    systems: list[str]
    n_items: int
    raters: list[str]


def list_sessions(root: str | Path | None = None) -> list[SessionSummary]:
    """Sessions under ``root`` (default ``paths.sessions_dir()``), newest first; damaged ones are left out."""
    from ftui import paths

    base = Path(root) if root is not None else paths.sessions_dir()
    out = []
    if not base.is_dir():
        return out
    for d in base.iterdir():
        try:
            plan = load_plan(d)
        except (SessionError, OSError):
            continue
        raters = sorted(p.name for p in (d / "raters").iterdir() if p.is_dir()) if (d / "raters").is_dir() else []
        out.append(SessionSummary(d, plan.name or d.name, plan.created, plan.systems, len(plan.items), raters))
    return sorted(out, key=lambda s: s.created, reverse=True)


# --- the session -----------------------------------------------------------------------------


@dataclass
class _Replay:
    votes: dict[int, VoteRecord] = field(default_factory=dict)  # task index -> effective vote
    history: list[int] = field(default_factory=list)  # human-voted task indices, in order (undo stack)
    unblinded_at: str | None = None
    warnings: list[str] = field(default_factory=list)


def _replay(path: Path) -> tuple[_Replay, bool]:
    """Replay a votes log. Returns the state and whether the file ends without a newline (torn tail)."""
    state = _Replay()
    if not path.exists():
        return state, False
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn_tail = bool(data) and not data.endswith(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        is_last = number == len(lines)
        try:
            rec = json.loads(raw)
            kind = rec["type"]
            if kind == "vote":
                vote = VoteRecord.from_record(rec)
                if vote.choice not in CHOICES:
                    raise ValueError(f"unknown choice {vote.choice!r}")
                state.votes[vote.task] = vote
                if vote.choice != "identical":
                    if vote.task in state.history:
                        state.history.remove(vote.task)
                    state.history.append(vote.task)
            elif kind == "undo":
                task = int(rec["task"])
                state.votes.pop(task, None)
                if task in state.history:
                    state.history.remove(task)
            elif kind == "unblind":
                state.unblinded_at = rec.get("ts") or "?"
            else:
                raise ValueError(f"unknown record type {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            what = "torn last line (the process was killed mid-write)" if is_last and torn_tail else "unreadable line"
            state.warnings.append(f"{path.name} line {number}: {what} skipped: {str(exc)[:80]}")
    return state, torn_tail


class BlindSession:
    """One rater's view of a blind A/B session. Not thread-safe: call it from one thread."""

    def __init__(self, directory: str | Path, rater: str, *, clock: Callable[[], float] = time.time) -> None:
        """Open (resume) ``directory`` as ``rater``; creates this rater's queue on first open.
        Replays the votes log; problems found are in ``self.warnings``."""
        self.directory = Path(directory)
        self.rater = check_rater_name(rater)
        self.plan = load_plan(self.directory)
        self._clock = clock
        rater_dir = self.directory / "raters" / rater
        queue_path = rater_dir / "queue.json"
        if queue_path.is_file():
            try:
                self.tasks = [Task.from_dict(t) for t in json.loads(queue_path.read_text(encoding="utf-8"))["tasks"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise SessionError(f"{queue_path} is damaged ({exc}); restore it or rate as a new rater") from None
        else:
            self.tasks = build_queue([it.id for it in self.plan.items], self.plan.pairs, rater, self.plan.seed)
            _atomic_write_json(queue_path, {"rater": rater, "seed": self.plan.seed,
                                            "tasks": [t.to_dict() for t in self.tasks]})
        self.votes_path = rater_dir / "votes.jsonl"
        state, torn = _replay(self.votes_path)
        self._state = state
        self.warnings: list[str] = list(state.warnings)
        self.read_only = not self._take_lock(rater_dir)
        if self.read_only:
            self.warnings.append(
                f"rater {rater!r} is rating this session elsewhere (another process or window); opened read-only")
        # 0600: votes and notes are the rater's own; kept open for the session's life
        created = not self.votes_path.exists()
        self._fh = open(os.open(self.votes_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")  # noqa: SIM115
        if created:
            fsync_dir(rater_dir)  # the new log's directory entry survives a crash too
        if torn and not self.read_only:
            # end the torn fragment so the next record starts on its own line; the fragment stays (append-only)
            self._fh.write(b"\n")
            self._sync()
        self._shown_at: dict[int, float] = {}
        self._eval_scores: dict[str, M.EvalScores] | None = None
        self._advance()

    @property
    def blind_id(self) -> str:
        """A neutral short name for what is shown while rating blinded (6 hex digits, stable per
        session): the directory name is the user's choice and may name the systems."""
        return hashlib.sha256(f"{self.directory.name}\0{self.plan.created}".encode()).hexdigest()[:6]

    # -- construction --------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | Path,
        items: Sequence[EvalItem],
        outputs: Mapping[str, Mapping[str, str]],
        rater: str,
        *,
        seed: int | None = None,
        base_system: str | None = None,
        task: str | None = None,
        name: str = "",
        clock: Callable[[], float] = time.time,
        n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
        bootstrap_seed: int = DEFAULT_BOOTSTRAP_SEED,
        resolved: Mapping[str, dict] | None = None,
    ) -> BlindSession:
        """Write a new session plan from two or more systems' outputs on the same items, then open it.

        ``outputs`` maps system name -> item id -> raw output; every output goes through the one
        normaliser. Items missing from any system are left out. ``base_system`` (default: the first
        system) is the anchor for win rates and Bradley–Terry. ``seed`` (order and sides) defaults to a
        fresh random one; ``resolved`` (``blinding.resolve_systems``) records what each system was.
        """
        from ftui.evaluate.blinding import fresh_seed, normalisation_record

        check_rater_name(rater)
        directory = Path(directory)
        if (directory / SESSION_FILE).exists():
            raise SessionError(f"{directory} already holds a session; open it to resume, or choose a new name")
        systems = list(outputs)
        if len(systems) < 2:
            raise SessionError("a blind comparison needs the outputs of at least two systems")
        if len(set(systems)) != len(systems):
            raise SessionError("system names must be unique")
        base = base_system or systems[0]
        if base not in systems:
            raise SessionError(f"base system {base!r} is not one of {systems}")
        kept = [it for it in items if all(it.id in outputs[s] for s in systems)]
        if not kept:
            raise SessionError("no item has an output from every system; generate outputs first")
        normalised = {s: {it.id: normalize_output(outputs[s][it.id]) for it in kept} for s in systems}
        refs = [it.reference for it in kept if it.reference is not None]
        kind = task or (M.detect_task(refs) if refs else "text")
        labels = M.labels_from(refs) if kind == "label" else []
        plan = SessionPlan(systems, base, fresh_seed() if seed is None else seed, kept, normalised, kind, labels,
                           _now_iso(clock()), name or directory.name, n_bootstrap=n_bootstrap,
                           bootstrap_seed=bootstrap_seed, resolved={s: dict((resolved or {}).get(s) or {}) for s in systems},
                           normalisation=normalisation_record())
        _atomic_write_json(directory / SESSION_FILE, plan.to_dict())
        return cls(directory, rater, clock=clock)

    def _take_lock(self, rater_dir: Path) -> bool:
        """One writer per rater: an flock on ``raters/<rater>/.lock`` (released by the OS if the process
        dies, so a crash never leaves a stale lock). False when another process holds it."""
        self._lock_fh = None
        try:
            import fcntl
        except ImportError:  # not POSIX: no cross-process guard
            return True
        fh = open(os.open(rater_dir / ".lock", os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600), "a+")  # noqa: SIM115 - held for the session's life
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_fh = fh
        return True

    def close(self) -> None:
        """Close the log and release this rater's lock (also done by the OS at exit)."""
        if not self._fh.closed:
            self._fh.close()
        if self._lock_fh is not None and not self._lock_fh.closed:
            self._lock_fh.close()

    def _require_writable(self) -> None:
        if self.read_only:
            raise SessionError(f"rater {self.rater!r} is rating this session elsewhere (another process or window); "
                               "finish or quit there first")

    def __enter__(self) -> BlindSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- durable log -----------------------------------------------------------------------

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._fh.write(line.encode("utf-8"))
        self._sync()

    # -- queue state ---------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.plan.seed

    @property
    def systems(self) -> list[str]:
        return list(self.plan.systems)

    @property
    def is_unblinded(self) -> bool:
        return self._state.unblinded_at is not None

    @property
    def finished(self) -> bool:
        return self._position >= len(self.tasks)

    def votes(self) -> list[VoteRecord]:
        """This rater's effective votes (undone ones removed), in queue order."""
        return [self._state.votes[t.index] for t in self.tasks if t.index in self._state.votes]

    def _output(self, system: str, item_id: str) -> str:
        return self.plan.outputs[system][item_id]

    def _advance(self) -> None:
        """Move to the first task without a vote, auto-recording identical pairs on the way."""
        pos = 0
        while pos < len(self.tasks):
            t = self.tasks[pos]
            if t.index not in self._state.votes:
                if (self._output(t.left, t.item_id) == self._output(t.right, t.item_id) and not self.is_unblinded
                        and not self.read_only):
                    self._record(t, "identical", "", (), dwell_ms=0)
                    continue
                break
            pos += 1
        self._position = pos

    def current(self) -> ShownPair | None:
        """The pair to show now (None when the queue is done). Starts its dwell clock on first call."""
        if self.finished:
            return None
        t = self.tasks[self._position]
        if t.index not in self._shown_at:
            self._shown_at[t.index] = self._clock()
        item = self.plan.item(t.item_id)
        return ShownPair(
            task=t.index, position=self._position + 1, total=len(self.tasks), item_id=t.item_id,
            messages=item.messages, prompt=item.prompt_text, reference=item.reference,
            output_left=self._output(t.left, t.item_id), output_right=self._output(t.right, t.item_id),
        )

    def _record(self, t: Task, choice: str, note: str, flags: Iterable[str], dwell_ms: int | None) -> VoteRecord:
        now = self._clock()
        shown = self._shown_at.get(t.index, now)
        dwell = int(round((now - shown) * 1000)) if dwell_ms is None else int(dwell_ms)
        left_text, right_text = self._output(t.left, t.item_id), self._output(t.right, t.item_id)
        vote = VoteRecord(
            task=t.index, item_id=t.item_id, rater=self.rater, left=t.left, right=t.right, choice=choice,
            note=note, flags=tuple(flags), shown_at=_now_iso(shown), dwell_ms=dwell, seed=self.plan.seed,
            pair=t.pair, fast=choice != "identical" and dwell < min_plausible_ms(left_text, right_text),
            ts=_now_iso(now),
        )
        self._append(vote.to_record())  # durable before the state changes and before we return
        self._state.votes[t.index] = vote
        if choice != "identical":
            self._state.history.append(t.index)
        return vote

    def vote(self, choice: str, note: str = "", flags: Iterable[str] = (), dwell_ms: int | None = None) -> VoteRecord:
        """Record a decision on the current pair (flushed + fsynced before returning) and move on.

        ``choice`` is one of ``HUMAN_CHOICES``: left, right, tie, both_bad, skip. ``dwell_ms``
        defaults to the time since ``current()`` first showed this pair.
        """
        if choice not in HUMAN_CHOICES:
            raise SessionError(f"unknown choice {choice!r}; use one of {', '.join(HUMAN_CHOICES)}")
        self._require_writable()
        if self.is_unblinded:
            raise SessionError("this rater has unblinded; votes cast after seeing results would be biased")
        if self.finished:
            raise SessionError("every pair is rated; unblind to see the results")
        t = self.tasks[self._position]
        if t.index not in self._shown_at:
            self._shown_at[t.index] = self._clock()
        vote = self._record(t, choice, note, flags, dwell_ms)
        self._advance()
        return vote

    def undo(self) -> ShownPair | None:
        """Withdraw the last human vote (an appended ``undo`` record) and reopen that pair.
        Returns the reopened pair, or None when there is nothing to undo."""
        if self.is_unblinded:
            raise SessionError("this rater has unblinded; the votes are final")
        self._require_writable()
        if not self._state.history:
            return None
        task = self._state.history.pop()
        self._append({"type": "undo", "task": task, "rater": self.rater, "ts": _now_iso(self._clock())})
        self._state.votes.pop(task, None)
        self._shown_at.pop(task, None)
        self._advance()
        return self.current()

    def progress(self) -> Progress:
        human = [v for v in self._state.votes.values() if v.choice != "identical"]
        rated = len([v for v in human if v.choice != "skip"])
        by = {c: sum(1 for v in self._state.votes.values() if v.choice == c) for c in CHOICES}
        return Progress(
            position=min(self._position + 1, len(self.tasks) + 1), total=len(self.tasks),
            done=len(self._state.votes), decisive=by["left"] + by["right"], ties=by["tie"], both_bad=by["both_bad"],
            skipped=by["skip"], identical=by["identical"], elapsed_s=sum(v.dwell_ms for v in human) / 1000,
            finished=self.finished, suggest_break=rated > 0 and rated % BREAK_EVERY == 0,
        )

    # -- unblinding and results ---------------------------------------------------------------

    def unblind(self) -> None:
        """Record that this rater has seen (is about to see) the results. Idempotent; allowed mid-queue
        (the remaining pairs can then no longer be rated by this rater)."""
        if self.is_unblinded:
            return
        self._require_writable()
        ts = _now_iso(self._clock())
        self._append({"type": "unblind", "rater": self.rater, "ts": ts, "done": len(self._state.votes),
                      "total": len(self.tasks)})
        self._state.unblinded_at = ts

    def _require_unblinded(self) -> None:
        if not self.is_unblinded:
            raise BlindError(f"results are hidden until rater {self.rater!r} unblinds (call unblind(); it is recorded)")

    def all_votes(self) -> list[VoteRecord]:
        """Effective votes of every rater of this session (their logs replayed read-only)."""
        out: list[VoteRecord] = []
        raters_dir = self.directory / "raters"
        for d in sorted(p for p in raters_dir.iterdir() if p.is_dir()):
            if d.name == self.rater:
                out.extend(self.votes())
                continue
            state, _ = _replay(d / "votes.jsonl")
            out.extend(state.votes[k] for k in sorted(state.votes))
        return out

    def eval_scores(self) -> dict[str, M.EvalScores]:
        """system -> automatic scores on the session's items (empty when items have no references)."""
        if self._eval_scores is None:
            refs = {it.id: it.reference for it in self.plan.items if it.reference is not None}
            self._eval_scores = {
                s: M.score_system(s, self.plan.outputs[s], refs, self.plan.task, self.plan.labels or None)
                for s in self.plan.systems
            } if refs else {}
        return self._eval_scores

    def item_scores(self) -> dict[str, dict[str, M.ItemScores]]:
        """system -> item id -> per-item automatic scores."""
        return {s: sc.items for s, sc in self.eval_scores().items()}

    def results(self, n_bootstrap: int | None = None, raters: Sequence[str] | None = None) -> SessionResults:
        """All statistics of the spec's "Statistics to show" section over every rater's votes (or only
        ``raters``), with the session's stored bootstrap size and seed unless ``n_bootstrap`` is given.
        Raises BlindError before this rater's unblind."""
        self._require_unblinded()
        from ftui.evaluate.judge import SESSION_JUDGE_FILE, read_records

        votes = [v for v in self.all_votes() if raters is None or v.rater in raters]
        return compute_results(self.plan, votes, n_bootstrap=n_bootstrap,
                               judge_records=read_records(self.directory / SESSION_JUDGE_FILE))

    def drilldown(self, disagreements_only: bool = False, item_id: str | None = None) -> list[DrillRow]:
        """One row per effective vote of every rater (item, both outputs unblinded, vote, note, scores).
        ``disagreements_only`` keeps rows where the human vote contradicts the metrics."""
        self._require_unblinded()
        scores = self.item_scores()
        rows = []
        for v in self.all_votes():
            if item_id is not None and v.item_id != item_id:
                continue
            item = self.plan.item(v.item_id)
            sc = {s: scores[s][v.item_id] for s in (v.left, v.right) if s in scores and v.item_id in scores[s]}
            row = DrillRow(
                task=v.task, item_id=v.item_id, rater=v.rater, messages=item.messages, prompt=item.prompt_text,
                reference=item.reference, system_left=v.left, system_right=v.right,
                output_left=self._output(v.left, v.item_id), output_right=self._output(v.right, v.item_id),
                choice=v.choice, preferred=v.preferred, note=v.note, flags=v.flags, dwell_ms=v.dwell_ms, fast=v.fast,
                scores=sc, disagreement=disagreement(v, sc),
            )
            if disagreements_only and row.disagreement is None:
                continue
            rows.append(row)
        return rows

    def worst_items(self, system: str, metric: str = "primary", k: int = 10) -> list[tuple[str, float]]:
        """Lowest-scoring items of ``system`` (ids for ``drilldown(item_id=...)``). Needs unblind."""
        self._require_unblinded()
        ev = self.eval_scores()
        return M.worst_items(ev[system], metric, k) if system in ev else []

    def export(self, path: str | Path, fmt: str) -> int:
        """Write votes as ``csv`` / ``jsonl`` or preference pairs as ``dpo``; returns rows written.
        Needs unblind (the export names the systems)."""
        self._require_unblinded()
        return export_votes(self.plan, self.all_votes(), Path(path), fmt)


# --- results ---------------------------------------------------------------------------------


def disagreement(v: VoteRecord, scores: Mapping[str, M.ItemScores], text_margin: float = 0.1) -> str | None:
    """Why a human vote contradicts the automatic metrics on this item, or None.

    Label/JSON tasks compare correctness (0/1); free text compares ROUGE-L and needs a gap of
    at least ``text_margin`` so near-equal scores are not reported."""
    if v.left not in scores or v.right not in scores:
        return None
    pl, pr = scores[v.left].primary, scores[v.right].primary
    binary = scores[v.left].label is not None or scores[v.left].json_parse is not None
    margin = 0.0 if binary else text_margin
    if v.choice in DECISIVE:
        chosen, other = (v.left, v.right) if v.choice == "left" else (v.right, v.left)
        mine, theirs = scores[chosen].primary, scores[other].primary
        if (mine < theirs) if binary else (mine + margin <= theirs):
            return f"preferred {chosen} but its metric is lower ({mine:.2f} < {theirs:.2f})"
    elif v.choice == "tie" and abs(pl - pr) >= (0.5 if binary else 0.3):
        return f"tie but the metrics differ ({pl:.2f} vs {pr:.2f})"
    elif v.choice == "both_bad" and max(scores[v.left].exact, scores[v.right].exact) >= 1.0:
        return "both bad but one output matches the reference"
    return None


@dataclass
class DrillRow:
    task: int
    item_id: str
    rater: str
    messages: tuple[dict[str, str], ...]
    prompt: str
    reference: str | None
    system_left: str
    system_right: str
    output_left: str
    output_right: str
    choice: str
    preferred: str | None
    note: str
    flags: tuple[str, ...]
    dwell_ms: int
    fast: bool
    scores: dict[str, M.ItemScores]
    disagreement: str | None


# --- export ----------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "jsonl", "dpo")
CSV_FIELDS = ("item_id", "rater", "left", "right", "choice", "preferred", "note", "flags", "shown_at", "dwell_ms",
              "fast", "seed", "task")


def export_votes(plan: SessionPlan, votes: Sequence[VoteRecord], path: Path, fmt: str) -> int:
    """Write ``votes`` to ``path``. ``dpo`` writes TRL conversational preference rows
    ``{"prompt": [messages], "chosen": [assistant], "rejected": [assistant]}``, one per (item, pair)
    with a strict majority of decisive votes (contradicting raters cancel out)."""
    if fmt not in EXPORT_FORMATS:
        raise SessionError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_FIELDS)
            for v in votes:
                w.writerow([v.item_id, v.rater, v.left, v.right, v.choice, v.preferred or "", v.note,
                            ";".join(v.flags), v.shown_at, v.dwell_ms, int(v.fast), v.seed, v.task])
        return len(votes)
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for v in votes:
                rec = v.to_record()
                rec.pop("type")
                rec["preferred"] = v.preferred
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return len(votes)
    tally: dict[tuple[str, tuple[str, str]], list[int]] = {}
    for v in votes:
        if v.choice in DECISIVE:
            t = tally.setdefault((v.item_id, v.pair), [0, 0])
            t[0 if v.preferred == v.pair[0] else 1] += 1
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for (item_id, (a, b)), (va, vb) in tally.items():
            if va == vb:
                continue
            chosen, rejected = (a, b) if va > vb else (b, a)
            item = plan.item(item_id)
            row = {
                "prompt": [dict(m) for m in item.messages],
                "chosen": [{"role": "assistant", "content": plan.outputs[chosen][item_id]}],
                "rejected": [{"role": "assistant", "content": plan.outputs[rejected][item_id]}],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
