"""Fixes that write NEW files and never touch the input: clean, split, convert.

Every fix writes to a temporary file next to the target and renames it into place when
done (a crash leaves no half-written output), refuses to write over its input, and
returns a ``FixResult`` saying what it wrote (paths, row counts) and what it dropped.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ftui.data import formats
from ftui.data.conversation import Conversation
from ftui.data.dialects import TOOL_CALL_TAG, TOOL_RESPONSE_TAG, json_call


class FixError(Exception):
    """A fix cannot run as asked; the message says why and what to do."""


@dataclass
class WrittenFile:
    path: str
    rows: int


@dataclass
class FixResult:
    action: str
    input: str
    input_rows: int
    written: list[WrittenFile] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "input": self.input,
            "input_rows": self.input_rows,
            "written": [{"path": w.path, "rows": w.rows} for w in self.written],
            "dropped": self.dropped,
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        """Human summary, one fact per line (the CLI prints these; the Data screen shows them)."""
        out = [f"{self.action}: read {self.input_rows} rows from {self.input}"]
        out += [f"  wrote {w.rows} row{'s' if w.rows != 1 else ''} to {w.path}" for w in self.written]
        out += [f"  dropped {n} row{'s' if n != 1 else ''}: {why}" for why, n in self.dropped.items() if n]
        out += [f"  {note}" for note in self.notes]
        return out


# --- writing ------------------------------------------------------------------------


class _AtomicJsonl:
    """Write JSONL to a temp file, rename into place on success."""

    def __init__(self, path: Path, source: Path, overwrite: bool) -> None:
        self.path = path
        if path.exists():
            if source.exists() and os.path.samefile(path, source):
                raise FixError(f"{path} is the input file: choose another output path (fixes never modify the input)")
            if not overwrite:
                raise FixError(f"{path} already exists: pass --force to replace it, or choose another path")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.tmp = Path(tmp)
        self.f = os.fdopen(fd, "wb")
        self.rows = 0

    def write(self, obj: dict[str, Any]) -> None:
        self.f.write(orjson.dumps(obj))
        self.f.write(b"\n")
        self.rows += 1

    def commit(self) -> WrittenFile:
        self.f.close()
        os.replace(self.tmp, self.path)
        return WrittenFile(str(self.path), self.rows)

    def abort(self) -> None:
        self.f.close()
        self.tmp.unlink(missing_ok=True)


def _default_out(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.stem}.{suffix}.jsonl")


# --- row conversion -----------------------------------------------------------------


def to_chat(conv: Conversation, openai: bool = False, keep_reasoning: bool = True) -> dict[str, Any]:
    """A conversation as a chat ``{"messages": [...]}`` row (OpenAI fine-tuning JSONL when ``openai``).

    ``keep_reasoning``: an assistant turn's reasoning goes to ``reasoning_content`` (the chat
    template decides how it renders) or is dropped."""
    messages = []
    unanswered: list[str] = []  # OpenAI matches replies by id: calls without one get ids, replies take them in order
    for m in conv.messages:
        out: dict[str, Any] = {"role": m.role}
        if m.tool_calls:
            # the calls' text (Hermes tags, a ShareGPT function_call's JSON) is now in tool_calls
            text = TOOL_CALL_TAG.sub("", m.content).strip()
            out["content"] = None if not text or json_call(text, "").name else text
            if openai:
                calls = [_openai_call(c, f"call_{len(messages) + 1}_{k + 1}") for k, c in enumerate(m.tool_calls)]
                unanswered = [c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)]
                out["tool_calls"] = calls
            else:
                out["tool_calls"] = m.tool_calls
        else:
            out["content"] = m.content if (openai or m.parts is None or m.reasoning) else m.parts
            reply = TOOL_RESPONSE_TAG.match(m.content) if m.role == "tool" else None
            if reply:  # a Hermes <tool_response> wrapper: the template adds its own
                out["content"] = reply.group(1)
        if m.name:
            out["name"] = m.name
        if m.tool_call_id:
            out["tool_call_id"] = m.tool_call_id
            if m.tool_call_id in unanswered:
                unanswered.remove(m.tool_call_id)
        elif openai and m.role == "tool" and unanswered:
            out["tool_call_id"] = unanswered.pop(0)
        if m.reasoning and keep_reasoning and m.role == "assistant":
            out["reasoning_content"] = m.reasoning  # the field chat templates read
        if openai and m.role == "assistant" and m.weight in (0, 1):
            out["weight"] = m.weight
        messages.append(out)
    row: dict[str, Any] = {"messages": messages}
    if conv.extras.get("tools"):
        row["tools"] = conv.extras["tools"]
    return row


def _openai_call(call: Any, new_id: str) -> Any:
    """OpenAI wants ``function.arguments`` as a JSON string and an ``id`` on every call (``new_id`` when it has none)."""
    if isinstance(call, dict) and not isinstance(call.get("function"), dict) and isinstance(call.get("name"), str):
        call = {k: v for k, v in call.items() if k not in ("name", "arguments")} | {
            "function": {"name": call["name"], "arguments": call.get("arguments", {})}}
    if isinstance(call, dict) and isinstance(call.get("function"), dict):
        fn = dict(call["function"])
        if not isinstance(fn.get("arguments"), str):
            fn["arguments"] = orjson.dumps(fn.get("arguments", {})).decode()
        return {**call, "id": call.get("id") or new_id, "type": call.get("type", "function"), "function": fn}
    return call


def _doc_text(conv: Conversation) -> str:
    """The text that identifies a row for duplicates/leakage: every non-system turn."""
    return "\n".join(m.content for m in conv.messages if m.role != "system")


def _label(conv: Conversation) -> str:
    return conv.completion_text.strip().lower()


# --- clean --------------------------------------------------------------------------


def clean(
    path: str | Path,
    out: str | Path | None = None,
    profile: str = "trl",
    drop_near_duplicates: bool = False,
    overwrite: bool = False,
    drop_images: bool = False,
) -> FixResult:
    """Drop rows with errors and duplicates (keeping the first), write normalised chat JSONL.

    ``drop_images``: also drop rows that reference images (W020): a text-only model would
    train their placeholders as text."""
    from ftui.data.lint import lint_file

    src = Path(path)
    report = lint_file(src, profile=profile, near_dups=drop_near_duplicates)
    if report.format == formats.PREFERENCE:
        raise FixError("clean writes chat SFT rows; this file is preference data (prompt/chosen/rejected)")
    bad_rows = {f.row for f in report.findings if f.severity == "error" and f.row is not None}
    dup_ids = {"W002"} | ({"W003"} if drop_near_duplicates else set())
    dup_rows = {f.row for f in report.findings if f.id in dup_ids and f.row is not None} - bad_rows
    image_rows = {f.row for f in report.findings if f.id == "W020" and f.row is not None} - bad_rows - dup_rows if drop_images else set()
    target = Path(out) if out else _default_out(src, "clean")
    writer = _AtomicJsonl(target, src, overwrite)
    total = 0
    try:
        for row, _off, conv, _err in formats.iter_conversations(src, report.format):
            total += 1
            if conv is None or row in bad_rows or row in dup_rows or row in image_rows:
                if conv is None:
                    bad_rows.add(row)
                continue
            writer.write(to_chat(conv))
        written = writer.commit()
    except BaseException:
        writer.abort()
        raise
    result = FixResult("clean", str(src), total, [written])
    result.dropped = {"with errors": len(bad_rows), "duplicates" + (" (exact and near)" if drop_near_duplicates else " (exact)"): len(dup_rows)}
    if drop_images:
        result.dropped["referencing images"] = len(image_rows)
    result.notes.append("format: chat messages (normalised from " + formats.FORMAT_LABELS.get(report.format, report.format) + ")")
    return result


# --- convert ------------------------------------------------------------------------


def convert(path: str | Path, to: str = "chat", out: str | Path | None = None, overwrite: bool = False,
            reasoning: str = "keep") -> FixResult:
    """Alpaca / ShareGPT / prompt-completion / text / any chat dialect -> chat ``messages`` (tool calls in the
    form HF chat templates take); chat -> OpenAI fine-tuning JSONL. ``reasoning``: keep (as
    ``reasoning_content``) or drop the assistant's reasoning."""
    if to not in ("chat", "openai", "trl"):
        raise FixError(f"unknown target format {to!r}: use chat or openai (preference data: trl or openai)")
    if reasoning not in ("keep", "drop"):
        raise FixError(f"unknown reasoning policy {reasoning!r}: use keep or drop")
    src = Path(path)
    guess = formats.detect_format(src)
    if guess.format == formats.PREFERENCE:  # pairs / KTO rows stay preference data, in one explicit form
        return _convert_preference(src, to, out, overwrite, guess.detail)
    if to == "trl":
        raise FixError("--to trl is for preference data; this file is SFT data: use --to chat")
    if guess.format == formats.UNKNOWN:
        raise FixError("no known format found in the sampled rows: nothing to convert (run ftui lint to see why)")
    target = Path(out) if out else _default_out(src, "openai" if to == "openai" else "chat")

    def row_of(conv: Conversation) -> dict[str, Any] | str:
        if to == "openai" and not any(m.role == "assistant" for m in conv.messages):
            return "E008"
        return to_chat(conv, openai=to == "openai", keep_reasoning=reasoning == "keep" and to != "openai")

    result = write_converted(src, guess.format, target, overwrite, row_of,
                             f"convert {formats.FORMAT_LABELS.get(guess.format, guess.format)} -> {to}")
    written = result.written[0]
    if to == "openai" and written.rows < 10:
        result.notes.append(f"OpenAI needs at least 10 examples; this file has {written.rows}")
    return result


