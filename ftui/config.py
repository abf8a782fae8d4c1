"""Typed run configuration with YAML round-trip.

``RunConfig`` is the single contract between the Plan screen ("use this plan"), the
Train launcher form, ``ftui train CONFIG.yaml`` and the backends. Field names are the
YAML keys. ``check_fields`` names the field and the fix for each bad value; it looks at
nothing outside the config (no file, model, GPU or environment), so it is instant and this
module imports nothing of ``ftui`` above it. The deep checks (datasets, environment, model,
memory) are ``ftui.train.preflight.validate``, which runs these first.
No secret (API key) is ever a field: keys come from the environment only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ftui.secrets import looks_secret, strip_url_credentials

Method = Literal["full", "lora", "qlora", "openai", "dpo", "orpo", "kto"]
TARGET_PRESETS = ("attention", "all-linear")


@dataclass
class RunConfig:
    # what to train
    model: str = "demo"  # local path, Hub id, or "demo" for the built-in offline model
    train_path: str = "sample_data/support_tickets_train.jsonl"
    eval_path: str | None = "sample_data/support_tickets_test.jsonl"
    data_format: str = "auto"  # auto | chat | alpaca | sharegpt | prompt_completion | text
    on_bad_rows: str = "refuse"  # rows that cannot train (lint errors, a refused template): refuse the file | skip them (recorded in the run)
    reasoning: str = "keep"  # assistant reasoning: keep (reasoning_content; the chat template decides how it renders) | drop ('ftui data convert --reasoning')
    method: Method = "lora"
    # preference methods (dpo, orpo, kto): the adapter they train and their strength
    adapter: str = "lora"  # lora | qlora (a 4-bit base, GPU); the reference is the adapter-disabled base
    beta: float = 0.1  # DPO/KTO: how far from the reference the policy may move; ORPO: the odds-ratio weight
    init_adapter: str | None = None  # a LoRA adapter to keep training (e.g. the SFT run voted on); it is also the reference
    # LoRA
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"  # a preset name or explicit module names
    # QLoRA quantisation
    load_in_4bit_quant_type: str = "nf4"
    double_quant: bool = True
    compute_dtype: str = "bfloat16"
    # schedule
    num_epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides num_epochs
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    micro_batch_size: int = 4
    grad_accum: int = 1
    max_seq_len: int = 1024
    packing: bool = False
    gradient_checkpointing: bool | str = "auto"  # auto: off when the run fits the GPU with room to spare
    optimizer: str = "auto"  # auto (fused AdamW on CUDA, adamw_torch on CPU) | adamw_torch | adamw_8bit | ...
    precision: str = "auto"  # auto (bf16 where supported) | bf16 | fp16 | fp32
    attn_implementation: str = "auto"  # auto (flash_attention_2 when installed + CUDA + bf16/fp16, else sdpa) | sdpa | eager | flash_attention_2
    assistant_only_loss: bool = True
    # eval / checkpoints
    eval_steps: int = 50
    save_steps: int = 100
    save_total_limit: int = 2
    early_stopping_patience: int = 0  # 0 = off
    logging_steps: int = 1
    merge_at_end: bool = False
    eval_fraction: float = 0.1  # share of train rows held out for eval when eval_path is empty (0 = no eval)
    eval_max_rows: int = 1000  # eval on at most this many rows (a seeded sample); 0 = no cap
    weight_decay: float = 0.0
    # reproducibility and output
    seed: int = 42
    output_dir: str | None = None  # the run directory; default: a new one under the runs dir
    # single-process device: auto (the first GPU) | cuda:N | N | cpu; ignored under accelerate launch / torchrun
    device: str = "auto"
    # OpenAI fine-tuning (method == "openai")
    openai_model: str = "gpt-4o-mini-2024-07-18"
    openai_suffix: str | None = None
    openai_base_url: str | None = None  # else OPENAI_BASE_URL; the key only ever from OPENAI_API_KEY
    openai_batch_size: int | str = "auto"
    openai_lr_multiplier: float | str = "auto"
    extra: dict = field(default_factory=dict)  # passed through to SFTConfig for switches we do not model


# ---------------------------------------------------------------------------------------------
# Field metadata, YAML round-trip and ``--set`` overrides
# ---------------------------------------------------------------------------------------------

PREFERENCE_METHODS = ("dpo", "orpo", "kto")
METHODS = ("full", "lora", "qlora", "openai", *PREFERENCE_METHODS)
ADAPTERS = ("lora", "qlora")


def weights_method(config: RunConfig) -> str:
    """How the weights train: ``full``, ``lora`` or ``qlora`` (a preference method trains its ``adapter``)."""
    if config.method in PREFERENCE_METHODS:
        return config.adapter if config.adapter in ADAPTERS else "lora"
    return config.method
DATA_FORMATS = ("auto", "chat", "alpaca", "sharegpt", "prompt_completion", "text")  # ftui.data.formats' names
BAD_ROW_POLICIES = ("refuse", "skip")
REASONING_POLICIES = ("keep", "drop")  # = ftui data convert --reasoning
DATA_FORMAT_ALIASES = {"prompt-completion": "prompt_completion"}  # = formats.FORMAT_ALIASES (a test keeps them equal)
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
QUANT_TYPES = ("nf4", "fp4")
COMPUTE_DTYPES = ("bfloat16", "float16", "float32")
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "cosine_with_min_lr", "polynomial", "constant",
              "constant_with_warmup", "inverse_sqrt", "warmup_stable_decay")
OPTIMIZERS_TORCH = ("adamw_torch", "adamw_torch_fused", "adafactor", "sgd", "adagrad", "rmsprop")
OPTIMIZERS_BNB = ("adamw_8bit", "adamw_bnb_8bit", "paged_adamw_8bit", "paged_adamw_32bit", "lion_8bit", "paged_lion_8bit")
OPTIMIZERS = ("auto",) + OPTIMIZERS_TORCH + OPTIMIZERS_BNB
ATTN_IMPLEMENTATIONS = ("auto", "sdpa", "eager", "flash_attention_2")
# ``bool | str`` fields whose only text value is "auto": the fix said when anything else is given
AUTO_BOOL_FIELDS = {
    "gradient_checkpointing": "Use auto (off when the run fits the GPU with 15% to spare), true or false.",
}
# Fields that must not be smuggled through ``extra`` because RunConfig models them.
EXTRA_MODELLED = {
    "learning_rate": "learning_rate", "num_train_epochs": "num_epochs", "max_steps": "max_steps",
    "per_device_train_batch_size": "micro_batch_size", "gradient_accumulation_steps": "grad_accum",
    "max_length": "max_seq_len", "output_dir": "output_dir", "seed": "seed", "bf16": "precision", "fp16": "precision",
    "optim": "optimizer", "attn_implementation": "attn_implementation",
    "trust_remote_code": "(nothing: remote code is never trusted)",
}


@dataclass(frozen=True)
class ConfigProblem:
    """One bad value: which field, what is wrong, and how to fix it."""

    field: str
    message: str
    fix: str
    # "data": the dataset's content is at fault (the linter or the reader found it), so the
    # Data screen can show it; "" for everything else (a value, a missing file, the model)
    kind: str = ""
    skippable: int = 0  # bad rows that on_bad_rows: skip would leave out (0: skipping does not fix this)
    rows_left: int = 0  # the rows that would then train

    def __str__(self) -> str:
        # a problem with the config file as a whole ("(file)") names the file in its message already
        where = "" if self.field == "(file)" else f"{self.field}: "
        return f"{where}{self.message}. {self.fix}" if self.fix else f"{where}{self.message}"


class ConfigError(ValueError):
    """A config file or override that cannot be read into a RunConfig; ``str()`` is one line with the fix."""

    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def field_names() -> list[str]:
    from dataclasses import fields as dc_fields

    return [f.name for f in dc_fields(RunConfig)]


@functools.cache
def _type_hints() -> dict[str, object]:
    """RunConfig's field types, resolved once: ``get_type_hints`` evaluates every annotation string
    (~2 ms), and the Train form coerces each of its ~50 fields when it first shows."""
    import typing

    return typing.get_type_hints(RunConfig)


def _suggest(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, field_names(), n=1)
    if close:
        return f"Did you mean '{close[0]}'?"
    return "Run 'ftui train --example' to see every key."


def coerce_value(name: str, value: object) -> object:
    """Coerce a raw (YAML or ``--set``) value to the type of field ``name``; raise ConfigError if impossible."""
    from ftui.coerce import coerce

    hints = _type_hints()
    if name not in hints:
        raise ConfigError(ConfigProblem(name, "is not a config key", _suggest(name)))
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    try:
        result = coerce(value, hints[name])
    except ValueError as exc:
        raise ConfigError(ConfigProblem(name, f"{shown} {exc}", f"Set {name} to a valid value.")) from None
    if name in AUTO_BOOL_FIELDS and isinstance(result, str):
        if result.strip().lower() != "auto":
            raise ConfigError(ConfigProblem(name, f"{shown} is not true, false or auto", AUTO_BOOL_FIELDS[name]))
        return "auto"
    _check_magnitude(name, value, result)
    if name == "data_format" and isinstance(result, str):
        result = DATA_FORMAT_ALIASES.get(result, result)
    return result


MAX_CONFIG_NUMBER = 10**15  # past any real step count, seed or size; keeps later int/float maths sane


def _check_magnitude(name: str, raw: object, value: object) -> None:
    """Refuse a number no run could use (a 5,000-digit integer, inf, nan) before anything computes with it."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(ConfigProblem(name, f"{raw!r} is not a finite number", f"Set {name} to a real value."))
    if abs(value) > MAX_CONFIG_NUMBER:
        shown = f"{value:.3g}" if isinstance(value, float) else (f"a {int(value.bit_length() * 0.30103) + 1}-digit number" if value.bit_length() > 64 else str(value))
        raise ConfigError(ConfigProblem(name, f"{shown} is far too large (the limit is 1e15)", f"Set {name} to a realistic value."))


