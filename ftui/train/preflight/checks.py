"""The deep checks of a RunConfig, which look outside it: the datasets, this machine, the model, the memory.

``validate`` is what runs before a training starts (``ftui train``, ``ftui train --check``,
the Train form's start, the worker): ``field_checks`` first (instant), then
whichever deep checks are asked for. Each problem names the field and the fix. The deep
checks import heavy libraries (torch, transformers, the linter) inside the functions, so a
UI calls this from a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from ftui.config import (
    EXTRA_MODELLED,
    METHODS,
    OPTIMIZERS_BNB,
    PREFERENCE_METHODS,
    ConfigProblem,
    RunConfig,
    check_fields,
    weights_method,
)
from ftui.paths import resolve_data_path
from ftui.secrets import looks_secret
from ftui.train.devices import DEVICE_HELP, DeviceError, parse_device


def field_checks(config: RunConfig) -> list[ConfigProblem]:
    """``check_fields`` plus two instant looks beyond the values: a model directory that is not
    there, and the device's syntax (a GPU for QLoRA). The Train form runs it on every keystroke."""
    problems = check_fields(config)
    if config.method not in METHODS or config.method == "openai":
        return problems
    model = str(config.model or "").strip()
    if model and _looks_like_path(model) and not Path(model).expanduser().exists():
        # first, where check_fields used to name it (only a bad method comes before, and that returned above)
        problems.insert(0, ConfigProblem("model", f"the directory {config.model} does not exist", "Fix the path, or use a Hub id or 'demo'."))
    try:
        kind, _ = parse_device(config.device)
    except DeviceError as exc:
        problems.append(ConfigProblem("device", str(exc), f"Set device to {DEVICE_HELP}."))
        return problems
    if weights_method(config) == "qlora" and kind == "cpu":
        problems.append(ConfigProblem("device", "QLoRA trains on a GPU, and device is cpu", f"Set device to {DEVICE_HELP}."))
    return problems


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or Path(value).expanduser().exists()


def validate(
    config: RunConfig,
    *,
    check_files: bool = True,
    check_model: bool = True,
    check_env: bool = True,
) -> list[ConfigProblem]:
    """Every problem with ``config``, each naming the field and the fix; empty when it can run.

    ``check_files`` reads the datasets (existence, and the linter's errors),
    ``check_model`` reads the model's config to check target modules and the VRAM estimate,
    ``check_env`` looks at CUDA, bitsandbytes and OPENAI_API_KEY. The cheap checks always run.
    """
    problems = field_checks(config)
    if config.method not in METHODS:
        return problems
    add = problems.append
    c = config
    hf = c.method != "openai"
    lora = weights_method(c) in ("lora", "qlora")
    if c.method == "openai" and check_env:
        import os

        if not os.environ.get("OPENAI_API_KEY"):
            add(ConfigProblem("method", "openai needs OPENAI_API_KEY in the environment", "Export OPENAI_API_KEY=... (it is never stored in the config)."))
    if check_files:
        _validate_datasets(c, add)
    if hf and check_env:
        _validate_environment(c, add)
        if not any(p.field == "device" for p in problems):
            _validate_device_here(c, add)
    if hf and check_model and c.extra:
        _validate_extra_switches(c, add)
    if hf and check_model and not any(p.field == "model" for p in problems):
        _validate_against_model(c, add, lora)
        if check_env:
            _validate_disk(c, add)
    if hf and check_model and not any(p.field in ("model", "train_path", "data_format") for p in problems):
        masking = _preference_check(c) if c.method in PREFERENCE_METHODS else _masking_check(c)  # after the data checks: a row the linter already names is not named twice
        if masking is not None:
            add(masking)
    return problems


def _validate_disk(c: RunConfig, add) -> None:
    """The disk of the run directory holds what the run writes at least (``ftui.train.preflight.disk``)."""
    from ftui import paths
    from ftui.advisor.vram import lora_params
    from ftui.train.preflight.disk import disk_problem
    from ftui.train.preflight.estimate import resolve_arch, train_setup

    try:
        arch = resolve_arch(c)
        adapter = 0 if weights_method(c) == "full" else lora_params(arch, c.lora_r, train_setup(c, arch).lora_targets)
    except Exception:  # noqa: BLE001 - a model the estimator cannot price: the model checks say why
        return
    found = disk_problem(c, Path(c.output_dir) if c.output_dir else paths.runs_dir(), arch.n_params, adapter)
    if found is not None:
        add(found)


def _validate_extra_switches(c: RunConfig, add) -> None:
    """Every ``extra`` key must be a field of the trainer's config (SFTConfig, DPOConfig, ...)."""
    import difflib
    from dataclasses import fields as dc_fields

    try:
        if c.method in PREFERENCE_METHODS:
            from ftui.train.preference_backend import config_class

            trainer_config = config_class(c.method)
        else:
            from trl import SFTConfig as trainer_config
    except ImportError:
        return
    known = {f.name for f in dc_fields(trainer_config)}
    name = trainer_config.__name__
    for key in c.extra:
        key = str(key)
        if key in known or looks_secret(key) or key in EXTRA_MODELLED:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"Did you mean '{close[0]}'?" if close else f"See the {name} / TrainingArguments documentation."
        add(ConfigProblem(f"extra.{key}", f"is not a {name} or TrainingArguments switch", hint))