def _convert_preference(src: Path, to: str, out: str | Path | None, overwrite: bool, style: str) -> FixResult:
    """Every usable row of the preference file ``src`` in the ``to`` form (``trl`` or ``openai``);
    ``style``: the detected form (``FormatGuess.detail``)."""
    from ftui.data.fix_preference import preference_row

    if to == "openai" and style == "unpaired, label":
        raise FixError("OpenAI's preference fine-tuning takes pairs (chosen and rejected); this file holds unpaired "
                       "KTO rows (label): convert it with --to trl")
    if to not in ("trl", "openai"):
        raise FixError(f"this file is preference data: convert it with --to trl (TRL's prompt/chosen/rejected or "
                       f"prompt/completion/label) or --to openai (OpenAI's preference JSONL), not --to {to}")
    target = Path(out) if out else _default_out(src, to)
    return write_converted(src, formats.PREFERENCE, target, overwrite, lambda conv: preference_row(conv, to),
                           f"convert preference data ({style or 'paired'}) -> {to}")


def write_converted(src: Path, fmt: str, target: Path, overwrite: bool,
                    row_of: Callable[[Conversation], dict[str, Any] | str], action: str) -> FixResult:
    """Read ``src`` as ``fmt`` and write ``row_of`` of each row to ``target`` atomically; a row
    ``row_of`` answers with a string (the check id why) or that cannot be read is counted, not written."""
    writer = _AtomicJsonl(target, src, overwrite)
    total = 0
    failed: Counter[str] = Counter()
    try:
        for _row, _off, conv, err in formats.iter_conversations(src, fmt):
            total += 1
            row = row_of(conv) if conv is not None else (err.check_id if err else "E000")
            if isinstance(row, str):
                failed[row] += 1
                continue
            writer.write(row)
        written = writer.commit()
    except BaseException:
        writer.abort()
        raise
    result = FixResult(action, str(src), total, [written])
    if failed:
        result.dropped = {f"cannot be converted ({', '.join(sorted(failed))}; see ftui lint)": sum(failed.values())}
    return result


