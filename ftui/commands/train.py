"""CLI sub-commands for the train area: ``ftui train``, ``ftui runs``, ``ftui attach``.

Heavy libraries load only inside the command functions (and only for ``ftui train``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ftui.textsafe import safe_print as print  # noqa: A004 - run names, paths and config values reach these lines


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the ftui parser."""
    train = sub.add_parser(
        "train",
        help="train a run config headless (full / LoRA / QLoRA / OpenAI)",
        description="Train a YAML run config in this terminal with a progress bar; prints the run directory. "
        "Ctrl+C asks whether to stop (and save); SIGTERM stops and saves; a dropped SSH link does not stop it.",
    )
    train.add_argument("config", nargs="?", metavar="CONFIG.yaml", help="run config file, or '-' to read it from stdin")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key (repeatable), e.g. --set max_steps=20; extra.NAME=V for SFTConfig switches")
    train.add_argument("--example", action="store_true", help="print a commented example config and exit")
    train.add_argument("--resume", metavar="RUN", help="continue RUN (id, unique prefix or path) from its latest checkpoint")
    train.add_argument("--from-checkpoint", metavar="N", help="with --resume: start from checkpoint-N (or best) instead of "
                       "the latest; the later checkpoints are kept as superseded-checkpoint-N")
    train.add_argument("--check", action="store_true", help="validate the config (data, model, GPU) and exit")
    train.add_argument("--preset", metavar="NAME", help="start from a preset of the Train form (the defaults, or CONFIG, "
                       "with the preset's keys; --set still wins), e.g. demo-dpo, demo-orpo, demo-kto, demo-quick, "
                       "classification, extraction, style")
    train.add_argument("--from-votes", metavar="SESSION", help="DPO on a blind A/B session's voted pairs, starting from "
                       "the fine-tuned run in it (its adapter is trained on and is the reference); --set changes any key")
    train.add_argument("--rater", metavar="NAME", help="with --from-votes: whose unblinded session to read (default: "
                       "the one rater who unblinded)")
    train.add_argument("--system", metavar="NAME", help="with --from-votes: the session's system to start from "
                       "(default: its fine-tuned run; the one preferred most when there are several)")
    train.set_defaults(func=cmd_train)

    runs = sub.add_parser("runs", help="list training runs", description="List training runs, newest first.")
    runs.add_argument("--json", action="store_true", help="one JSON object per run instead of a table")
    runs.set_defaults(func=cmd_runs)

    attach = sub.add_parser(
        "attach",
        help="follow a live run's log; s = stop and save, x = stop, q = detach",
        description="Print a run's log and follow it while it trains. Keys (on a terminal): s stop and save, "
        "x stop without saving, q detach. Ctrl+C asks. The run keeps going after you detach.",
    )
    attach.add_argument("run", metavar="RUN", help="run id, unique prefix or path ('ftui runs' lists them)")
    attach.add_argument("--stop", action="store_true", help="ask the run to stop and save a checkpoint, then follow it to the end")
    attach.add_argument("--stop-now", action="store_true", help="ask the run to stop without saving, then follow it to the end")
    attach.add_argument("--no-follow", action="store_true", help="print the log so far and exit")
    attach.set_defaults(func=cmd_attach)


# ---------------------------------------------------------------------------------- train


def load_cli_config(config_arg: str | None, overrides: list[str], resume: str | None, preset: str | None = None):
    """(RunConfig, run_dir or None) from a file / stdin / a run to resume / the defaults when a preset is
    given, with the preset's keys and then --set applied."""
    from ftui.config import RunConfig, apply_overrides, load_config, load_config_text
    from ftui.train import runs

    run_dir: Path | None = None
    if resume:
        if config_arg or preset:
            raise _user_error("give either a config (or --preset) or --resume RUN, not both (the run's own config.yaml is used)")
        run_dir = runs.find_run(resume)
        config = runs.load_run_config(run_dir)
    elif config_arg == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise _user_error("'-' reads the config from stdin; pipe one in, e.g. ftui train --example | ftui train -")
        config = load_config_text(sys.stdin.read(), "stdin")
    elif config_arg:
        config = load_config(config_arg)
    elif preset:
        config = RunConfig()
    else:
        raise _user_error("give a config file (ftui train CONFIG.yaml), '-' for stdin, or --resume RUN; "
                          "'ftui train --example' prints one, 'ftui train --preset demo-dpo' trains a demo")
    if preset:
        config = _with_preset(config, preset)
    return apply_overrides(config, overrides), run_dir