def _validate_datasets(c: RunConfig, add) -> None:
    for name in ("train_path", "eval_path"):
        raw = getattr(c, name)
        if name == "eval_path" and not raw:
            continue
        if name == "train_path" and not raw:
            add(ConfigProblem(name, "is empty", "Give the path of a .jsonl training file."))
            continue
        path = resolve_data_path(raw)
        assert path is not None
        if path.is_symlink() and not path.exists():  # a loop or a dangling link: say which, not "does not exist"
            problem = _source_problem(path)
            if problem:
                add(ConfigProblem(name, problem, LINT_FIX, kind="data"))  # the reader's message carries its own fix
                continue
        if not path.exists():
            add(ConfigProblem(name, f"{raw} does not exist", "Fix the path (relative paths are from the current directory)."))
            continue
        if path.is_dir():
            problem = _source_problem(path)  # a saved DatasetDict or a folder of files: the reader names what to open
            add(ConfigProblem(name, problem, LINT_FIX, kind="data") if problem else ConfigProblem(name, f"{raw} is a directory", "Give the path of a .jsonl file inside it."))
            continue
        if not path.is_file():  # a FIFO would block open() for ever; /dev/zero never ends
            problem = _source_problem(path)
            add(ConfigProblem(name, problem, LINT_FIX, kind="data") if problem else ConfigProblem(name, f"{raw} is not a regular file", "Save the data to a .jsonl file."))
            continue
        try:
            with open(path, "rb") as fh:
                head = fh.read(1 << 16)
        except OSError as exc:
            add(ConfigProblem(name, f"cannot read {raw}: {exc.strerror or exc}", "Check the file's permissions."))
            continue
        if not head.strip():
            if path.stat().st_size <= len(head):
                add(ConfigProblem(name, f"{raw} is empty", "Point it at a dataset with at least a few rows."))
                continue
            problem = _source_problem(path)  # past 64 KB of blank lines there may be rows
            if problem:
                add(ConfigProblem(name, problem, LINT_FIX, kind="data"))
                continue
        if _kind_problem(c, name, raw, path, add):
            continue
        _bad_rows(c, name, raw, path, add)


def _kind_problem(c: RunConfig, name: str, raw: str, path: Path, add) -> bool:
    """Preference pairs given to an SFT method: the loader would refuse them only after the model loads."""
    if c.method in PREFERENCE_METHODS or c.data_format not in ("", "auto"):
        return False
    from ftui.data import formats
    from ftui.data.source import DatasetError

    try:
        fmt = formats.detect_format(path).format
    except DatasetError:
        return False  # the row scan that follows names what is wrong with the file
    if fmt != formats.PREFERENCE:
        return False
    local = "" if c.method != "openai" else " to train locally (ftui's OpenAI jobs are supervised only)"
    add(ConfigProblem(name, f"{raw} holds preference data (chosen/rejected or labels), which method {c.method} cannot train",
                      f"Set method to dpo, orpo (pairs) or kto (labels){local}, or pick an SFT dataset.", kind="data"))
    return True


LINT_FIX = "Fix the file; 'ftui lint FILE' shows the details"


def _source_problem(path: Path) -> str | None:
    """The data reader's file-level verdict (a link loop, a device, whitespace only), or None when readable."""
    from ftui.data.source import DatasetError, inspect_source

    try:
        inspect_source(path)
    except DatasetError as exc:
        return str(exc)
    return None


def _bad_rows(c: RunConfig, name: str, raw: str, path: Path, add) -> None:
    """The linter's errors in a data file, as refusals; under ``on_bad_rows: skip`` row errors are the loader's to skip."""
    from ftui.data.source import DatasetError
    from ftui.train.bad_rows import scan_file, shown_messages, skip_fix, skips

    try:
        scan = scan_file(path, c.max_seq_len)
    except DatasetError as exc:  # the file itself (corrupt Parquet, CR-only endings): the reader's own words
        add(ConfigProblem(name, str(exc), "Fix the rows (see 'ftui lint') or pick another file.", kind="data"))
        return
    except Exception:  # noqa: BLE001 - the linter failing must not block a run; the loader reports bad rows
        return
    if scan.file_errors:  # skipping rows cannot fix these
        for message in shown_messages(scan.messages):
            add(ConfigProblem(name, f"{raw}: {message}", "Fix the rows (see 'ftui lint') or pick another file.", kind="data"))
        return
    if not scan.rows or (skips(c) and scan.rows_left):
        return
    bad, left = len(scan.rows), scan.rows_left
    for message in shown_messages(scan.messages):
        add(ConfigProblem(name, f"{raw}: {message}", skip_fix(bad, left), kind="data", skippable=bad if left else 0,
                          rows_left=left))


