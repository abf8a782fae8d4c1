"""The systems an evaluation compares, and how each is named on the command line.

A fine-tune is only worth keeping if it beats the base model AND the base model with a
good few-shot prompt, so those are first-class systems beside the adapter:

==========================  ===============================================================
``base`` / ``base:MODEL``   the base model (default: the workspace model, ``demo`` = built-in)
``run:RUN_ID``              base + the adapter of a training run (``<runs_dir>/<id>/adapter``;
                            ``run:latest`` = the newest finished run;
                            a full fine-tune's ``model/`` is used as a merged model)
``run:RUN_ID@checkpoint-N`` one checkpoint of a run (``@N``, ``@best``, ``@last`` too)
``adapter:PATH``            base + a PEFT adapter directory
``merged:PATH``             a merged / full model directory
``fewshot:K``               the base model with K examples (drawn seeded from ``--train``)
``openai:MODEL@BASE_URL``   any OpenAI-compatible endpoint; key from ``OPENAI_API_KEY``
``openai:MODEL``            the OpenAI API itself
==========================  ===============================================================

``SystemSpec.key()`` is a content hash (model files' sizes and mtimes, adapter weights'
bytes) so cached generations are reused only for the very same system.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path

KINDS = ("base", "adapter", "merged", "fewshot", "openai")


class SystemError_(ValueError):
    """A system spec is malformed or points at something missing; the message has the fix."""


@dataclass(frozen=True)
class SystemSpec:
    kind: str
    model: str  # base model (name, path or "demo"); merged dir; endpoint model name
    adapter: str | None = None  # PEFT adapter dir (kind "adapter")
    k: int = 0  # few-shot examples (kind "fewshot")
    train_file: str | None = None  # where few-shot examples come from
    fewshot_seed: int = 0
    base_url: str | None = None  # kind "openai"
    label: str = ""  # display name; defaults to the spec text
    load_4bit: bool = False  # local systems: load the base in NF4 (CUDA + bitsandbytes), for models too big for bf16
    device: str = "auto"  # local systems: auto (the first GPU, else the CPU), cuda:N or cpu

    @property
    def name(self) -> str:
        return self.label or self.describe()

    def describe(self) -> str:
        if self.kind == "base":
            return "base" if self.model == "demo" else f"base:{self.model}"
        if self.kind == "adapter":
            return f"adapter:{Path(self.adapter or '').parent.name or self.adapter}"
        if self.kind == "merged":
            return f"merged:{Path(self.model).name}"
        if self.kind == "fewshot":
            return f"fewshot:{self.k}"
        return f"openai:{self.model}"

    @property
    def is_local(self) -> bool:
        return self.kind != "openai"

    def key(self) -> str:
        """Content hash identifying this system's behaviour (cache key part)."""
        h = hashlib.sha256()
        spec = asdict(self)
        spec.pop("label")
        spec.pop("device")  # where it runs is not what it is
        if not spec["load_4bit"]:
            spec.pop("load_4bit")  # keys of systems cached before the option existed stay valid
        h.update(json.dumps(spec, sort_keys=True).encode())
        for path in (self.model, self.adapter):
            if path:
                h.update(_path_fingerprint(path).encode())
        if self.kind == "fewshot" and self.train_file:
            h.update(_path_fingerprint(self.train_file).encode())
        return h.hexdigest()[:16]


def _path_fingerprint(path: str) -> str:
    """Adapter weights are small: hash their bytes. Big model dirs: names, sizes and mtimes."""
    from ftui.models.source import resolve_model

    p = Path(resolve_model(path, hub_policy="skip")).expanduser()
    if not p.exists():
        return f"name:{path}"
    files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(p) if f != p else f.name}:{st.st_size}".encode())
        if st.st_size <= 64 << 20 and f.name.startswith("adapter_"):
            h.update(f.read_bytes())
        else:
            h.update(str(st.st_mtime_ns).encode())
    return h.hexdigest()


def run_adapter_dir(run_id: str) -> Path:
    """The adapter (or full model) directory of a training run, by id or path; ``ID@checkpoint-N`` one checkpoint's."""
    from ftui import paths

    run_id, _, checkpoint = run_id.partition("@")
    if checkpoint:
        from ftui.train.checkpoints import find_checkpoint
        from ftui.train.runs import RunDirError

        try:
            return find_checkpoint(run_adapter_dir(run_id).parent, checkpoint)
        except RunDirError as exc:
            raise SystemError_(str(exc)) from None
    if run_id == "latest":
        run_id = _latest_finished_run()
    run = Path(run_id).expanduser()
    if not run.is_dir():
        run = paths.runs_dir() / run_id
    if not run.is_dir():
        raise SystemError_(f"run {run_id!r} not found under {paths.runs_dir()}. List runs with 'ftui runs'.")
    for sub in ("adapter", "model"):
        if (run / sub).is_dir():
            return run / sub
    raise SystemError_(f"run {run.name} has no adapter/ or model/ yet (still training or failed); "
                       "evaluate a finished run.")


