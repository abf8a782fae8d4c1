"""What the ``ftui eval`` sub-commands share: system and test-file options, generation through the
evaluation pipeline with progress on stderr, and finding / opening a session by name."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ftui.errors import UserError
from ftui.textsafe import safe_print as print  # noqa: A004 - session, system and rater names, paths, model text


def system_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", action="append", required=True, metavar="SPEC",
                   help="system to evaluate (repeat): base, run:ID, adapter:PATH, merged:PATH, fewshot:K, "
                        "openai:MODEL[@URL]; NAME=SPEC names it")
    p.add_argument("--test", required=True, metavar="PATH", help="test split (JSONL: chat messages, prompt/completion)")
    p.add_argument("--model", default="demo", metavar="PATH_OR_ID", help="base model (default: demo)")
    p.add_argument("--train", metavar="PATH", help="training file the few-shot examples are drawn from")
    p.add_argument("--fewshot-seed", type=int, default=0, help="seed for drawing few-shot examples (default 0)")
    p.add_argument("--max-new-tokens", type=int, default=64, metavar="N", help="default 64")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="default 16")
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N test items")
    p.add_argument("--load-4bit", action="store_true",
                   help="load local models in 4-bit NF4 (needs CUDA + bitsandbytes): a 70B fits one 80 GB GPU")
    p.add_argument("--device", default="auto", metavar="DEVICE",
                   help="where local models run: auto (the first GPU, else the CPU), cuda:N or cpu")


# --- helpers ---------------------------------------------------------------------------------------


def specs_from_args(args: argparse.Namespace) -> list[Any]:
    from ftui.evaluate.systems import SystemError_, parse_system

    specs = []
    for text in args.system:
        try:
            specs.append(parse_system(text, default_model=args.model, train_file=args.train,
                                      fewshot_seed=args.fewshot_seed))
        except SystemError_ as exc:
            raise UserError(f"--system {text}: {exc}") from None
    specs = _local_options(args, specs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise UserError(f"two systems share a name ({', '.join(names)}); name them with NAME=SPEC")
    return specs


def _local_options(args: argparse.Namespace, specs: list[Any]) -> list[Any]:
    """--load-4bit and --device on every local system; a 4-bit load that cannot run here is refused
    before anything loads (reading cached outputs needs no GPU)."""
    from dataclasses import replace

    from ftui.train.devices import DeviceError, parse_device

    load_4bit, device = bool(getattr(args, "load_4bit", False)), str(getattr(args, "device", "auto") or "auto")
    try:
        parse_device(device)
    except DeviceError as exc:
        raise UserError(f"--device: {exc}") from None
    if load_4bit and not getattr(args, "cached_only", False) and any(s.is_local for s in specs):
        from ftui.evaluate.generate import four_bit_problem

        problem = four_bit_problem(device)
        if problem:
            raise UserError(f"--load-4bit: {problem}")
    return [replace(s, load_4bit=load_4bit, device=device) if s.is_local else s for s in specs]


def items_from_args(args: argparse.Namespace, test: str | None = None) -> list[Any]:
    from ftui.evaluate.items import ItemsError, load_items

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    try:
        return load_items(test or args.test, limit=args.limit)
    except ItemsError as exc:
        raise UserError(f"{'--test' if test is None or test == args.test else '--also'}: {exc}") from None


def gen_config(args: argparse.Namespace) -> Any:
    from ftui.evaluate.generate import GenerationConfig

    if args.max_new_tokens < 1:
        raise UserError("--max-new-tokens must be at least 1")
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if args.temperature < 0:
        raise UserError("--temperature must be 0 (greedy) or more")
    return GenerationConfig(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                            batch_size=args.batch_size)


def generate_outputs(args: argparse.Namespace, specs: list[Any], items: list[Any], cached_only: bool = False,
                  quiet: bool = False, test: str | None = None) -> dict[str, Any]:
    from ftui.evaluate import pipeline
    from ftui.evaluate.generate import GenerationError

    try:
        return pipeline.generate_all(
            specs, items, gen_config(args), test_path=test or args.test,
            progress=None if cached_only else progress_printer(quiet), on_done=done_printer(quiet, cached_only),
            # base and few-shot systems (and every --also file) share one loaded model
            shared=args.__dict__.setdefault("_generators", {}),
            generator_for=(lambda spec: _NoGenerator(spec.name)) if cached_only else None,
        )
    except GenerationError as exc:
        raise UserError(str(exc)) from None


def progress_printer(quiet: bool) -> Any:
    def progress(name: str, done: int, total: int) -> None:
        if not quiet and sys.stderr.isatty():
            print(f"\r{name}: {done}/{total}", end="", file=sys.stderr, flush=True)

    return progress


def done_printer(quiet: bool, cached_only: bool = False) -> Any:
    def done(name: str, res: Any) -> None:
        if not quiet and not cached_only and sys.stderr.isatty():
            print(file=sys.stderr)
        for w in res.warnings:
            print(f"ftui: warning: {w}", file=sys.stderr)

    return done


class _NoGenerator:
    def __init__(self, name: str) -> None:
        self.name = name

    def generate_batch(self, conversations: Any, config: Any) -> list[str]:
        raise UserError(f"{self.name}: outputs are not cached for these settings; run without --cached-only")


def session_dir(name: str) -> Path:
    from ftui import paths

    p = Path(name).expanduser()
    if (p / "session.json").is_file():
        return p
    q = paths.sessions_dir() / name
    if (q / "session.json").is_file():
        return q
    raise UserError(f"session {name!r} not found (looked at {p} and {q}); list them with 'ftui eval sessions'")


def open_session(name: str, rater: str | None, need_unblinded: bool = False, allow_new: bool = False) -> Any:
    from ftui.evaluate.ab import BlindSession, SessionError

    directory = session_dir(name)
    raters_dir = directory / "raters"
    known = sorted(p.name for p in raters_dir.iterdir() if p.is_dir()) if raters_dir.is_dir() else []
    if rater is None:
        unblinded = [r for r in known if _has_unblind(raters_dir / r / "votes.jsonl")]
        if len(unblinded) == 1:
            rater = unblinded[0]
        elif not unblinded:
            raise UserError(f"no rater of {directory.name} has unblinded yet; run 'ftui eval unblind {name} --rater NAME'")
        else:
            raise UserError(f"several raters have unblinded ({', '.join(unblinded)}); choose one with --rater")
    elif rater not in known and not allow_new:
        raise UserError(f"rater {rater!r} has no votes in {directory.name} (raters: {', '.join(known) or 'none'})")
    try:
        session = BlindSession(directory, rater)
    except SessionError as exc:
        raise UserError(str(exc)) from None
    for w in session.warnings:
        print(f"ftui: warning: {w}", file=sys.stderr)
    if need_unblinded and not session.is_unblinded:
        session.close()
        raise UserError(f"rater {rater!r} has not unblinded; add --unblind or run 'ftui eval unblind {name} --rater {rater}'")
    return session


def _has_unblind(path: Path) -> bool:
    try:
        return b'"type":"unblind"' in path.read_bytes()
    except OSError:
        return False


def block_text(text: str, limit: int = 4000) -> str:
    """Multi-line untrusted text, control sequences made visible, cut at ``limit`` characters."""
    from ftui.textsafe import neutralize

    text = neutralize(text)
    return text if len(text) <= limit else text[:limit] + "…"


def safe(text: str, limit: int = 160) -> str:
    from ftui.textsafe import one_line

    return one_line(text, limit)
