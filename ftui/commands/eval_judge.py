"""``ftui eval judge``: an LLM judge of two systems (both orders), or of a session's pairs, with a cost
estimate first and a resumable verdict cache."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from ftui.commands.eval_common import (
    generate_outputs,
    items_from_args,
    open_session,
    safe,
    session_dir,
    specs_from_args,
    system_options,
)
from ftui.errors import UserError
from ftui.textsafe import safe_print as print  # noqa: A004 - system names, paths, judge errors

JUDGE_FILE = "judge/verdicts.jsonl"  # = judge.SESSION_JUDGE_FILE (not imported here: openai loads with it)


def register(esub: argparse._SubParsersAction) -> None:
    """Add ``judge`` to the ``ftui eval`` sub-commands."""
    j = esub.add_parser("judge", help="LLM-as-judge of two systems (both orders) via an OpenAI-compatible endpoint",
                        description="Judge two systems' outputs (--system twice and --test), or a session's outputs "
                                    "(--session alone: its pairs, verdicts stored in the session for the results' "
                                    "judge-human agreement). Verdicts are cached: a rerun asks only what is missing.")
    system_options(j)
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
        specs, items = specs_from_args(args), items_from_args(args)
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
        gens = generate_outputs(args, specs, items)
        outputs = {n: r.outputs for n, r in gens.items()}
        pairs = [(specs[0].name, specs[1].name)]
        cache = J.VerdictCache(paths.cache_dir() / "judge" / "verdicts.jsonl")
    else:
        from ftui.evaluate.session_plan import SessionError, load_plan

        directory = session_dir(args.session)
        try:
            plan = load_plan(directory)
        except SessionError as exc:
            raise UserError(str(exc)) from None
        items, outputs, pairs = plan.items, plan.outputs, plan.pairs
        cache = J.VerdictCache(directory / JUDGE_FILE)
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
            print(f"ftui: warning: {safe(err, 300)}", file=sys.stderr)
        summary = res.summary()
        summary["estimate"] = {"requests": est.requests, "cached": est.cached, "prompt_tokens": est.prompt_tokens,
                               "output_tokens": est.output_tokens, "cost": est.cost}
        if args.session and args.system:
            session = open_session(args.session, None, need_unblinded=True)
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
        print(f"verdicts stored in {safe(str(session_dir(args.session) / JUDGE_FILE), 300)}; after an unblind, "
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
