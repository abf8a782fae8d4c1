"""CLI for the evaluate area: ``ftui eval generate|metrics|session|rate|unblind|report|export|judge|sessions``.

Reference: docs/evaluate.md. ``rate`` and ``judge`` live in ``eval_rate`` / ``eval_judge``, the shared
options and helpers in ``eval_common``; generation, scoring and session creation are
``ftui.evaluate.pipeline`` (the Evaluate screen's steps too). Heavy libraries (torch, transformers, openai) load inside the
command functions. Model outputs are printed through ``textsafe`` (never as markup).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ftui.commands import eval_judge, eval_rate
from ftui.commands.eval_common import (
    done_printer,
    gen_config,
    generate_outputs,
    items_from_args,
    open_session,
    progress_printer,
    safe,
    specs_from_args,
    system_options,
)
from ftui.errors import UserError
from ftui.textsafe import safe_print as print  # noqa: A004 - session, system and rater names, paths, model text


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the ftui parser."""
    ev = sub.add_parser("eval", help="evaluate: generate outputs, metrics, blind A/B sessions, LLM judge",
                        description="Evaluate base vs fine-tuned (and few-shot / API) systems. See docs/evaluate.md.")
    esub = ev.add_subparsers(dest="eval_command", metavar="ACTION", required=True)

    g = esub.add_parser("generate", help="generate (and cache) each system's outputs on a test file")
    system_options(g)
    g.add_argument("--json", action="store_true", help="print one JSON object per system")
    g.set_defaults(func=cmd_generate)

    m = esub.add_parser("metrics", help="per-system metrics and paired comparisons (McNemar, bootstrap CIs)")
    system_options(m)
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
    system_options(s)
    s.add_argument("--rater", required=True, metavar="NAME", help="the first rater's name")
    s.add_argument("--name", metavar="NAME", help="session name (default: a timestamp)")
    s.add_argument("--seed", type=int, help="seed for order and side assignment (default: a fresh random one, "
                                            "stored in the session)")
    s.add_argument("--base", metavar="SYSTEM", help="the anchor system (default: the first --system)")
    s.set_defaults(func=cmd_session)

    r = esub.add_parser("rate", help="rate a session in the terminal, one line per decision (the TUI is nicer)")
    r.add_argument("session", metavar="SESSION", help="session name (under the sessions dir) or path")
    r.add_argument("--rater", required=True, metavar="NAME")
    r.set_defaults(func=eval_rate.cmd_rate)

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

    eval_judge.register(esub)

    ls = esub.add_parser("sessions", help="list rating sessions")
    ls.set_defaults(func=cmd_sessions)



# --- commands -------------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    specs, items = specs_from_args(args), items_from_args(args)
    results = generate_outputs(args, specs, items)
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
    from ftui.evaluate.pipeline import score_all

    items = items_from_args(args, test)
    gens = generate_outputs(args, specs, items, cached_only=args.cached_only, test=test)
    if not any(it.reference is not None for it in items):
        raise UserError(f"{test} has no reference answers; metrics need them (the last assistant turn)")
    scored = score_all(gens, items, task=task_override, n_bootstrap=args.bootstrap, seed=args.bootstrap_seed)
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

    print(f"test {safe(str(r['test']), 400)} · {r['n']} items · task {r['task']}")
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
                print(f"  {item_id:<10} {score:.2f}  {safe(r['outputs'][n].get(item_id, ''), 100)}")


def cmd_metrics(args: argparse.Namespace) -> int:
    specs = specs_from_args(args)
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
    from ftui.evaluate.session_plan import SessionError, rater_problem

    problem = rater_problem(args.rater)
    if problem:
        raise UserError(f"--rater: {problem}")
    specs, items = specs_from_args(args), items_from_args(args)
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
    base = args.base or specs[0].name
    if base not in [sp.name for sp in specs]:  # --base given as a spec (run:latest) rather than the resolved name
        from ftui.evaluate.systems import SystemError_, parse_system

        try:
            base = parse_system(base, default_model=args.model, train_file=args.train).name
        except SystemError_:
            pass
    from ftui.evaluate import pipeline
    from ftui.evaluate.generate import GenerationError

    try:
        session = pipeline.create_session(
            directory, specs, items, args.rater, config=gen_config(args), seed=args.seed, base_system=base, name=name,
            test_path=args.test, progress=progress_printer(False), on_done=done_printer(False),
            shared=args.__dict__.setdefault("_generators", {}))
    except (GenerationError, SessionError, OSError) as exc:
        raise UserError(str(exc)) from None
    if session is None:
        raise UserError("generation did not finish for every system; rerun (the outputs so far are cached)")
    p = session.progress()
    session.close()
    print(f"session {safe(name)}: {len(session.plan.items)} items, {p.total} pairs for {safe(args.rater)} "
          f"({p.identical} identical, recorded automatically) -> {safe(str(directory), 400)}")
    print(f"rate it: ftui --mode evaluate, or ftui eval rate {safe(name)} --rater {safe(args.rater)}")
    return 0


def cmd_unblind(args: argparse.Namespace) -> int:
    session = open_session(args.session, args.rater)
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
    session = open_session(args.session, args.rater, need_unblinded=not args.unblind)
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
    session = open_session(args.session, args.rater, need_unblinded=True)
    ext = {"csv": "csv", "jsonl": "jsonl", "dpo": "dpo.jsonl"}[args.format]
    out = Path(args.out).expanduser() if args.out else session.directory / f"export.{ext}"
    try:
        n = session.export(out, args.format)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        session.close()
    print(f"{n} rows -> {safe(str(out), 400)}")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from ftui.evaluate.session_plan import list_sessions

    sessions = list_sessions()
    if not sessions:
        print("no rating sessions yet; create one with 'ftui eval session --system ... --test ... --rater NAME'")
        return 0
    for s in sessions:
        print(f"{safe(s.name):<24} {safe(str(s.created)[:19])}  {s.n_items:>4} items  "
              f"systems: {safe(', '.join(map(str, s.systems)))}  raters: {safe(', '.join(map(str, s.raters))) or '-'}")
    return 0