def _with_preset(config, name: str):  # noqa: ANN001, ANN202 - RunConfig in and out (imported lazily)
    """``config`` with the keys of the Train form's preset ``name`` (the same table the form reads)."""
    import dataclasses

    from ftui.train.config_fields import PRESET_ALIASES, preset_names, preset_values

    names = [n for n in preset_names(False) if n != "custom"]
    if name in PRESET_ALIASES:
        print(f"ftui: preset {name!r} is now called {PRESET_ALIASES[name]!r} (same settings)", file=sys.stderr)
    elif name not in names:
        raise _user_error(f"no preset {name!r}; the presets are {', '.join(names)}")
    return dataclasses.replace(config, **preset_values(name))


def _user_error(message: str) -> Exception:
    from ftui.errors import UserError

    return UserError(message)


def report_problems(config, resume: bool = False) -> bool:
    """Validate fully; print each problem as one line on stderr. True if there were any."""
    from ftui.train.preflight import validate

    problems = validate(config)
    for problem in problems:
        print(f"ftui: config: {problem}", file=sys.stderr)
    return bool(problems)


def _lighter_start() -> Callable[[], None]:
    """Cheaper start-up for a process that is about to load the ML stack and train (measured on a CPU box).

    Loading torch, transformers, peft and trl builds ~1M long-lived objects; at the default gen-0 threshold
    the collector runs ~1,000 times and rescans the whole heap ~8 times meanwhile (~1 of ~6.5 CPU-s),
    freeing nothing. A 10,000-object gen 0 makes that ~0.2 CPU-s; training then runs on a frozen heap.
    The collector is also paused until the checks are done (call what this returns then): loading torch
    and the transformers stack for the model check still cost ~0.35 CPU-s of collections freeing ~5,000 objects.
    Without CUDA, bitsandbytes (which peft imports) is hidden: ~2 CPU-s.
    """
    import gc

    from ftui.train.hf_setup import skip_bitsandbytes_without_cuda

    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    gc.disable()
    skip_bitsandbytes_without_cuda()
    return _collector_back


def _collector_back() -> None:
    """The collector on again after ``_lighter_start``: what the start built is frozen first, never to be
    scanned (a collection now would walk it all, ~0.3 CPU-s); its few cycles of garbage stay (~1 MB)."""
    import gc

    gc.freeze()
    gc.enable()


