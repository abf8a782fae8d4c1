"""Batched vs one-at-a-time generation on the demo model (ftui.evaluate.generate.LocalGenerator).

Builds synthetic support-ticket prompts (seeded), then, in one process, generates greedy
outputs for the same prompts twice:

- batched: ``batch_size`` prompts per ``generate`` call, left-padded (what ``ftui eval`` does);
- baseline: one prompt per call (what a naive loop does).

Both runs produce the same tokens (greedy, checked), so the ratio of wall times is the
speed-up of batching. Each mode runs ``--repeats`` times and the best time counts (the
machines here are shared and noisy). Goal: >= 4x at batch 16.
``--quick``: 16 prompts, 16 new tokens, one repeat (a smoke run in seconds; its ratio is
not held to the goal).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_RATIO = 4.0
SUBJECTS = ["invoice", "login", "export", "password", "refund", "dashboard", "webhook", "plan", "seat", "api key"]
PROBLEMS = ["is wrong", "does not work", "fails with an error", "is very slow", "disappeared", "needs changing"]


def make_prompts(n: int, seed: int = 0) -> list[list[dict[str, str]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(PROBLEMS)}." for _ in range(rng.randint(1, 4)))
        out.append([
            {"role": "system", "content": "You are a support triage assistant. Reply with exactly one label."},
            {"role": "user", "content": f"Hello, my {words} Please help."},
        ])
    return out


def best_time(fn, repeats: int) -> tuple[float, list[str]]:  # noqa: ANN001
    best, result = float("inf"), []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run in seconds")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: on a shared 2-core box more threads only add contention)")
    args = ap.parse_args(argv)
    if args.quick:
        args.prompts, args.max_new_tokens, args.repeats = 16, 16, 1

    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from ftui.evaluate.generate import GenerationConfig, LocalGenerator
    from ftui.evaluate.systems import SystemSpec
    from ftui.models.demo import ensure_demo_model

    t0 = time.perf_counter()
    model_dir = ensure_demo_model()
    gen = LocalGenerator(SystemSpec("base", str(model_dir)))
    load_s = time.perf_counter() - t0
    prompts = make_prompts(args.prompts)
    cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    gen.generate_batch(prompts[:2], cfg)  # warm-up (allocations, first-call overheads)

    def batched() -> list[str]:
        out: list[str] = []
        for i in range(0, len(prompts), args.batch_size):
            out += gen.generate_batch(prompts[i:i + args.batch_size], cfg)
        return out

    def one_at_a_time() -> list[str]:
        return [gen.generate_batch([p], cfg)[0] for p in prompts]

    t_batched, out_b = best_time(batched, args.repeats)
    t_single, out_s = best_time(one_at_a_time, args.repeats)
    same = out_b == out_s
    ratio = t_single / t_batched if t_batched > 0 else float("inf")
    print(f"demo model on {gen.device} ({torch.get_num_threads()} threads), loaded in {load_s:.1f} s")
    print(f"{args.prompts} prompts, {args.max_new_tokens} new tokens max, greedy, best of {args.repeats}")
    print(f"  batched (batch {args.batch_size}, left padding): {t_batched:7.2f} s  "
          f"({args.prompts / t_batched:6.1f} prompts/s)")
    print(f"  one at a time:                        {t_single:7.2f} s  ({args.prompts / t_single:6.1f} prompts/s)")
    print(f"  speed-up {ratio:.1f}x (goal >= {GOAL_RATIO:.0f}x) · identical outputs: {same}")
    ok = same and (args.quick or ratio >= GOAL_RATIO)
    print(json.dumps({
        "bench": "generate", "device": gen.device, "prompts": args.prompts, "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens, "batched_s": round(t_batched, 3), "single_s": round(t_single, 3),
        "ratio": round(ratio, 2), "identical_outputs": same, "goal_ratio": GOAL_RATIO, "quick": args.quick, "ok": ok,
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
