"""CLI for the data area: ``ftui lint`` and ``ftui data clean|split|convert|stats``.

Exit codes of ``ftui lint``: 0 no errors, 1 errors found, 2 the file cannot be read (one
line on stderr). Text from the dataset is printed through ``textsafe.neutralize`` as
Rich ``Text`` (never markup), so a row holding ``[bold]`` or an ANSI escape prints
literally. Heavy imports happen inside the command functions.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ftui.errors import UserError
from ftui.textsafe import safe_print as print  # noqa: A004 - dataset paths and names

SHOW_ROWS = 5


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the ftui parser."""
    p = sub.add_parser(
        "lint",
        help="lint a dataset (JSONL / JSON array / Parquet): format, errors, warnings, stats",
        description="Lint a dataset. Exit 0: no errors; 1: errors found; 2: the file cannot be read.",
    )
    p.add_argument("path", metavar="PATH", help="dataset file")
    _lint_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (schema in docs/data-cli.md)")
    p.add_argument("--show", type=int, default=SHOW_ROWS, metavar="N", help=f"rows shown per check id (default {SHOW_ROWS})")
    p.set_defaults(func=cmd_lint)

    data = sub.add_parser("data", help="fix and inspect datasets: clean, split, convert, stats (writes new files only)")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    c = dsub.add_parser("clean", help="drop rows with errors and duplicates, write normalised chat JSONL")
    c.add_argument("path", metavar="PATH")
    c.add_argument("-o", "--out", metavar="FILE", help="output file (default: PATH.clean.jsonl next to the input)")
    c.add_argument("--profile", choices=("trl", "openai"), default="trl", help="rules deciding what is an error (default trl)")
    c.add_argument("--near-duplicates", action="store_true", help="also drop near duplicates (MinHash, Jaccard >= 0.8)")
    c.add_argument("--drop-images", action="store_true",
                   help="also drop rows that reference images (W020): ftui trains text-only models")
    c.add_argument("--force", action="store_true", help="replace the output file if it exists")
    c.add_argument("--json", action="store_true", help="print the summary as JSON")
    c.set_defaults(func=cmd_clean)

    s = dsub.add_parser("split", help="seeded train/val/test split (stratified for classification, duplicates kept together)")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--out-dir", metavar="DIR", help="output directory (default: PATH_split/ next to the input)")
    s.add_argument("--val", type=float, default=0.1, help="validation fraction (default 0.1; 0 = no val file)")
    s.add_argument("--test", type=float, default=0.1, help="test fraction (default 0.1; 0 = no test file)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    strat = s.add_mutually_exclusive_group()
    strat.add_argument("--stratify", dest="stratify", action="store_true", default=None, help="stratify by label (default: when classification-like)")
    strat.add_argument("--no-stratify", dest="stratify", action="store_false", help="never stratify")
    s.add_argument("--no-near-duplicates", action="store_true", help="group exact duplicates only (faster)")
    s.add_argument("--force", action="store_true", help="replace existing output files")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=cmd_split)

    v = dsub.add_parser("convert", help="Alpaca/ShareGPT/prompt-completion/chat dialects -> chat messages; chat -> OpenAI fine-tuning JSONL")
    v.add_argument("path", metavar="PATH")
    v.add_argument("--to", choices=("chat", "openai", "trl"), default="chat",
                   help="target format (default chat); preference data: trl (TRL's explicit forms) or openai (OpenAI's preference JSONL)")
    v.add_argument("-o", "--out", metavar="FILE", help="output file (default: PATH.chat.jsonl / PATH.openai.jsonl)")
    v.add_argument("--reasoning", choices=("keep", "drop"), default="keep",
                   help="assistant reasoning (reasoning parts, reasoning_content): keep it as reasoning_content "
                        "(the chat template decides how it renders) or drop it (default keep; openai always drops)")
    v.add_argument("--force", action="store_true", help="replace the output file if it exists")
    v.add_argument("--json", action="store_true", help="print the summary as JSON")
    v.set_defaults(func=cmd_convert)

    t = dsub.add_parser("stats", help="token lengths per role, turns, labels, cost estimate")
    t.add_argument("path", metavar="PATH")
    t.add_argument("--profile", choices=("trl", "openai"), default="trl")
    t.add_argument("--tokenizer", metavar="PATH_OR_ID", help="count real tokens with this tokenizer ('demo' = the demo model)")
    t.add_argument("--json", action="store_true", help="print the stats object as JSON")
    t.set_defaults(func=cmd_stats)


