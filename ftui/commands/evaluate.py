"""CLI for the evaluate area: ``ftui eval generate|metrics|session|rate|unblind|report|export|judge|sessions``.

Reference: docs/evaluate.md. Heavy libraries (torch, transformers, openai) load inside the
command functions. Model outputs are printed through ``textsafe`` (never as markup).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from ftui.errors import UserError
from ftui.textsafe import safe_print as print  # noqa: A004 - session, system and rater names, paths, model text


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the ftui parser."""
    ev = sub.add_parser("eval", help="evaluate: generate outputs, metrics, blind A/B sessions, LLM judge",
                        description="Evaluate base vs fine-tuned (and few-shot / API) systems. See docs/evaluate.md.")
    esub = ev.add_subparsers(dest="eval_command", metavar="ACTION", required=True)

    g = esub.add_parser("generate", help="generate (and cache) each system's outputs on a test file")
    _system_options(g)
    g.add_argument("--json", action="store_true", help="print one JSON object per system")
    g.set_defaults(func=cmd_generate)

    m = esub.add_parser("metrics", help="per-system metrics and paired comparisons (McNemar, bootstrap CIs)")
    _system_options(m)
    m.add_argument("--cached-only", action="store_true", help="do not generate: fail if outputs are not cached")
    m.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples (default 1000, as the Evaluate screen and new sessions)")
    m.add_argument("--bootstrap-seed", type=int, default=0, metavar="N",
                   help="bootstrap seed (default 0, as the Evaluate screen and new sessions)")
    m.add_argument("--worst", type=int, default=5, metavar="K", help="show the K worst items per system (default 5)")
    m.add_argument("--task", choices=("label", "json", "text"), help="task kind (default: detected from references)")
    m.add_argument("--also", action="append", metavar="PATH",
                   help="another test file reported beside the main one (repeat), e.g. "
                        "sample_data/general_prompts.jsonl, sample_data/support_tickets_edge.jsonl")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=cmd_metrics)

    s = esub.add_parser("session", help="create a blind A/B rating session from two or more systems")
    _system_options(s)
    s.add_argument("--rater", required=True, metavar="NAME", help="the first rater's name")
    s.add_argument("--name", metavar="NAME", help="session name (default: a timestamp)")
    s.add_argument("--seed", type=int, help="seed for order and side assignment (default: a fresh random one, "
                                            "stored in the session)")
    s.add_argument("--base", metavar="SYSTEM", help="the anchor system (default: the first --system)")
    s.set_defaults(func=cmd_session)

    r = esub.add_parser("rate", help="rate a session in the terminal, one line per decision (the TUI is nicer)")
    r.add_argument("session", metavar="SESSION", help="session name (under the sessions dir) or path")
    r.add_argument("--rater", required=True, metavar="NAME")
    r.set_defaults(func=cmd_rate)

    u = esub.add_parser("unblind", help="record that a rater unblinds (results become visible, voting ends)")
    u.add_argument("session", metavar="SESSION")
    u.add_argument("--rater", required=True, metavar="NAME")
    u.set_defaults(func=cmd_unblind)

    rep = esub.add_parser("report", help="results of a session after unblinding")
    rep.add_argument("session", metavar="SESSION")
    rep.add_argument("--rater", metavar="NAME", help="whose unblind to use (default: the only unblinded rater)")
    rep.add_argument("--unblind", action="store_true", help="record the rater's unblind first")
    rep.add_argument("--bootstrap", type=int, metavar="N",
                     help="bootstrap resamples (default: the session's stored size, so every view agrees)")
    rep.add_argument("--disagreements", action="store_true", help="also list votes that contradict the metrics")
    rep.add_argument("--json", action="store_true", help="print one JSON object")
    rep.set_defaults(func=cmd_report)

    x = esub.add_parser("export", help="export votes as CSV / JSONL, or DPO preference pairs (TRL format)")
    x.add_argument("session", metavar="SESSION")
    x.add_argument("--format", required=True, choices=("csv", "jsonl", "dpo"))
    x.add_argument("-o", "--out", metavar="FILE", help="output file (default: SESSION/export.<ext>)")
    x.add_argument("--rater", metavar="NAME", help="whose unblind to use (default: the only unblinded rater)")
    x.set_defaults(func=cmd_export)

    j = esub.add_parser("judge", help="LLM-as-judge of two systems (both orders) via an OpenAI-compatible endpoint",
                        description="Judge two systems' outputs (--system twice and --test), or a session's outputs "
                                    "(--session alone: its pairs, verdicts stored in the session for the results' "
                                    "judge-human agreement). Verdicts are cached: a rerun asks only what is missing.")
    _system_options(j)
    for action in j._actions:
        if action.dest in ("system", "test"):
            action.required = False  # not needed with --session
    j.add_argument("--judge-model", required=True, metavar="MODEL", help="judge model name")
    j.add_argument("--judge-url", metavar="URL", help="judge endpoint base URL (default: OpenAI); key from OPENAI_API_KEY")
    j.add_argument("--judge-template", metavar="FILE", help="judge prompt template (default: the built-in one)")
    j.add_argument("--session", metavar="SESSION",
                   help="judge this session's outputs (or, with --system, only report agreement with its votes)")
    j.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests at a time (default 4)")
    j.add_argument("--price-in", type=float, metavar="PRICE", help="price per million prompt tokens, for the estimate")
    j.add_argument("--price-out", type=float, metavar="PRICE", help="price per million output tokens, for the estimate")
    j.add_argument("--json", action="store_true", help="print one JSON object")
    j.set_defaults(func=cmd_judge)

    ls = esub.add_parser("sessions", help="list rating sessions")
    ls.set_defaults(func=cmd_sessions)