def _latest_finished_run() -> str:
    from ftui.train.runs import list_runs

    finished = [r for r in list_runs() if r.status == "finished"]
    if not finished:
        raise SystemError_("run:latest: no finished training run yet. Train one (ftui train) or list runs with 'ftui runs'.")
    return str(max(finished, key=lambda r: r.started or 0).run_dir)


def adapter_base_model(adapter_dir: str | Path) -> str | None:
    """The base model an adapter was trained on (``adapter_config.json``), if recorded."""
    cfg = Path(adapter_dir) / "adapter_config.json"
    try:
        return json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError):
        return None


def parse_system(text: str, default_model: str = "demo", train_file: str | None = None, fewshot_seed: int = 0) -> SystemSpec:
    """Parse a ``--system`` value (table in the module docstring). ``NAME=SPEC`` sets a display name."""
    label = ""
    if "=" in text.split(":", 1)[0]:
        label, text = text.split("=", 1)
    kind, _, arg = text.partition(":")
    kind = kind.strip().lower()
    if kind == "base":
        return SystemSpec("base", arg or default_model, label=label or ("base" if not arg else ""))
    if kind == "run":
        if not arg:
            raise SystemError_("run: needs a run id, e.g. --system run:20250101-lora-demo")
        path = run_adapter_dir(arg)
        run_name = path.parent.name  # run:latest is named after the run it resolved to
        if path.name.startswith("checkpoint-"):
            run_name = f"{path.parent.parent.name}@{path.name}"
        if path.name == "model" or (path.name.startswith("checkpoint-") and not (path / "adapter_config.json").is_file()):
            return SystemSpec("merged", str(path), label=label or f"run:{run_name}")
        base = adapter_base_model(path) or default_model
        return SystemSpec("adapter", base, adapter=str(path), label=label or f"run:{run_name}")
    if kind == "adapter":
        path = Path(arg).expanduser()
        if not (path / "adapter_config.json").is_file():
            raise SystemError_(f"adapter:{arg}: no adapter_config.json there. Give a PEFT adapter directory.")
        base = adapter_base_model(path) or default_model
        return SystemSpec("adapter", base, adapter=str(path), label=label or f"adapter:{path.name}")
    if kind == "merged":
        path = Path(arg).expanduser()
        if not (path / "config.json").is_file():
            raise SystemError_(f"merged:{arg}: no config.json there. Give a model directory saved by save_pretrained.")
        return SystemSpec("merged", str(path), label=label)
    if kind == "fewshot":
        try:
            k = int(arg or "4")
        except ValueError:
            raise SystemError_(f"fewshot:{arg}: K must be a whole number, e.g. fewshot:4") from None
        if not 0 < k <= 64:
            raise SystemError_("fewshot:K needs 1 <= K <= 64")
        if not train_file:
            raise SystemError_("fewshot needs the examples' source: add --train PATH (the training file)")
        if not Path(train_file).expanduser().is_file():
            raise SystemError_(f"--train {train_file} does not exist")
        return SystemSpec("fewshot", default_model, k=k, train_file=str(train_file), fewshot_seed=fewshot_seed,
                          label=label)
    if kind == "openai":
        model, _, url = arg.partition("@")
        if not model:
            raise SystemError_("openai: needs a model name, e.g. openai:gpt-4o-mini or openai:my-model@http://host:8000/v1")
        return SystemSpec("openai", model, base_url=url or None, label=label)
    raise SystemError_(f"unknown system {text!r}; use base, run:ID, adapter:PATH, merged:PATH, fewshot:K "
                       "or openai:MODEL[@URL]")


def with_label(spec: SystemSpec, label: str) -> SystemSpec:
    return replace(spec, label=label)


def fewshot_examples(spec: SystemSpec, exclude: set[str] = frozenset()) -> list[tuple[str, str]]:
    """K (user, assistant) pairs drawn with a seeded RNG from the training file (prompts equal to a
    test prompt are excluded so the answer is never handed over)."""
    from ftui.evaluate.items import load_items

    pool = [(it.prompt_text, it.reference) for it in load_items(spec.train_file or "")
            if it.reference is not None and it.prompt_text not in exclude]
    rng = random.Random(f"fewshot:{spec.fewshot_seed}")
    return rng.sample(pool, min(spec.k, len(pool)))


def fewshot_messages(messages: tuple[dict[str, str], ...], examples: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Insert the examples as earlier user/assistant turns, after the system prompt."""
    head = [dict(m) for m in messages if m["role"] == "system"]
    rest = [dict(m) for m in messages if m["role"] != "system"]
    shots: list[dict[str, str]] = []
    for user, assistant in examples:
        shots += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return head + shots + rest


def openai_api_key(base_url: str | None) -> str:
    """The key, from ``OPENAI_API_KEY`` only. A local server (localhost) may run without one."""
    key = os.environ.get("OPENAI_API_KEY")
    if key:
        return key
    if base_url and any(h in base_url for h in ("://127.0.0.1", "://localhost", "://[::1]")):
        return "not-needed-for-local-server"
    raise SystemError_("OPENAI_API_KEY is not set. Export it in the shell that runs ftui (it is never stored).")
