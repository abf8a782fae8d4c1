"""``ftui eval rate``: a line-based rater for terminals where the TUI is not wanted (also scriptable:
keys on stdin). Same session, same votes log, same blinding as the Rate screen."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ftui.commands.eval_common import block_text, open_session, safe
from ftui.errors import UserError
from ftui.textsafe import safe_print as print  # noqa: A004 - prompts and model outputs

RATE_HELP = ("1 left · 2 right · 3/t tie · 4/b both bad · s skip · u undo · n TEXT note · f flag · d word diff · "
             "r reference · q quit")
FLAG = "flag"  # the TUI's flag word (eval_rate.FLAG), kept in the vote's flags


def _marked(segments: Any) -> str:
    """A word-diff side as plain text: the words not in the other output between » and «."""
    return "".join(f"»{seg.text}«" if seg.changed else seg.text for seg in segments)


def cmd_rate(args: argparse.Namespace) -> int:
    """A line-based rater for terminals where the TUI is not wanted (also scriptable: keys on stdin)."""
    from ftui.evaluate.ab import SessionError
    from ftui.evaluate.diff import word_diff

    session = open_session(args.session, args.rater, allow_new=True)
    if session.is_unblinded:
        raise UserError(f"rater {args.rater!r} has unblinded; their votes are final")
    keys = {"1": "left", "2": "right", "3": "tie", "t": "tie", "4": "both_bad", "b": "both_bad", "s": "skip"}
    note = ""
    flags: set[str] = set()
    diff = False
    print(RATE_HELP)
    try:
        while (pair := session.current()) is not None:
            print(f"\n── item {pair.position}/{pair.total} ──" + (" · flagged" if flags else "")
                  + (" · note kept" if note else "") + f"\nPROMPT: {block_text(pair.prompt)}")
            left, right = pair.output_left, pair.output_right
            if diff:
                seg_left, seg_right = word_diff(left, right)
                left, right = _marked(seg_left), _marked(seg_right)
            print(f"\n[Output 1]\n{block_text(left)}\n\n[Output 2]\n{block_text(right)}")
            line = sys.stdin.readline()
            if not line:
                break
            cmd = line.strip()
            if cmd == "q":
                break
            if cmd == "u":
                before = {v.task: v for v in session.votes()}
                reopened = session.undo()
                if reopened is None:
                    print("nothing to undo")
                else:  # the withdrawn vote's note and flag come back with its pair
                    old = before.get(reopened.task)
                    note, flags = (old.note, set(old.flags)) if old else ("", set())
                continue
            if cmd.startswith("n "):
                note = cmd[2:].strip()
                print("note kept for this item")
                continue
            if cmd == "f":
                flags ^= {FLAG}
                print("flagged" if flags else "flag removed")
                continue
            if cmd == "d":
                diff = not diff
                print("word diff on: words only one output has are between » and «" if diff else "word diff off")
                continue
            if cmd == "r":
                print(f"REFERENCE: {safe(pair.reference or '(none)', 600)}")
                continue
            if cmd not in keys:
                print(RATE_HELP)
                continue
            session.vote(keys[cmd], note=note, flags=tuple(sorted(flags)))
            note, flags = "", set()
            prog = session.progress()
            if prog.suggest_break:
                print(f"{prog.done} rated: a good moment for a short break")
    except SessionError as exc:
        raise UserError(str(exc)) from None
    finally:
        prog = session.progress()
        session.close()
    print(f"saved: {prog.done}/{prog.total} done" + (" · all rated; see results with 'ftui eval report "
                                                     f"{args.session} --rater {args.rater} --unblind'" if prog.finished else ""))
    return 0