def _system_options(p: argparse.ArgumentParser) -> None:
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


def _specs(args: argparse.Namespace) -> list[Any]:
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


def _items(args: argparse.Namespace, test: str | None = None) -> list[Any]:
    from ftui.evaluate.items import ItemsError, load_items

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    try:
        return load_items(test or args.test, limit=args.limit)
    except ItemsError as exc:
        raise UserError(f"{'--test' if test is None or test == args.test else '--also'}: {exc}") from None


def _gen_config(args: argparse.Namespace) -> Any:
    from ftui.evaluate.generate import GenerationConfig

    if args.max_new_tokens < 1:
        raise UserError("--max-new-tokens must be at least 1")
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if args.temperature < 0:
        raise UserError("--temperature must be 0 (greedy) or more")
    return GenerationConfig(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                            batch_size=args.batch_size)


def _generate_all(args: argparse.Namespace, specs: list[Any], items: list[Any], cached_only: bool = False,
                  quiet: bool = False, test: str | None = None) -> dict[str, Any]:
    from ftui.evaluate.generate import GenerationError, generate
    from ftui.evaluate.pipeline import SharedGenerator
    from ftui.evaluate.systems import SystemError_

    config = _gen_config(args)
    test = test or args.test
    results = {}
    # base and few-shot systems (and every --also file) share one loaded model
    loaded: dict[tuple, Any] = args.__dict__.setdefault("_generators", {})
    for spec in specs:
        def progress(done: int, total: int, name: str = spec.name) -> None:
            if not quiet and sys.stderr.isatty():
                print(f"\r{name}: {done}/{total}", end="", file=sys.stderr, flush=True)

        try:
            if cached_only:
                res = generate(spec, items, config, test_path=test, generator=_NoGenerator(spec.name))
            else:
                res = generate(spec, items, config, test_path=test, progress=progress,
                               generator=SharedGenerator(spec, loaded))
        except (GenerationError, SystemError_) as exc:
            raise UserError(f"{spec.name}: {exc}") from None
        if not quiet and sys.stderr.isatty():
            print(file=sys.stderr)
        for w in res.warnings:
            print(f"ftui: warning: {w}", file=sys.stderr)
        results[spec.name] = res
    return results