def config_from_dict(data: dict, source: str = "config") -> RunConfig:
    """Build a RunConfig from a mapping; an unknown key or a wrong type raises ConfigError naming it."""
    if not isinstance(data, dict):
        raise ConfigError(ConfigProblem("(file)", f"{source} is not a mapping of key: value", "Start from 'ftui train --example'."))
    known = set(field_names())
    values = {}
    for key, value in data.items():
        key = str(key)
        if key not in known:
            raise ConfigError(ConfigProblem(key, f"unknown key in {source}", _suggest(key)))
        values[key] = coerce_value(key, value)
    return RunConfig(**values)


def config_to_dict(config: RunConfig) -> dict:
    from dataclasses import asdict

    return asdict(config)


def load_config_text(text: str, source: str = "config") -> RunConfig:
    """Parse YAML text (a file's contents or stdin) into a RunConfig."""
    import yaml

    from ftui.safeyaml import ConfigYAMLError, load_config_yaml

    try:
        data = load_config_yaml(text)
    except ConfigYAMLError as exc:
        raise ConfigError(ConfigProblem("(file)", f"{source} {exc.message}", exc.fix)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            ConfigProblem("(file)", f"{source} is not valid YAML{where}", "Fix the syntax; 'ftui train --example' shows the format.")
        ) from None
    if data is None or data == {}:
        # An empty file would otherwise train on every default (the sample data): refuse it.
        raise ConfigError(ConfigProblem("(file)", f"{source} is empty", "Give at least model and train_path; 'ftui train --example' shows every key."))
    return config_from_dict(data, source)