def _validate_device_here(c: RunConfig, add) -> None:
    """The device must exist on this machine (imports torch); its syntax is ``field_checks``'s."""
    from ftui.train.devices import device_problem

    message = device_problem(c.device, check_hardware=True)
    if message:
        add(ConfigProblem("device", message, f"Set device to {DEVICE_HELP}."))


def _validate_environment(c: RunConfig, add) -> None:
    if c.attn_implementation == "flash_attention_2":
        from ftui.train.gpu_defaults import attention_problem, probe_environment

        found = attention_problem(c, probe_environment(c))
        if found:
            add(ConfigProblem("attn_implementation", *found))
    qlora = weights_method(c) == "qlora"
    needs_cuda = qlora or c.optimizer in OPTIMIZERS_BNB or c.precision == "fp16"
    if not needs_cuda:
        return
    import importlib.util

    import torch

    has_cuda = torch.cuda.is_available()
    has_bnb = importlib.util.find_spec("bitsandbytes") is not None
    if qlora:
        field = "adapter" if c.method in PREFERENCE_METHODS else "method"
        if not has_cuda:
            add(ConfigProblem(field, "QLoRA needs an NVIDIA GPU with CUDA, and none is available here", "Use method: lora (or full) on this machine, or run on a GPU box."))
        elif not has_bnb:
            add(ConfigProblem(field, "QLoRA needs the bitsandbytes package", "pip install bitsandbytes, or use method: lora."))
    if c.optimizer in OPTIMIZERS_BNB and (not has_cuda or not has_bnb):
        add(ConfigProblem("optimizer", f"{c.optimizer} needs CUDA and bitsandbytes", "Use adamw_torch here."))
    if c.precision == "fp16" and not has_cuda:
        add(ConfigProblem("precision", "fp16 mixed precision needs a GPU", "Use auto (fp32 on CPU)."))


def _validate_against_model(c: RunConfig, add, lora: bool) -> None:
    from ftui.models import info as modelinfo

    try:
        info = modelinfo.inspect_model(c.model)
    except modelinfo.ModelInfoError as exc:
        add(ConfigProblem("model", str(exc), "Give a local model directory, a Hub id available offline, or 'demo'."))
        return
    if lora:
        try:
            modelinfo.resolve_target_modules(c.target_modules, info)
        except modelinfo.ModelInfoError as exc:
            add(ConfigProblem("target_modules", str(exc), "Use 'all-linear', 'attention' or names from the list above."))
    if c.attn_implementation in ("flash_attention_2", "sdpa"):
        from ftui.train.gpu_defaults import attention_model_problem

        found = attention_model_problem(c, info.supports_flash_attn, info.supports_sdpa, info.model_type)
        if found:
            add(ConfigProblem("attn_implementation", *found))
    estimate = _vram_check(c)
    if estimate is not None:
        add(estimate)


def _masking_check(c: RunConfig) -> ConfigProblem | None:
    """The chat template against the data and the loss-masking path, from the tokenizer alone (no weights)."""
    if not c.train_path:
        return None
    try:
        from ftui.models import info as modelinfo
        from ftui.train.masking import masking_problem

        path = modelinfo.inspect_model(c.model).path  # cached: the model checks above read it
    except Exception:  # noqa: BLE001 - an unreadable model (or no ML stack) is the model check's to report
        return None
    return masking_problem(c, path)


def _preference_check(c: RunConfig) -> ConfigProblem | None:
    """DPO / ORPO / KTO: the first rows read as preference data, and the model's chat template renders them."""
    from ftui.train.preference_data import PreferenceDataError, load_preference, render_problem

    try:
        data = load_preference(c.train_path, c.method, limit=16)
    except PreferenceDataError as exc:
        return ConfigProblem("train_path", str(exc), "", kind="data")
    try:
        from ftui.train.chat_template import load_tokenizer
        from ftui.train.errors import MaskingError

        tokenizer = load_tokenizer(c.model)
    except (ImportError, MaskingError):
        return None  # no ML stack, or an unreadable model: the model check reports it
    from ftui.train.bad_rows import skips

    found = render_problem(tokenizer, [] if skips(c) else data.rows, c.model)  # skip: a refused row is left out, not fatal
    return ConfigProblem("model", *found) if found else None


def _vram_check(c: RunConfig) -> ConfigProblem | None:
    """Ask the VRAM estimator whether the run fits the GPU here (skipped without a GPU or an estimate)."""
    from ftui.train.preflight.estimate import fit_check

    found = fit_check(c)
    if found:
        field, message = found
        return ConfigProblem(field, message, "Apply the cheapest fix (--set KEY=VALUE), or lower micro_batch_size or max_seq_len, or use QLoRA.")
    return None