class _NoGenerator:
    def __init__(self, name: str) -> None:
        self.name = name

    def generate_batch(self, conversations: Any, config: Any) -> list[str]:
        raise UserError(f"{self.name}: outputs are not cached for these settings; run without --cached-only")


JUDGE_FILE = "judge/verdicts.jsonl"  # = judge.SESSION_JUDGE_FILE (not imported here: openai loads with it)


def _session_dir(name: str) -> Path:
    from ftui import paths

    p = Path(name).expanduser()
    if (p / "session.json").is_file():
        return p
    q = paths.sessions_dir() / name
    if (q / "session.json").is_file():
        return q
    raise UserError(f"session {name!r} not found (looked at {p} and {q}); list them with 'ftui eval sessions'")


def _open_session(name: str, rater: str | None, need_unblinded: bool = False, allow_new: bool = False) -> Any:
    from ftui.evaluate.ab import BlindSession, SessionError

    directory = _session_dir(name)
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


def _block(text: str, limit: int = 4000) -> str:
    """Multi-line untrusted text, control sequences made visible, cut at ``limit`` characters."""
    from ftui.textsafe import neutralize

    text = neutralize(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _safe(text: str, limit: int = 160) -> str:
    from ftui.textsafe import one_line

    return one_line(text, limit)


# --- commands -------------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    specs, items = _specs(args), _items(args)
    results = _generate_all(args, specs, items)
    for name, res in results.items():
        if args.json:
            print(json.dumps({"system": name, "items": len(items), "generated": res.generated, "cached": res.cached,
                              "seconds": round(res.seconds, 3), "cache": str(res.cache_path)}))
        else:
            print(f"{name}: {len(res.outputs)}/{len(items)} outputs ({res.generated} generated, {res.cached} cached, "
                  f"{res.seconds:.1f} s) -> {res.cache_path}")
    return 0


def _metrics_for(args: argparse.Namespace, specs: list[Any], test: str, task_override: str | None) -> dict[str, Any]:
    """Generate (or reuse) and score every system on one test file with the one scorer
    (``scoring.score_outputs``, the same call the Evaluate screens and session reports make)."""
    from ftui.evaluate import metrics as M
    from ftui.evaluate.scoring import score_outputs

    items = _items(args, test)
    gens = _generate_all(args, specs, items, cached_only=args.cached_only, test=test)
    if not any(it.reference is not None for it in items):
        raise UserError(f"{test} has no reference answers; metrics need them (the last assistant turn)")
    scored = score_outputs(items, {n: g.outputs for n, g in gens.items()}, task=task_override,
                           n_bootstrap=args.bootstrap, seed=args.bootstrap_seed)
    return {
        "test": test, "task": scored.task, "labels": scored.labels or None, "n": len(scored.item_ids),
        "summaries": scored.metrics, "comparisons": scored.comparisons,
        "worst": {n: M.worst_items(sc, k=args.worst) for n, sc in scored.scores.items()},
        "outputs": {n: g.outputs for n, g in gens.items()},
        "n_bootstrap": scored.n_bootstrap, "seed": scored.seed,
    }


def _metrics_json(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "test": str(r["test"]), "task": r["task"], "labels": r["labels"],
        "normalisation": "normalize_output, casefold, whitespace collapsed, quotes and trailing .! removed",
        "systems": {n: m.to_dict() for n, m in r["summaries"].items()},
        "comparisons": [c.to_dict() for c in r["comparisons"]],
        "worst": {n: [{"item_id": i, "score": s} for i, s in w] for n, w in r["worst"].items()},
    }


def _print_metrics(r: dict[str, Any], worst: int, detail: bool = True) -> None:
    from ftui.evaluate.results import comparison_line, field_lines, metrics_line

    print(f"test {_safe(str(r['test']), 400)} · {r['n']} items · task {r['task']}")
    print(f"bootstrap: {r['n_bootstrap']} resamples, seed {r['seed']}")
    for m in r["summaries"].values():
        print(metrics_line(m))
    for line in field_lines(r["summaries"]) if detail else []:
        print(line)
    if detail and r["task"] == "label":
        for n, m in r["summaries"].items():
            print(f"\n{n}: per class (precision / recall / F1 / support / predicted)")
            for row in m.classes:
                fmt = lambda v: "  -  " if v is None else f"{v:.3f}"  # noqa: E731
                print(f"  {row.label:<18} {fmt(row.precision)} {fmt(row.recall)} {row.f1:.3f} {row.support:>5} "
                      f"{row.predicted:>5}")
    if r["comparisons"]:
        print("\npaired comparisons (B - A, 95% bootstrap CIs):")
        for c in r["comparisons"]:
            print("  " + comparison_line(c))
    if detail and worst > 0:
        for n, rows in r["worst"].items():
            print(f"\n{n}: {len(rows)} worst items")
            for item_id, score in rows:
                print(f"  {item_id:<10} {score:.2f}  {_safe(r['outputs'][n].get(item_id, ''), 100)}")


def cmd_metrics(args: argparse.Namespace) -> int:
    specs = _specs(args)
    main = _metrics_for(args, specs, args.test, args.task)
    extra = [_metrics_for(args, specs, path, None) for path in (args.also or [])]
    if args.json:
        out = _metrics_json(main)
        if extra:
            out["also"] = [_metrics_json(r) for r in extra]
        print(json.dumps(out, default=str))
        return 0
    _print_metrics(main, args.worst)
    for r in extra:
        print("\n" + "=" * 20 + " regression / edge set " + "=" * 20)
        _print_metrics(r, args.worst, detail=False)
    return 0


def cmd_session(args: argparse.Namespace) -> int:
    import time

    from ftui import paths
    from ftui.evaluate.ab import BlindSession, SessionError, check_rater_name

    try:
        check_rater_name(args.rater)
    except SessionError as exc:
        raise UserError(f"--rater: {exc}") from None
    specs, items = _specs(args), _items(args)
    if len(specs) < 2:
        raise UserError("a session needs at least two --system options")
    name = args.name or time.strftime("%Y%m%d-%H%M%S")
    if "/" in name or name.startswith("."):
        raise UserError("--name must be a plain name (no '/'); the session goes under the sessions directory")
    try:
        paths.ensure_writable_dir(paths.sessions_dir(), "sessions", "FTUI_SESSIONS_DIR")
    except paths.DirectoryError as exc:
        raise UserError(str(exc)) from None
    directory = paths.sessions_dir() / name
    if (directory / "session.json").exists():
        raise UserError(f"session {name!r} exists; choose another --name or rate it with 'ftui eval rate {name}'")
    gens = _generate_all(args, specs, items)
    base = args.base or specs[0].name
    names = [sp.name for sp in specs]
    if base not in names:  # --base given as a spec (run:latest) rather than the resolved name
        from ftui.evaluate.systems import SystemError_, parse_system

        try:
            base = parse_system(base, default_model=args.model, train_file=args.train).name
        except SystemError_:
            pass
    if any(r.cancelled for r in gens.values()):
        raise UserError("generation did not finish for every system; rerun (the outputs so far are cached)")
    from ftui.evaluate.blinding import resolve_systems

    try:
        session = BlindSession.create(directory, items, {n: r.outputs for n, r in gens.items()}, args.rater,
                                      seed=args.seed, base_system=base, name=name, resolved=resolve_systems(specs))
    except (SessionError, OSError) as exc:
        raise UserError(str(exc)) from None
    p = session.progress()
    session.close()
    print(f"session {_safe(name)}: {len(session.plan.items)} items, {p.total} pairs for {_safe(args.rater)} "
          f"({p.identical} identical, recorded automatically) -> {_safe(str(directory), 400)}")
    print(f"rate it: ftui --mode evaluate, or ftui eval rate {_safe(name)} --rater {_safe(args.rater)}")
    return 0


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

    session = _open_session(args.session, args.rater, allow_new=True)
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
                  + (" · note kept" if note else "") + f"\nPROMPT: {_block(pair.prompt)}")
            left, right = pair.output_left, pair.output_right
            if diff:
                seg_left, seg_right = word_diff(left, right)
                left, right = _marked(seg_left), _marked(seg_right)
            print(f"\n[Output 1]\n{_block(left)}\n\n[Output 2]\n{_block(right)}")
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
                print(f"REFERENCE: {_safe(pair.reference or '(none)', 600)}")
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