# --- split --------------------------------------------------------------------------


def _groups(texts: list[str], near_threshold: float | None) -> list[int]:
    """Cluster id per row: exact duplicates and verified near duplicates share one."""
    from ftui.data.dedup import MinHashLSH, UnionFind, verified_pairs

    uf = UnionFind()
    first: dict[str, int] = {}
    for i, t in enumerate(texts):
        key = " ".join(t.lower().split())
        if key in first:
            uf.union(first[key], i)
        else:
            first[key] = i
    if near_threshold is not None and len(texts) > 1:
        lsh = MinHashLSH()
        for s in range(0, len(texts), 2000):
            lsh.add(texts[s : s + 2000])
        for i, j, _ in verified_pairs(lsh.candidate_pairs(), texts.__getitem__, threshold=near_threshold):
            uf.union(i, j)
    return [uf.find(i) for i in range(len(texts))]


def classification_labels(labels: Iterable[str]) -> Counter[str] | None:
    """The label counts when answers take few distinct short values (classification-like data), else None."""
    counts = Counter(labels)
    total = sum(counts.values())
    if total < 20 or len(counts) > min(50, max(2, total // 4)) or any(len(k) > 64 or "\n" in k for k in counts):
        return None
    return counts


def split(
    path: str | Path,
    out_dir: str | Path | None = None,
    val: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    stratify: bool | None = None,
    near_threshold: float | None = 0.8,
    overwrite: bool = False,
) -> FixResult:
    """Seeded train/val/test split; stratified by label for classification-like data; duplicate clusters kept on one side."""
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise FixError(f"--val {val} and --test {test} must be fractions in [0, 1) that sum to less than 1")
    src = Path(path)
    guess = formats.detect_format(src)
    if guess.format == formats.PREFERENCE:
        raise FixError("split writes chat SFT rows; this file is preference data")
    rows: list[Conversation] = []
    total = failed = 0
    for _row, _off, conv, _err in formats.iter_conversations(src, guess.format):
        total += 1
        if conv is None:
            failed += 1
        else:
            conv.raw = conv.raw if guess.format == formats.CHAT else None
            rows.append(conv)
    if not rows:
        raise FixError(f"{src} has no usable rows to split (run ftui lint {src})")
    groups = _groups([_doc_text(c) for c in rows], near_threshold)
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    labels = classification_labels(_label(c) for c in rows)
    use_strata = (labels is not None) if stratify is None else stratify
    strata: dict[str, list[int]] = defaultdict(list)
    for g, idx in members.items():
        strata[_label(rows[idx[0]]) if use_strata else ""].append(g)
    rng = random.Random(seed)
    side_of_group: dict[int, str] = {}
    for key in sorted(strata):
        gs = sorted(strata[key])
        rng.shuffle(gs)
        n = sum(len(members[g]) for g in gs)
        want = {"test": round(n * test), "val": round(n * val)}
        have = {"test": 0, "val": 0}
        for g in gs:
            size = len(members[g])
            side = "train"
            for name in ("test", "val"):
                if have[name] < want[name]:  # a big cluster may overshoot: it must stay whole
                    side = name
                    break
            if side != "train":
                have[side] += size
            side_of_group[g] = side
    target_dir = Path(out_dir) if out_dir else src.with_name(f"{src.stem}_split")
    names = {"train": "train.jsonl", "val": "val.jsonl", "test": "test.jsonl"}
    wanted = [s for s in ("train", "val", "test") if s == "train" or (val if s == "val" else test) > 0]
    writers = {s: _AtomicJsonl(target_dir / names[s], src, overwrite) for s in wanted}
    per_side_labels: dict[str, Counter[str]] = {s: Counter() for s in wanted}
    try:
        for i, conv in enumerate(rows):
            side = side_of_group[groups[i]]
            if side not in writers:
                side = "train"
            writers[side].write(to_chat(conv))
            per_side_labels[side][_label(conv)] += 1
        written = [writers[s].commit() for s in wanted]
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    result = FixResult("split", str(src), total, written)
    if failed:
        result.dropped = {"that cannot be normalised (see ftui lint)": failed}
    clustered = sum(1 for idx in members.values() if len(idx) > 1)
    result.notes.append(f"seed {seed}; {clustered} duplicate/near-duplicate clusters kept on one side each")
    if use_strata and labels:
        result.notes.append("stratified by label: " + "; ".join(
            f"{s} " + ", ".join(f"{k} {v}" for k, v in sorted(per_side_labels[s].items())) for s in wanted))
    return result


def iter_chat_rows(path: str | Path) -> Iterator[dict[str, Any]]:
    """Rows of a file as chat dicts (used by tests and the Data screen preview)."""
    for _row, _off, conv, _err in formats.iter_conversations(path):
        if conv is not None:
            yield to_chat(conv)