def load_config(path: str | Path) -> RunConfig:
    """Read a YAML run config; errors name the key and the fix."""
    import stat

    from ftui.safeyaml import MAX_CONFIG_BYTES

    path = Path(path).expanduser()
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or device would block or never end
            raise ConfigError(ConfigProblem("(file)", f"{path} is not a regular file", "Give the path of a YAML run config, or '-' for stdin."))
        with open(path, "rb") as fh:  # bounded: the size cap is checked on at most one byte past it
            text = fh.read(MAX_CONFIG_BYTES + 1).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(ConfigProblem("(file)", f"{path} does not exist", "Give the path of a YAML run config, or '-' for stdin.")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(ConfigProblem("(file)", f"cannot read {path}: {exc}", "Check the path and its permissions.")) from None
    return load_config_text(text, path.name)


def dump_config(config: RunConfig) -> str:
    """YAML text of a config, keys in field order, secrets never included."""
    import yaml

    data = config_to_dict(config)
    data["extra"] = {k: v for k, v in (data.get("extra") or {}).items() if not looks_secret(str(k))}
    if data.get("openai_base_url"):
        data["openai_base_url"] = strip_url_credentials(str(data["openai_base_url"]))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save_config(config: RunConfig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_config(config), encoding="utf-8")
    return path


def apply_overrides(config: RunConfig, assignments: list[str] | tuple[str, ...]) -> RunConfig:
    """Apply ``key=value`` strings (``--set``); ``extra.NAME=value`` sets one SFTConfig pass-through switch."""
    import dataclasses

    import yaml

    updates: dict[str, object] = {}
    extra = dict(config.extra)
    for item in assignments:
        if "=" not in item:
            raise ConfigError(ConfigProblem(item, "--set needs key=value", f"Write it as --set {item}=VALUE."))
        key, raw = item.split("=", 1)
        key = key.strip()
        from ftui.safeyaml import ConfigYAMLError, load_config_yaml

        try:
            parsed = load_config_yaml(raw) if raw.strip() else ""
        except ConfigYAMLError as exc:
            raise ConfigError(ConfigProblem(key, f"--set value {exc.message}", exc.fix)) from None
        except yaml.YAMLError:
            parsed = raw
        if key.startswith("extra."):
            extra[key[len("extra.") :]] = parsed
            continue
        if key not in field_names():
            raise ConfigError(ConfigProblem(key, "unknown key in --set", _suggest(key)))
        # Keep the literal text for str fields so e.g. a model named "1e3" stays text.
        value = raw if isinstance(parsed, (int, float)) and _type_hints()[key] is str else parsed
        updates[key] = coerce_value(key, value)
    if extra != config.extra:
        updates["extra"] = extra
    return dataclasses.replace(config, **updates)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def check_fields(config: RunConfig) -> list[ConfigProblem]:
    """Every problem the values have on their own or together, each naming the field and the fix.

    Reads nothing but the config, not even the file system: ``ftui.train.preflight.field_checks``
    adds the device's syntax and a missing model directory (the Train form runs that on every
    keystroke), ``ftui.train.preflight.validate`` the deep checks.
    """
    problems: list[ConfigProblem] = []
    add = problems.append
    c = config

    if c.method not in METHODS:
        add(ConfigProblem("method", f"'{c.method}' is not a training method", f"Use one of: {', '.join(METHODS)}."))
        return problems
    hf = c.method != "openai"
    lora = weights_method(c) in ("lora", "qlora")

    if not str(c.model or "").strip():
        add(ConfigProblem("model", "is empty", "Give a local model directory, a Hub id, or 'demo'."))

    _validate_upper_bounds(c, add)
    if DATA_FORMAT_ALIASES.get(c.data_format, c.data_format) not in DATA_FORMATS:
        add(ConfigProblem("data_format", f"'{c.data_format}' is not a known format", f"Use one of: {', '.join(DATA_FORMATS)}."))
    if c.on_bad_rows not in BAD_ROW_POLICIES:
        add(ConfigProblem("on_bad_rows", f"'{c.on_bad_rows}' is not a policy", "Use refuse (stop on a bad row) or skip (train on the others)."))
    if c.reasoning not in REASONING_POLICIES:
        add(ConfigProblem("reasoning", f"'{c.reasoning}' is not a policy", "Use keep (the chat template renders it) or drop."))

    # schedule
    if not c.learning_rate > 0:
        add(ConfigProblem("learning_rate", f"must be greater than 0 (got {c.learning_rate})", "Try 2e-4 for LoRA/QLoRA or 2e-5 for full fine-tuning."))
    elif c.learning_rate >= 1:
        add(ConfigProblem("learning_rate", f"{c.learning_rate} is far too large and will diverge", "Use a value like 2e-4 (LoRA) or 2e-5 (full)."))
    if c.max_steps == 0 or c.max_steps < -1:
        add(ConfigProblem("max_steps", f"must be -1 (use num_epochs) or a positive number (got {c.max_steps})", "Set max_steps to -1 or e.g. 200."))
    if c.max_steps <= 0 and not c.num_epochs > 0:
        add(ConfigProblem("num_epochs", f"must be greater than 0 (got {c.num_epochs})", "Set num_epochs to e.g. 3, or set max_steps > 0."))
    if hf:
        _validate_hf_numbers(c, add)
    if lora:
        if c.lora_r < 1:
            add(ConfigProblem("lora_r", f"must be at least 1 (got {c.lora_r})", "Use 8, 16 or 32."))
        if not c.lora_alpha > 0:
            add(ConfigProblem("lora_alpha", f"must be greater than 0 (got {c.lora_alpha})", "Use about twice lora_r, e.g. 32 for r=16."))
        if not 0 <= c.lora_dropout < 1:
            add(ConfigProblem("lora_dropout", f"must be in [0, 1) (got {c.lora_dropout})", "Use 0.05 or 0."))
        targets = c.target_modules
        if isinstance(targets, str) and targets not in TARGET_PRESETS:
            targets = [t.strip() for t in targets.split(",") if t.strip()]
            if not targets:
                add(ConfigProblem("target_modules", "is empty", "Use 'all-linear', 'attention' or a list of module names."))
        elif isinstance(targets, list) and not targets:
            add(ConfigProblem("target_modules", "is an empty list", "Use 'all-linear', 'attention' or a list of module names."))
    if c.method in PREFERENCE_METHODS:
        _check_preference(c, add)
    if weights_method(c) == "qlora":
        if c.load_in_4bit_quant_type not in QUANT_TYPES:
            add(ConfigProblem("load_in_4bit_quant_type", f"'{c.load_in_4bit_quant_type}' is not a 4-bit type", "Use nf4 (or fp4)."))
        if c.compute_dtype not in COMPUTE_DTYPES:
            add(ConfigProblem("compute_dtype", f"'{c.compute_dtype}' is not a dtype", f"Use one of: {', '.join(COMPUTE_DTYPES)}."))
    for key in c.extra or {}:
        key = str(key)
        if looks_secret(key):
            add(ConfigProblem(f"extra.{key}", "looks like a secret, and secrets never go into a config file", "Remove it and set it in the environment (e.g. HF_TOKEN)."))
        elif key in EXTRA_MODELLED:
            add(ConfigProblem(f"extra.{key}", "is set through a config key, not extra", f"Use {EXTRA_MODELLED[key]} instead."))

    if c.method == "openai":
        if not str(c.openai_model or "").strip():
            add(ConfigProblem("openai_model", "is empty", "Name a fine-tunable model, e.g. gpt-4o-mini-2024-07-18."))
        if c.openai_base_url and not str(c.openai_base_url).startswith(("http://", "https://")):
            add(ConfigProblem("openai_base_url", f"'{c.openai_base_url}' is not an http(s) URL", "Use e.g. https://api.openai.com/v1 or leave it empty."))
    return problems


# Upper bounds for numeric fields (the lower bounds are checked with each field's fix below).
UPPER_BOUNDS: dict[str, tuple[float, str]] = {
    "lora_r": (4096, "Use 8, 16 or 32."),
    "lora_alpha": (65536, "Use about twice lora_r, e.g. 32 for r=16."),
    "num_epochs": (1000, "Use 1-5 epochs; more usually overfits."),
    "max_steps": (10**9, "Use -1 (num_epochs) or a realistic step count."),
    "micro_batch_size": (65536, "Use 1-8; raise grad_accum for a larger effective batch."),
    "grad_accum": (65536, "Use 1-64."),
    "max_seq_len": (1 << 20, "Use 512-4096, long enough for your longest example."),
    "eval_steps": (10**9, "Use e.g. 50."),
    "save_steps": (10**9, "Use e.g. 100."),
    "save_total_limit": (10**6, "Use 2."),
    "early_stopping_patience": (10**6, "Use 0, or 3 evals."),
    "logging_steps": (10**9, "Use 1-10."),
    "eval_max_rows": (10**12, "Use 1000, or 0 to evaluate on every row."),
    "weight_decay": (10, "Use 0 or 0.01."),
    "seed": (2**32 - 1, "Use 42 (seeds must fit in 32 bits)."),
}


def _validate_upper_bounds(c: RunConfig, add) -> None:
    for name, (limit, fix) in UPPER_BOUNDS.items():
        value = getattr(c, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit:
            add(ConfigProblem(name, f"{value:g} is too large (at most {limit:g})", fix))


def _check_preference(c: RunConfig, add) -> None:
    """DPO / ORPO / KTO: a LoRA or QLoRA adapter, a positive beta, unpacked pairs."""
    if c.adapter not in ADAPTERS:
        add(ConfigProblem("adapter", f"'{c.adapter}' is not an adapter for {c.method}", "Use lora, or qlora on a GPU."))
    if not c.beta > 0:
        add(ConfigProblem("beta", f"must be greater than 0 (got {c.beta})", "Use 0.1 (0.05-0.5)."))
    elif c.beta > 10:
        add(ConfigProblem("beta", f"{c.beta:g} is far too large", "Use 0.1 (0.05-0.5)."))
    if c.packing:
        add(ConfigProblem("packing", f"{c.method} trains whole prompt/answer pairs and cannot pack them", "Set packing to false."))


def _validate_hf_numbers(c: RunConfig, add) -> None:
    positive_ints = {
        "micro_batch_size": ("a batch of", "Use 1-8; raise grad_accum for a larger effective batch."),
        "grad_accum": ("accumulation over", "Use 1 or more."),
        "eval_steps": ("eval every", "Use e.g. 50."),
        "save_steps": ("save every", "Use e.g. 100."),
        "logging_steps": ("log every", "Use 1-10."),
    }
    for name, (_, fix) in positive_ints.items():
        value = getattr(c, name)
        if value < 1:
            add(ConfigProblem(name, f"must be at least 1 (got {value})", fix))
    if c.max_seq_len < 8:
        add(ConfigProblem("max_seq_len", f"must be at least 8 tokens (got {c.max_seq_len})", "Use 512-4096, long enough for your longest example."))
    if c.save_total_limit < 0:
        add(ConfigProblem("save_total_limit", f"must be 0 (keep all) or more (got {c.save_total_limit})", "Use 2."))
    if c.early_stopping_patience < 0:
        add(ConfigProblem("early_stopping_patience", f"must be 0 (off) or more (got {c.early_stopping_patience})", "Use 0, or 3 evals."))
    if c.early_stopping_patience > 0 and not c.eval_path and c.eval_fraction <= 0:
        add(ConfigProblem("early_stopping_patience", "needs eval data", "Set eval_path or eval_fraction > 0, or set early_stopping_patience to 0."))
    if not 0 <= c.warmup_ratio < 1:
        add(ConfigProblem("warmup_ratio", f"must be in [0, 1) (got {c.warmup_ratio})", "Use 0.03."))
    if not 0 <= c.eval_fraction <= 0.5:
        add(ConfigProblem("eval_fraction", f"must be between 0 and 0.5 (got {c.eval_fraction})", "Use 0.1, or 0 for no held-out eval."))
    if c.weight_decay < 0:
        add(ConfigProblem("weight_decay", f"must be 0 or more (got {c.weight_decay})", "Use 0 or 0.01."))
    if c.lr_scheduler not in SCHEDULERS:
        add(ConfigProblem("lr_scheduler", f"'{c.lr_scheduler}' is not a scheduler", f"Use one of: {', '.join(SCHEDULERS)}."))
    if c.optimizer not in OPTIMIZERS:
        add(ConfigProblem("optimizer", f"'{c.optimizer}' is not a known optimizer", f"Use one of: {', '.join(OPTIMIZERS)}."))
    if c.precision not in PRECISIONS:
        add(ConfigProblem("precision", f"'{c.precision}' is not a precision", f"Use one of: {', '.join(PRECISIONS)}."))
    if not isinstance(c.gradient_checkpointing, bool) and c.gradient_checkpointing != "auto":
        add(ConfigProblem("gradient_checkpointing", f"'{c.gradient_checkpointing}' is not true, false or auto",
                          AUTO_BOOL_FIELDS["gradient_checkpointing"]))
    if c.attn_implementation not in ATTN_IMPLEMENTATIONS:
        add(ConfigProblem("attn_implementation", f"'{c.attn_implementation}' is not an attention kernel",
                          f"Use one of: {', '.join(ATTN_IMPLEMENTATIONS)}."))
    if c.eval_max_rows < 0:
        add(ConfigProblem("eval_max_rows", f"must be 0 (no cap) or more (got {c.eval_max_rows})", "Use 1000, or 0 to evaluate on every row."))
    if c.seed < 0:
        add(ConfigProblem("seed", f"must be 0 or more (got {c.seed})", "Use 42."))