def cmd_unblind(args: argparse.Namespace) -> int:
    session = _open_session(args.session, args.rater)
    p = session.progress()
    session.unblind()
    session.close()
    print(f"rater {args.rater} unblinded after {p.done}/{p.total} pairs (recorded); "
          f"see 'ftui eval report {args.session} --rater {args.rater}'")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ftui.evaluate.results import results_text

    if args.unblind and args.rater is None:
        raise UserError("--unblind needs --rater NAME (whose unblind to record)")
    session = _open_session(args.session, args.rater, need_unblinded=not args.unblind)
    if args.unblind:
        session.unblind()
    res = session.results(n_bootstrap=args.bootstrap)
    rows = session.drilldown(disagreements_only=True) if args.disagreements else []
    session.close()
    if args.json:
        out = res.to_dict()
        if args.disagreements:
            out["disagreements"] = [{"item_id": r.item_id, "rater": r.rater, "choice": r.choice,
                                     "preferred": r.preferred, "reason": r.disagreement} for r in rows]
        print(json.dumps(out, default=str))
        return 0
    print(results_text(res))
    for r in rows:
        print(f"  disagreement {r.item_id} ({r.rater}): {r.disagreement}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    session = _open_session(args.session, args.rater, need_unblinded=True)
    ext = {"csv": "csv", "jsonl": "jsonl", "dpo": "dpo.jsonl"}[args.format]
    out = Path(args.out).expanduser() if args.out else session.directory / f"export.{ext}"
    try:
        n = session.export(out, args.format)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        session.close()
    print(f"{n} rows -> {_safe(str(out), 400)}")
    return 0


def cmd_judge(args: argparse.Namespace) -> int:
    """Judge two systems (or a session's pairs), with a cost estimate first and a resumable cache."""
    from ftui import paths
    from ftui.evaluate import judge as J
    from ftui.evaluate.systems import SystemError_

    if args.concurrency < 1:
        raise UserError("--concurrency must be at least 1")
    if args.system or not args.session:
        if not args.system or not args.test:
            raise UserError("give --system twice and --test (or --session alone to judge a session's outputs)")
        specs, items = _specs(args), _items(args)
        if len(specs) != 2:
            raise UserError("the judge compares exactly two systems: give --system twice (the first is the baseline)")
    try:
        template = J.load_template(args.judge_template)
        try:
            judge = J.Judge(args.judge_model, base_url=args.judge_url, template=template)
        except SystemError_ as exc:
            raise UserError(str(exc)) from None
    except J.JudgeError as exc:
        raise UserError(str(exc)) from None
    if args.system:
        gens = _generate_all(args, specs, items)
        outputs = {n: r.outputs for n, r in gens.items()}
        pairs = [(specs[0].name, specs[1].name)]
        cache = J.VerdictCache(paths.cache_dir() / "judge" / "verdicts.jsonl")
    else:
        from ftui.evaluate.session_plan import SessionError, load_plan

        session_dir = _session_dir(args.session)
        try:
            plan = load_plan(session_dir)
        except SessionError as exc:
            raise UserError(str(exc)) from None
        items, outputs, pairs = plan.items, plan.outputs, plan.pairs
        cache = J.VerdictCache(session_dir / JUDGE_FILE)
    summaries = []
    for a, b in pairs:
        est = J.estimate(judge, items, outputs, a, b, cache, args.price_in, args.price_out)
        print(est.line(), file=sys.stderr)
        cancel = threading.Event()
        try:
            res = J.run_judge(judge, items, outputs, a, b, cancel=cancel, cache=cache, concurrency=args.concurrency)
        except KeyboardInterrupt:
            cancel.set()
            raise UserError("interrupted; the verdicts so far are saved and a rerun resumes") from None
        for err in res.errors[:3]:
            print(f"ftui: warning: {_safe(err, 300)}", file=sys.stderr)
        summary = res.summary()
        summary["estimate"] = {"requests": est.requests, "cached": est.cached, "prompt_tokens": est.prompt_tokens,
                               "output_tokens": est.output_tokens, "cost": est.cost}
        if args.session and args.system:
            session = _open_session(args.session, None, need_unblinded=True)
            summary["agreement_with_humans"] = J.agreement_with_humans(res.verdicts, session.all_votes())
            session.close()
        summaries.append(summary)
    if not args.system:
        # a session's raters may run this before their unblind: report progress, never a result by system
        blind = [{k: sm[k] for k in ("n", "parse_failures", "errors", "asked", "reused", "cancelled", "estimate")}
                 for sm in summaries]
        if args.json:
            print(json.dumps({"pairs": blind}))
            return 0
        for i, sm in enumerate(blind, 1):
            print(f"pair {i}/{len(blind)}: {sm['n']} items judged · {sm['parse_failures']} parse failures · "
                  f"{sm['errors']} endpoint error(s) · {sm['asked']} requests sent, {sm['reused']} verdicts reused"
                  + (" · stopped early: rerun to ask only what is missing" if sm["cancelled"] else ""))
        print(f"verdicts stored in {_safe(str(_session_dir(args.session) / JUDGE_FILE), 300)}; after an unblind, "
              "'ftui eval report' and the Results screen show its agreement with the human votes")
        return 0
    if args.json:
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries))
        return 0
    for summary in summaries:
        wr = summary["win_rate"]
        rate = "n/a" if wr["p"] is None else f"{wr['p']:.2f} [{wr['low']:.2f}, {wr['high']:.2f}]"
        print(f"judge {args.judge_model}: {summary['system_b']} vs {summary['system_a']} on {summary['n']} items · "
              f"W {summary['wins']} · L {summary['losses']} · T {summary['ties']} ({summary['inconsistent']} "
              f"inconsistent across orders, counted as ties) · parse failures {summary['parse_failures']}")
        print(f"win rate (decisive) {rate} · sign test p = {summary['sign_test_p']:.3g} · {summary['asked']} "
              f"requests sent, {summary['reused']} verdicts reused from the cache")
        if summary["errors"] or summary["cancelled"]:
            print(f"{summary['errors']} endpoint error(s); stopped early: rerun to ask only what is missing")
        if "agreement_with_humans" in summary:
            ag = summary["agreement_with_humans"]
            kappa = "n/a" if ag["kappa"] is None else f"{ag['kappa']:.2f}"
            print(f"agreement with human votes: kappa {kappa} on {ag['n']} pairs")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from ftui.evaluate.session_plan import list_sessions

    sessions = list_sessions()
    if not sessions:
        print("no rating sessions yet; create one with 'ftui eval session --system ... --test ... --rater NAME'")
        return 0
    for s in sessions:
        print(f"{_safe(s.name):<24} {_safe(str(s.created)[:19])}  {s.n_items:>4} items  "
              f"systems: {_safe(', '.join(map(str, s.systems)))}  raters: {_safe(', '.join(map(str, s.raters))) or '-'}")
    return 0
