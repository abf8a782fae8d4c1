"""A blind session's fixed part: the plan (``session.json``), each rater's queue, and the vote record.

Everything here is decided before the first vote and never changes after ("no peeking, fixed
plan"): the systems and their normalised outputs, the seed, each rater's task order and side
assignment (``build_queue``), and the shape of one vote in the log (``VoteRecord``). The live
session (``ab.BlindSession``), the statistics (``results``) and the export (``vote_export``) all
read these types, and none of them is imported here, so the modules form no circle.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path

from ftui.evaluate.bootstrap_defaults import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOTSTRAP
from ftui.evaluate.fsutil import fsync_dir
from ftui.evaluate.items import EvalItem

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


def now_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def atomic_write_json(path: Path, data: object) -> None:
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


def rater_problem(name: str) -> str | None:
    """Why ``name`` cannot be a rater name, or None: the one check the CLI and every rater-name prompt share."""
    try:
        check_rater_name(name)
    except SessionError as exc:
        return str(exc)
    return None


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


# --- the votes log ---------------------------------------------------------------------------


@dataclass
class Replay:
    votes: dict[int, VoteRecord] = field(default_factory=dict)  # task index -> effective vote
    history: list[int] = field(default_factory=list)  # human-voted task indices, in order (undo stack)
    unblinded_at: str | None = None
    warnings: list[str] = field(default_factory=list)


def replay_votes(path: Path) -> tuple[Replay, bool]:
    """Replay a votes log. Returns the state and whether the file ends without a newline (torn tail)."""
    state = Replay()
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