def cmd_train(args: argparse.Namespace) -> int:
    from ftui.config import ConfigError
    from ftui.errors import UserError

    if args.example:
        from ftui.train.example import EXAMPLE_CONFIG

        sys.stdout.write(EXAMPLE_CONFIG)
        return 0
    from ftui.train import runs

    if args.from_checkpoint and not args.resume:
        raise UserError("--from-checkpoint needs --resume RUN (the run whose checkpoint to start from)")
    if args.from_votes:
        if args.config or args.resume or args.preset:
            raise UserError("--from-votes builds its own config; give no CONFIG, --preset or --resume (use --set to change keys)")
        config, run_dir = _config_from_votes(args), None
    else:
        try:
            config, run_dir = load_cli_config(args.config, args.overrides, args.resume, args.preset)
        except (ConfigError, runs.RunDirError) as exc:
            raise UserError(str(exc)) from None
    checked = None  # what ends the lighter start once the checks have loaded the stack
    if getattr(args, "own_process", False) and config.method != "openai":
        checked = _lighter_start()
    from ftui.commands.launch import launched_world, train_ranks

    if launched_world() > 1:  # accelerate launch / torchrun -m ftui train: every rank trains, rank 0 reports
        if checked:
            checked()
        if args.check or args.from_checkpoint:
            raise UserError("--check and --from-checkpoint run without a launcher (plain 'ftui train'), then launch")
        return train_ranks(config, run_dir, bool(args.resume), report_problems)
    try:
        problems = report_problems(config, resume=bool(args.resume))
    finally:
        if checked:
            checked()
    if problems:
        return 2
    if args.check:
        print("config OK")
        if config.method != "openai":
            from ftui.train.preflight.estimate import detected_gpu_gb, fit_summary

            print(fit_summary(config, detected_gpu_gb()[1]))  # the same figure as 'ftui plan' and the form
        return 0
    from ftui.commands.train_console import run_headless
    from ftui.train.errors import InvalidRunConfig

    if args.from_checkpoint:
        from ftui.train.checkpoints import find_checkpoint

        try:
            runs.request_resume_from(run_dir, find_checkpoint(run_dir, args.from_checkpoint))
        except runs.RunDirError as exc:
            raise UserError(str(exc)) from None
    try:
        return run_headless(config, run_dir=run_dir, resume=bool(args.resume))
    except (InvalidRunConfig, runs.RunDirError) as exc:
        raise UserError(str(exc)) from None


def _config_from_votes(args: argparse.Namespace):
    """The DPO run config a session's votes make (pairs exported beside the session), with --set applied."""
    from ftui.commands.eval_common import open_session
    from ftui.config import ConfigError, apply_overrides
    from ftui.errors import UserError
    from ftui.evaluate.from_votes import VotesError, dpo_run_from_votes

    session = open_session(args.from_votes, args.rater, need_unblinded=True)
    try:
        found = dpo_run_from_votes(session, system=args.system)
        config = apply_overrides(found.config, args.overrides)
    except (VotesError, ConfigError) as exc:
        raise UserError(str(exc)) from None
    finally:
        session.close()
    if not config.output_dir:  # named now, so the comparison below can name it
        from dataclasses import replace

        from ftui import paths
        from ftui.train.runs import new_run_id

        config = replace(config, output_dir=str(paths.runs_dir() / new_run_id(config)))
    print(found.describe(), file=sys.stderr)
    parent = f"run:{found.parent_run.name}" if found.parent_run else found.parent_system
    print(f"when it finishes, compare it with its parent blind: ftui eval session --system parent={parent} "
          f"--system dpo=run:{Path(config.output_dir).name} --test YOUR_TEST.jsonl --rater NAME", file=sys.stderr)
    return config


# ---------------------------------------------------------------------------------- runs


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


STATUS_STYLE = {"finished": "green", "failed": "red", "stopped": "yellow", "running": "cyan", "interrupted": "magenta"}


