"""CLI: ``ftui chat RUN`` -- talk to a run (or a checkpoint), its base beside it, from stdin.

A line-based loop: each line read from stdin is one user turn; the run's reply streams to
stdout as it is generated, then (with ``--with-base``, the default) the base model's.
``/reset`` clears the conversation, ``/exit`` (or end of input) quits. It works piped
(``printf 'hi\\nthanks\\n' | ftui chat RUN``) as well as at a terminal.
"""

from __future__ import annotations

import argparse
import sys

from ftui.textsafe import safe_print as print  # noqa: A004 - model text and names reach these lines


def register(sub: argparse._SubParsersAction) -> None:
    chat = sub.add_parser(
        "chat",
        help="talk to a run (or a checkpoint), with its base model answering beside it",
        description="Chat with a fine-tuned run: each stdin line is a user turn; replies stream to stdout, the run's "
        "first, then the base model's (labelled). /reset starts over, /exit quits.",
    )
    chat.add_argument("run", metavar="RUN", help="run id, prefix or path (RUN@checkpoint-N for a checkpoint), or a "
                      "system: base, merged:PATH, adapter:PATH")
    chat.add_argument("--checkpoint", metavar="N", help="talk to checkpoint-N (or best / last) of the run")
    chat.add_argument("--no-base", dest="with_base", action="store_false", help="do not ask the base model too")
    chat.add_argument("--system", metavar="TEXT", help="a system prompt for the conversation")
    chat.add_argument("--max-new-tokens", type=int, default=200, help="longest reply in tokens (default 200)")
    chat.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default); e.g. 0.7 to sample")
    chat.add_argument("--device", default=None, help="auto (default), cpu or cuda:N")
    chat.set_defaults(func=cmd_chat)


def cmd_chat(args: argparse.Namespace) -> int:
    from ftui.errors import UserError
    from ftui.evaluate.chat import CHAT_DEFAULTS, ChatError, ChatSession, resolve_target

    if args.max_new_tokens < 1:
        raise UserError("--max-new-tokens must be 1 or more (e.g. 200)")
    if args.temperature < 0:
        raise UserError("--temperature must be 0 (greedy) or more (e.g. 0.7)")
    config = CHAT_DEFAULTS.__class__(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                                     top_p=CHAT_DEFAULTS.top_p, batch_size=1)
    try:
        target = resolve_target(args.run, checkpoint=args.checkpoint, with_base=args.with_base)
        print(f"loading {target.label}" + (" and its base" if target.base else "") + "…", file=sys.stderr, flush=True)
        session = ChatSession(target, device=args.device, system_prompt=args.system)
    except ChatError as exc:
        raise UserError(f"cannot chat: {exc}") from None
    interactive = sys.stdin.isatty()
    print(f"chatting with {target.label}" + (" (the base answers after it)" if target.base else "")
          + "; /reset starts over, /exit quits", file=sys.stderr, flush=True)
    names = {"tuned": target.label, "base": "base"}
    while True:
        if interactive:
            print("you> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            break
        if text == "/reset":
            session.reset()
            print("(conversation cleared)", file=sys.stderr, flush=True)
            continue
        for side in session.sides():
            print(f"[{names[side]}] ", end="", flush=True)
            try:
                session.ask(side, text, lambda piece: print(piece, end="", flush=True), config)
            except ChatError as exc:
                raise UserError(str(exc)) from None
            print(flush=True)
    return 0
