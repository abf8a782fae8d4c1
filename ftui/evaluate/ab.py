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

The fixed plan, queues and vote records are ``session_plan``; the statistics ``results``; the
export ``vote_export``. This module is the live store: the open log, the lock, the queue position.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ftui.evaluate import metrics as M
from ftui.evaluate.fsutil import fsync_dir
from ftui.evaluate.items import EvalItem
from ftui.evaluate.normalize import normalize_output
from ftui.evaluate.results import DrillRow, SessionResults, compute_results, drill_rows
from ftui.evaluate.scoring import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOTSTRAP, score_outputs
from ftui.evaluate.session_plan import (
    BREAK_EVERY,
    CHOICES,
    HUMAN_CHOICES,
    SESSION_FILE,
    BlindError,
    SessionError,
    SessionPlan,
    Task,
    VoteRecord,
    atomic_write_json,
    build_queue,
    check_rater_name,
    load_plan,
    now_iso,
    replay_votes,
)


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


# --- the session -----------------------------------------------------------------------------


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
            atomic_write_json(queue_path, {"rater": rater, "seed": self.plan.seed,
                                            "tasks": [t.to_dict() for t in self.tasks]})
        self.votes_path = rater_dir / "votes.jsonl"
        state, torn = replay_votes(self.votes_path)
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
                           now_iso(clock()), name or directory.name, n_bootstrap=n_bootstrap,
                           bootstrap_seed=bootstrap_seed, resolved={s: dict((resolved or {}).get(s) or {}) for s in systems},
                           normalisation=normalisation_record())
        atomic_write_json(directory / SESSION_FILE, plan.to_dict())
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
            note=note, flags=tuple(flags), shown_at=now_iso(shown), dwell_ms=dwell, seed=self.plan.seed,
            pair=t.pair, fast=choice != "identical" and dwell < min_plausible_ms(left_text, right_text),
            ts=now_iso(now),
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
        self._append({"type": "undo", "task": task, "rater": self.rater, "ts": now_iso(self._clock())})
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
        ts = now_iso(self._clock())
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
            state, _ = replay_votes(d / "votes.jsonl")
            out.extend(state.votes[k] for k in sorted(state.votes))
        return out

    def eval_scores(self) -> dict[str, M.EvalScores]:
        """system -> automatic scores on the session's items (empty when items have no references), from the
        one scorer with the plan's task and labels, as the session's results and the CLI compute them."""
        if self._eval_scores is None:
            self._eval_scores = score_outputs(self.plan.items, self.plan.outputs, task=self.plan.task,
                                              labels=self.plan.labels or None, pairs=[]).scores
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
        return drill_rows(self.plan, self.all_votes(), self.item_scores(), disagreements_only, item_id)

    def worst_items(self, system: str, metric: str = "primary", k: int = 10) -> list[tuple[str, float]]:
        """Lowest-scoring items of ``system`` (ids for ``drilldown(item_id=...)``). Needs unblind."""
        self._require_unblinded()
        ev = self.eval_scores()
        return M.worst_items(ev[system], metric, k) if system in ev else []

    def export(self, path: str | Path, fmt: str) -> int:
        """Write votes as ``csv`` / ``jsonl`` or preference pairs as ``dpo``; returns rows written.
        Needs unblind (the export names the systems)."""
        self._require_unblinded()
        from ftui.evaluate.vote_export import export_votes

        return export_votes(self.plan, self.all_votes(), Path(path), fmt)