def cmd_runs(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ftui.errors import UserError
    from ftui.textsafe import neutralize, one_line
    from ftui.train.runs import RunDirError, list_runs

    try:
        summaries = list_runs()
    except RunDirError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        for s in summaries:
            print(json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in s.__dict__.items()}))
        return 0
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=200)  # piped to a file or grep: one line per run, nothing cut
    if not summaries:
        from ftui import paths

        console.print(Text(f"no runs yet in {neutralize(str(paths.runs_dir()))}; start one with 'ftui train --example | ftui train -'"))
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    id_width = max(len(neutralize(s.run_id)) for s in summaries)  # the id is what people copy into 'ftui attach': never cut it
    table.add_column("id", no_wrap=True, min_width=id_width)
    for name, justify in (("status", "left"), ("method", "left"), ("model", "left"),
                          ("best eval loss", "right"), ("steps", "right"), ("duration", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for s in summaries:
        steps = f"{s.last_step or 0}/{s.total_steps}" if s.total_steps else str(s.last_step or "-")
        table.add_row(
            Text(neutralize(s.run_id)),  # a directory name: may hold any byte, an OSC title sequence too
            Text(neutralize(s.status), style=STATUS_STYLE.get(s.status, "")),
            Text(neutralize(s.method or "-")),
            Text(one_line(neutralize(s.model or "-"), 40)),
            Text(f"{s.best_eval_loss:.4f}" if s.best_eval_loss is not None else "-"),
            Text(steps),
            Text(_fmt_duration(s.duration_s)),
        )
    console.print(table)
    return 0


# ---------------------------------------------------------------------------------- attach


class _Keys:
    """Single-key reads from a terminal stdin (cbreak mode), restored on exit."""

    def __init__(self) -> None:
        self.enabled = sys.stdin is not None and sys.stdin.isatty()
        self._saved = None

    def __enter__(self) -> _Keys:
        if self.enabled:
            import termios
            import tty

            fd = sys.stdin.fileno()
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)

    def read(self, timeout: float) -> str | None:
        if not self.enabled:
            time.sleep(timeout)
            return None
        import os
        import select

        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        if not ready:
            return None
        return os.read(sys.stdin.fileno(), 1).decode(errors="ignore")


def cmd_attach(args: argparse.Namespace) -> int:
    from ftui.errors import UserError
    from ftui.textsafe import neutralize
    from ftui.train import run_lock, runs
    from ftui.train.event_text import describe_event
    from ftui.train.events import EVENT_LOG_NAME, EventLogTail

    try:
        run_dir = runs.find_run(args.run)
    except runs.RunDirError as exc:
        raise UserError(str(exc)) from None
    tail = EventLogTail(run_dir / EVENT_LOG_NAME)
    live = run_lock.is_live(run_dir)
    last_log = 0.0

    def show(events) -> str | None:
        nonlocal last_log
        end = None
        for event in events:
            if event.type == "log" and time.monotonic() - last_log < 1.0 and live:
                continue
            if event.type == "log":
                last_log = time.monotonic()
            if event.type == "memory":
                continue
            line = describe_event(event)
            if line:
                print(line.text, flush=True)
                if line.detail:
                    print(f"hint: {line.detail}", flush=True)
            if event.type in ("finished", "failed", "stopped"):
                end = event.type
            elif event.type == "started":
                end = None
        return end

    end = show(tail.poll())
    if args.no_follow or not live:
        if not live:
            print(f"run {neutralize(run_dir.name)} is not running ({end or 'no result in its log'})")
        return 0
    if args.stop or args.stop_now:
        run_lock.request_stop(run_dir, save=args.stop)
        print("stop requested" + (" (saving a checkpoint)" if args.stop else ""), flush=True)
    with _Keys() as keys:
        if keys.enabled:
            print("following the run: s stop and save · x stop without saving · q detach", flush=True)
        while True:
            try:
                key = keys.read(0.25)
            except KeyboardInterrupt:
                key = _ask_ctrl_c(keys.enabled)
            if key in ("s", "x"):
                run_lock.request_stop(run_dir, save=key == "s")
                print("stop requested" + (" (saving a checkpoint)" if key == "s" else "") + "; waiting for the next step", flush=True)
            elif key == "q":
                print(f"detached; the run goes on. 'ftui attach {neutralize(run_dir.name)}' to come back.")
                return 0
            ended = show(tail.poll())
            if ended:
                return 0
            if not run_lock.is_live(run_dir):
                show(tail.poll())
                print("the training process has gone without a result in the log (crashed or killed)")
                return 1


def _ask_ctrl_c(interactive: bool) -> str:
    if not interactive:
        return "q"
    print("\nCtrl+C: [s] stop and save   [x] stop without saving   [q] detach   [c] continue", flush=True)
    try:
        answer = sys.stdin.read(1).lower()
    except (KeyboardInterrupt, OSError):
        return "q"
    return answer if answer in ("s", "x", "q") else ""