def _lint_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", choices=("trl", "openai"), default="trl", help="trainer rules (default trl)")
    p.add_argument("--tokenizer", metavar="PATH_OR_ID", help="count real tokens with this tokenizer and chat template ('demo' = the demo model); default: an estimate")
    p.add_argument("--max-seq-len", type=int, metavar="N", help="training max length (default: 1024 for trl, none for openai)")
    p.add_argument("--eval", metavar="PATH", help="eval/test file: report training rows that leak into it (W005)")
    p.add_argument("--no-near-dups", action="store_true", help="skip near-duplicate detection (W003)")
    p.add_argument("--near-threshold", type=float, default=0.8, metavar="J", help="Jaccard threshold for near duplicates (default 0.8)")


# --- helpers --------------------------------------------------------------------------


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _safe(text: str, limit: int = 300) -> str:
    from ftui.textsafe import one_line

    return one_line(text, limit)


def _run_guarded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a core function, turning the errors a user can cause into UserError (one line, exit 2)."""
    from ftui.data.checks.tokens import TokenizerError
    from ftui.data.fix import FixError
    from ftui.data.source import DatasetError

    try:
        return fn(*args, **kwargs)
    except (DatasetError, TokenizerError, FixError) as exc:
        raise UserError(_safe(str(exc), 500)) from None
    except MemoryError:
        raise UserError("out of memory reading the dataset: convert it to JSONL and lint it with --no-near-dups") from None
    except OSError as exc:
        raise UserError(_safe(f"cannot read or write: {exc.strerror or exc} ({exc.filename or ''})", 500)) from None


def _print_json(obj: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS) + b"\n")
    sys.stdout.flush()


# --- lint -----------------------------------------------------------------------------


def cmd_lint(args: argparse.Namespace) -> int:
    from ftui.data.lint import lint_file

    if args.max_seq_len is not None and args.max_seq_len <= 0:
        raise UserError("--max-seq-len must be a positive number of tokens, e.g. --max-seq-len 2048")
    if not 0 < args.near_threshold <= 1:
        raise UserError("--near-threshold must be a Jaccard similarity in (0, 1], e.g. 0.8")
    if args.eval:
        from ftui.data.source import DatasetError, inspect_source

        try:
            inspect_source(args.eval)
        except DatasetError as exc:
            raise UserError(_safe(f"--eval: {exc}", 500)) from None
    report = _run_guarded(
        lint_file,
        args.path,
        profile=args.profile,
        tokenizer=args.tokenizer,
        max_seq_len=args.max_seq_len,
        eval_path=args.eval,
        near_dups=not args.no_near_dups,
        near_threshold=args.near_threshold,
    )
    if args.json:
        _print_json(report.to_json())
    else:
        print_report(report, show=max(1, args.show))
    return 1 if report.errors else 0


def print_report(report: Any, show: int = SHOW_ROWS, console: Any = None) -> None:
    """Human output: findings grouped by id with counts and the first rows, then the info lines."""
    from rich.text import Text

    from ftui.data.checks.catalogue import CHECKS

    con = console or _console()
    styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    head = Text()
    head.append(_safe(report.path), style="bold")
    container = report.extra.get("container", "jsonl")
    kind = {"json-array": " (a JSON array file, not JSONL)", "parquet": " (Parquet)", "hf-dir": " (saved HF dataset)"}.get(container, "")
    head.append(f"  {report.format_label}{kind}, {report.rows} rows, profile {report.profile}, "
                f"tokens: {report.stats['tokens']['method']}", style="dim")
    con.print(head)
    groups = report.by_id()
    for cid, items in groups.items():
        info = CHECKS[cid]
        if info.severity == "info":
            continue
        line = Text()
        line.append(f"{cid} ", style=styles[info.severity])
        line.append(f"{info.title}", style="bold")
        rows = list(dict.fromkeys(f.row for f in items if f.row is not None))
        line.append(f"  x{len(items)}", style=styles[info.severity])
        if rows:
            more = f" (+{len(rows) - show} more)" if len(rows) > show else ""
            line.append(f"  rows {', '.join(map(str, rows[:show]))}{more}", style="dim")
        con.print(line)
        for f in items[:show]:
            where = f"row {f.row}" if f.row is not None else "file"
            con.print(Text(f"    {where}: {_safe(f.message)}"))
        if info.hint:
            con.print(Text(f"    fix: {info.hint}", style="dim italic"))
    for cid, items in groups.items():
        if CHECKS[cid].severity == "info":
            for f in items:
                con.print(Text(f"{cid} {_safe(f.message, 400)}", style="cyan"))
    s = report.summary
    tail = Text()
    tail.append(f"{s['errors']} errors", style="bold red" if s["errors"] else "green")
    tail.append(f", {s['warnings']} warnings, {s['info']} info; {s['rows_with_errors']} of {report.rows} rows have errors"
                f"{' (cancelled)' if report.cancelled else ''}")
    con.print(tail)


# --- fixes ----------------------------------------------------------------------------


def _print_fix(result: Any, as_json: bool) -> int:
    if as_json:
        _print_json(result.to_dict())
        return 0
    from rich.text import Text

    con = _console()
    for line in result.lines():
        con.print(Text(_safe(line, 500)))
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from ftui.data.fix import clean

    result = _run_guarded(clean, args.path, out=args.out, profile=args.profile,
                          drop_near_duplicates=args.near_duplicates, overwrite=args.force, drop_images=args.drop_images)
    return _print_fix(result, args.json)


def cmd_split(args: argparse.Namespace) -> int:
    from ftui.data.fix import split

    result = _run_guarded(split, args.path, out_dir=args.out_dir, val=args.val, test=args.test, seed=args.seed,
                          stratify=args.stratify, near_threshold=None if args.no_near_duplicates else 0.8,
                          overwrite=args.force)
    return _print_fix(result, args.json)


def cmd_convert(args: argparse.Namespace) -> int:
    from ftui.data.fix import convert

    result = _run_guarded(convert, args.path, to=args.to, out=args.out, overwrite=args.force, reasoning=args.reasoning)
    return _print_fix(result, args.json)


def cmd_stats(args: argparse.Namespace) -> int:
    from ftui.data.lint import lint_file

    report = _run_guarded(lint_file, args.path, profile=args.profile, tokenizer=args.tokenizer, near_dups=False)
    if args.json:
        _print_json(report.stats)
    else:
        print_stats(report.stats)
    if report.stats.get("rows") and not report.stats.get("valid_rows"):  # nothing here could be trained on
        print(f"ftui: {_safe(str(args.path), 400)} has no usable rows ({report.stats['rows']} rows, each with an error): "
              f"see 'ftui lint {_safe(str(args.path), 400)}'", file=sys.stderr)
        return 2
    return 0


def print_stats(stats: dict[str, Any], console: Any = None) -> None:
    from rich.table import Table
    from rich.text import Text

    con = console or _console()
    tok = stats["tokens"]
    table = Table(title=f"token lengths per role — {tok['method']}", title_justify="left")
    for col in ("role", "messages", "p5", "p50", "p95", "max", "mean"):
        table.add_column(col, justify="right" if col != "role" else "left")
    for role, v in [*tok["per_role"].items(), ("per row", tok["per_row"])]:
        if v.get("count"):
            table.add_row(Text(_safe(role, 40)), str(v["count"]), f"{v['p5']:.0f}", f"{v['p50']:.0f}", f"{v['p95']:.0f}",
                          str(v["max"]), f"{v['mean']:.1f}")
    con.print(table)
    turns = ", ".join(f"{k} turns: {v}" for k, v in stats["turns_per_row"].items())
    con.print(Text(f"rows {stats['rows']} ({stats['valid_rows']} usable); {turns}"))
    if stats.get("labels"):
        con.print(Text("labels: " + ", ".join(f"{_safe(k, 40)} {v}" for k, v in stats["labels"].items())))
    cost = stats["cost"]
    est = " (estimated tokens)" if cost.get("estimated_tokens") else ""
    con.print(Text(f"OpenAI cost{est}: {cost['billable_tokens']:,} billable tokens = {cost['tokens_per_epoch']:,} x "
                   f"{cost['epochs']} epochs; trained-token fraction {cost['trained_fraction']:.0%}; prices checked {cost['prices_as_of']}"))
    for name, m in cost["models"].items():
        con.print(Text(f"  {name}: ${m['usd']:,.2f}  (${m['usd_per_1m_training_tokens']}/1M)", style="dim"))
    d = stats["duplicates"]
    con.print(Text(f"exact-duplicate rows {d['exact_duplicate_rows']}, contradictions {d['contradictions']}, diversity {d['diversity']:.0%}"))
