"""GPU speed defaults (issue 12 F): attention kernel, fused AdamW, TF32, the eval cap, eval time, Hub progress.

CUDA is faked: the decision functions take a ``GpuEnvironment``, and ``probe_environment``
is checked with torch.cuda monkeypatched. Nothing here downloads: the Hub download is a
fake ``snapshot_download`` that drives the tqdm class the way huggingface_hub does.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ftui.config import RunConfig, apply_overrides, load_config_text
from ftui.train import gpu_defaults
from ftui.train.gpu_defaults import (
    GpuEnvironment,
    attention_model_problem,
    attention_problem,
    choose_attention,
    choose_optimizer,
    choose_tf32,
)
from ftui.train.preflight import validate

CPU = GpuEnvironment(cuda=False)
H100 = GpuEnvironment(cuda=True, capability=(9, 0), flash_attn_version="2.7.4.post1")
H100_NO_FA = GpuEnvironment(cuda=True, capability=(9, 0))
T4 = GpuEnvironment(cuda=True, capability=(7, 5))


# ------------------------------------------------------------------ attention kernel
def test_auto_attention_takes_flash_attention_when_installed_on_cuda_in_16_bit():
    choice = choose_attention(RunConfig(), H100)
    assert choice.value == "flash_attention_2" and "flash-attn 2.7.4" in choice.note


@pytest.mark.parametrize(
    ("env", "config", "why"),
    [
        (H100_NO_FA, RunConfig(), "flash-attn is not installed"),
        (CPU, RunConfig(), "flash-attn is not installed"),
        (GpuEnvironment(cuda=False, flash_attn_version="2.7.4"), RunConfig(), "no CUDA here"),
        (H100, RunConfig(precision="fp32"), "the run computes in fp32"),
        (H100, RunConfig(method="qlora", compute_dtype="float32"), "the run computes in fp32"),
        (GpuEnvironment(cuda=True, capability=(8, 0), flash_attn_version="2.3.2"), RunConfig(), "older than 2.3.3"),
    ],
)
def test_auto_attention_falls_back_to_sdpa_and_says_why(env, config, why):
    choice = choose_attention(config, env)
    assert choice.value == "sdpa"
    assert why in choice.note


def test_auto_attention_for_a_model_without_flash_or_sdpa():
    assert choose_attention(RunConfig(), H100, supports_flash=False).value == "sdpa"
    gemma2_like = choose_attention(RunConfig(), H100_NO_FA, supports_flash=True, supports_sdpa=False)
    assert gemma2_like.value == "eager" and "eager" in gemma2_like.note


@pytest.mark.parametrize("kernel", ["sdpa", "eager", "flash_attention_2"])
def test_an_explicit_kernel_is_kept(kernel):
    config = RunConfig(attn_implementation=kernel)
    assert choose_attention(config, H100).value == kernel
    assert choose_attention(config, CPU).value == kernel  # refusing is attention_problem's job


@pytest.mark.parametrize(
    ("env", "config", "message", "fix"),
    [
        (H100_NO_FA, RunConfig(), "needs the flash-attn package, which is not installed", "pip install flash-attn"),
        (GpuEnvironment(cuda=True, capability=(8, 0), flash_attn_version="2.1.0"), RunConfig(), "too old", "pip install -U"),
        (GpuEnvironment(cuda=False, flash_attn_version="2.7.4"), RunConfig(), "needs an NVIDIA GPU with CUDA", "auto or sdpa"),
        (H100, RunConfig(precision="fp32"), "bf16 or fp16 only", "precision to auto or bf16"),
    ],
)
def test_explicit_flash_attention_that_cannot_run_is_refused_with_the_fix(env, config, message, fix):
    config.attn_implementation = "flash_attention_2"
    found = attention_problem(config, env)
    assert found is not None
    assert message in found[0] and fix in found[1]


def test_explicit_flash_attention_runs_where_it_can():
    assert attention_problem(RunConfig(attn_implementation="flash_attention_2"), H100) is None
    assert attention_problem(RunConfig(attn_implementation="flash_attention_2", precision="fp16"), H100) is None
    assert attention_problem(RunConfig(attn_implementation="sdpa"), CPU) is None


def test_a_kernel_the_model_class_lacks_is_refused():
    flash = attention_model_problem(RunConfig(attn_implementation="flash_attention_2"), False, True, "gpt2")
    assert flash == ("this gpt2 model does not support flash_attention_2 in transformers",
                     "Set attn_implementation to auto or sdpa.")
    sdpa = attention_model_problem(RunConfig(attn_implementation="sdpa"), True, False, "gemma2")
    assert sdpa is not None and "gemma2" in sdpa[0] and "eager" in sdpa[1]
    assert attention_model_problem(RunConfig(), False, False) is None  # auto adapts instead


# ------------------------------------------------------------------ optimizer and TF32
def test_auto_optimizer_is_fused_adamw_on_cuda_and_plain_on_cpu():
    assert choose_optimizer(RunConfig(), H100).value == "adamw_torch_fused"
    assert "fused AdamW on CUDA" in choose_optimizer(RunConfig(), H100).note
    assert choose_optimizer(RunConfig(), CPU).value == "adamw_torch"


@pytest.mark.parametrize("name", ["adamw_torch", "paged_adamw_8bit", "adafactor"])
def test_an_explicit_optimizer_is_never_replaced(name):
    assert choose_optimizer(RunConfig(optimizer=name), H100).value == name


def test_optimizer_auto_is_the_default_and_an_explicit_yaml_value_stays_explicit():
    assert RunConfig().optimizer == "auto"
    assert load_config_text("optimizer: adamw_torch\n").optimizer == "adamw_torch"
    assert apply_overrides(RunConfig(), ["optimizer=adamw_torch"]).optimizer == "adamw_torch"
    assert load_config_text("model: demo\n").optimizer == "auto"


def test_tf32_on_ampere_and_newer_only():
    assert choose_tf32(RunConfig(), H100).value is True
    assert choose_tf32(RunConfig(), GpuEnvironment(cuda=True, capability=(8, 0))).value is True
    t4 = choose_tf32(RunConfig(), T4)
    assert t4.value is False and "7.5" in t4.note
    assert choose_tf32(RunConfig(), CPU).value is False
    assert choose_tf32(RunConfig(extra={"tf32": False}), H100).value is False


def test_probe_reads_cuda_capability_and_flash_attn(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 6) if device == 1 else (7, 0))
    monkeypatch.setattr(gpu_defaults, "flash_attn_version", lambda: "2.8.3")
    env = gpu_defaults.probe_environment()
    assert env == GpuEnvironment(cuda=True, capability=(8, 6), flash_attn_version="2.8.3")
    assert choose_attention(RunConfig(), env).value == "flash_attention_2"
    assert choose_optimizer(RunConfig(), env).value == "adamw_torch_fused"
    assert choose_tf32(RunConfig(), env).value is True


def test_probe_on_this_cpu_machine():
    env = gpu_defaults.probe_environment()
    assert env.cuda is False and env.capability is None
    assert choose_optimizer(RunConfig(), env).value == "adamw_torch"
    assert choose_attention(RunConfig(), env).value == "sdpa"


def test_sft_config_gets_fused_adamw_and_tf32_on_a_faked_gpu(tmp_path, monkeypatch):
    from ftui.train.hf_backend import build_sft_config

    # Ampere+ would make SFTConfig switch TF32 on for real, which needs a GPU: fake a Turing card
    monkeypatch.setattr(gpu_defaults, "probe_environment", lambda config=None: T4)
    args = build_sft_config(RunConfig(), tmp_path, "chat", has_eval=False, resume=False)
    assert str(args.optim.value) == "adamw_torch_fused" and not args.tf32
    explicit = build_sft_config(RunConfig(optimizer="adamw_torch"), tmp_path, "chat", has_eval=False, resume=False)
    assert str(explicit.optim.value) == "adamw_torch"
    monkeypatch.setattr(gpu_defaults, "probe_environment", lambda config=None: CPU)
    assert str(build_sft_config(RunConfig(), tmp_path, "chat", has_eval=False, resume=False).optim.value) == "adamw_torch"


# ------------------------------------------------------------------ validation messages
def problems(config: RunConfig, **kwargs) -> dict[str, str]:
    kwargs.setdefault("check_files", False)
    kwargs.setdefault("check_model", False)
    return {p.field: str(p) for p in validate(config, **kwargs)}


def test_validation_names_a_bad_kernel_and_a_negative_eval_cap():
    found = problems(RunConfig(attn_implementation="flash", eval_max_rows=-1), check_env=False)
    assert found["attn_implementation"] == (
        "attn_implementation: 'flash' is not an attention kernel. Use one of: auto, sdpa, eager, flash_attention_2.")
    assert found["eval_max_rows"].startswith("eval_max_rows: must be 0 (no cap) or more (got -1)")
    assert problems(RunConfig(), check_env=False) == {}


def test_validation_refuses_flash_attention_without_flash_attn_here(monkeypatch):
    monkeypatch.setattr(gpu_defaults, "probe_environment", lambda config=None: H100_NO_FA)
    found = problems(RunConfig(attn_implementation="flash_attention_2"))
    assert "needs the flash-attn package" in found["attn_implementation"]
    assert "pip install flash-attn --no-build-isolation" in found["attn_implementation"]
    monkeypatch.setattr(gpu_defaults, "probe_environment", lambda config=None: H100)
    assert "attn_implementation" not in problems(RunConfig(attn_implementation="flash_attention_2"))


def test_validation_on_this_machine_refuses_flash_attention():
    found = problems(RunConfig(attn_implementation="flash_attention_2"))
    assert "attn_implementation" in found  # no flash-attn and no CUDA on a CPU box


def test_validation_against_the_model_class(demo_model):
    """The demo model is a Llama: flash and sdpa capable, so an explicit kernel passes the model check."""
    from ftui.models.info import inspect_model

    info = inspect_model("demo")
    assert info.supports_flash_attn and info.supports_sdpa
    assert "attn_implementation" not in problems(RunConfig(attn_implementation="sdpa"), check_model=True, check_env=False)


def test_gemma2_has_no_sdpa_so_auto_takes_eager_and_explicit_sdpa_is_refused(family_model):
    from ftui.models.info import inspect_model

    path = str(family_model("gemma2"))
    info = inspect_model(path)
    assert not info.supports_sdpa
    assert choose_attention(RunConfig(model=path), CPU, info.supports_flash_attn, info.supports_sdpa).value == "eager"
    found = problems(RunConfig(model=path, attn_implementation="sdpa"), check_model=True, check_env=False)
    assert "does not support sdpa" in found["attn_implementation"]


def test_new_fields_round_trip_through_yaml_set_and_the_form():
    from ftui.config import dump_config
    from ftui.train.config_fields import SPECS, parse_value

    config = apply_overrides(RunConfig(), ["attn_implementation=eager", "eval_max_rows=250", "optimizer=auto"])
    again = load_config_text(dump_config(config))
    assert (again.attn_implementation, again.eval_max_rows, again.optimizer) == ("eager", 250, "auto")
    assert SPECS["attn_implementation"].kind == "choice"
    assert SPECS["attn_implementation"].choices == ("auto", "sdpa", "eager", "flash_attention_2")
    assert "auto" in SPECS["optimizer"].choices
    assert parse_value(SPECS["eval_max_rows"], "0") == 0


def test_the_example_config_lists_the_new_keys():
    from ftui.train.example import EXAMPLE_CONFIG

    config = load_config_text(EXAMPLE_CONFIG)
    assert (config.attn_implementation, config.optimizer, config.eval_max_rows) == ("auto", "auto", 1000)


# ------------------------------------------------------------------ the eval cap
def write_rows(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def answers(dataset) -> list[str]:
    return [row["messages"][-1]["content"] for row in dataset]


def test_an_eval_file_larger_than_the_cap_is_a_seeded_sample_in_file_order(tmp_path):
    from ftui.train.dataset import build_datasets, eval_cap_note

    train = write_rows(tmp_path / "train.jsonl", 40)
    evaluation = write_rows(tmp_path / "eval.jsonl", 300)
    config = RunConfig(train_path=str(train), eval_path=str(evaluation), eval_max_rows=100, seed=7)
    train_ds, eval_ds, loaded = build_datasets(config)
    assert len(train_ds) == 40 and len(eval_ds) == 100
    kept = [int(a.split()[1]) for a in answers(eval_ds)]
    assert kept == sorted(kept) and len(set(kept)) == 100 and kept != list(range(100))
    assert (loaded.eval_rows, loaded.eval_capped_from) == (100, 300)
    assert eval_cap_note(config, loaded) == "eval on 100 of 300 rows (a seeded sample); set eval_max_rows to change"
    assert answers(build_datasets(config)[1]) == answers(eval_ds)  # same seed, same sample
    other = answers(build_datasets(RunConfig(train_path=str(train), eval_path=str(evaluation), eval_max_rows=100, seed=8))[1])
    assert other != answers(eval_ds)


def test_the_thousands_are_grouped_in_the_note(tmp_path):
    from ftui.train.dataset import build_datasets, eval_cap_note

    train = write_rows(tmp_path / "train.jsonl", 20)
    evaluation = write_rows(tmp_path / "eval.jsonl", 8412)
    config = RunConfig(train_path=str(train), eval_path=str(evaluation))
    _, eval_ds, loaded = build_datasets(config)
    assert len(eval_ds) == 1000
    assert eval_cap_note(config, loaded) == "eval on 1,000 of 8,412 rows (a seeded sample); set eval_max_rows to change"


def test_a_held_out_share_over_the_cap_returns_the_rest_to_training(tmp_path):
    from ftui.train.dataset import build_datasets, eval_cap_note

    train = write_rows(tmp_path / "train.jsonl", 400)
    config = RunConfig(train_path=str(train), eval_path=None, eval_fraction=0.25, eval_max_rows=30)
    train_ds, eval_ds, loaded = build_datasets(config)
    assert len(eval_ds) == 30 and len(train_ds) == 370
    assert not set(answers(eval_ds)) & set(answers(train_ds))
    assert (loaded.eval_rows, loaded.eval_capped_from) == (30, 100)
    assert eval_cap_note(config, loaded) == (
        "eval on 30 of the 100 rows eval_fraction would hold out; the other 70 stay in training; set eval_max_rows to change")


def test_no_cap_when_zero_or_when_the_eval_set_is_small(tmp_path):
    from ftui.train.dataset import build_datasets, eval_cap_note

    train = write_rows(tmp_path / "train.jsonl", 400)
    evaluation = write_rows(tmp_path / "eval.jsonl", 50)
    uncapped = RunConfig(train_path=str(train), eval_path=None, eval_fraction=0.25, eval_max_rows=0)
    train_ds, eval_ds, loaded = build_datasets(uncapped)
    assert (len(train_ds), len(eval_ds), loaded.eval_capped_from) == (300, 100, 0)
    assert eval_cap_note(uncapped, loaded) is None
    small = RunConfig(train_path=str(train), eval_path=str(evaluation), eval_max_rows=50)
    _, eval_ds, loaded = build_datasets(small)
    assert len(eval_ds) == 50 and loaded.eval_capped_from == 0 and eval_cap_note(small, loaded) is None


# ------------------------------------------------------------------ eval runtime
class _State:
    is_world_process_zero = True
    global_step = 12
    epoch = 1.5


def test_the_eval_event_carries_the_eval_runtime():
    from ftui.train.control import RunControl
    from ftui.train.events import event_from_dict
    from ftui.train.metrics_callback import MetricsCallback

    emitted: list[dict] = []
    callback = MetricsCallback(emitted.append, RunControl())
    callback.on_evaluate(None, _State(), None, metrics={"eval_loss": 1.25, "eval_runtime": 3.5,
                                                         "eval_samples_per_second": 9.0, "eval_entropy": 2.0})
    (data,) = emitted
    assert data["runtime_s"] == 3.5 and data["metrics"] == {"eval_entropy": 2.0}
    event = event_from_dict(json.loads(json.dumps(data)))
    assert event.runtime_s == 3.5 and event.eval_loss == 1.25


def test_history_and_headless_show_the_eval_time():
    from ftui.commands.train_console import _Display
    from ftui.train.events import Eval
    from ftui.train.history import RunHistory, format_eval_time

    history = RunHistory.from_events([Eval(step=0, eval_loss=2.0, runtime_s=41.0), Eval(step=5, eval_loss=1.5, runtime_s=0.42)])
    assert history.eval_runtime_s == 0.42
    assert format_eval_time(0.42) == "0.4s" and format_eval_time(75) == "1m 15s"
    out = io.StringIO()
    display = _Display(out)
    display.apply(Eval(step=50, eval_loss=0.4123, runtime_s=12.34))
    display.apply(Eval(step=60, eval_loss=0.4, runtime_s=None))
    lines = out.getvalue().splitlines()
    assert lines[0] == "eval  step     50  eval_loss 0.4123  (12s)"
    assert lines[1] == "eval  step     60  eval_loss 0.4000"


# ------------------------------------------------------------------ Hub download progress
class FakeFile:
    def __init__(self, filename: str, size: int, will_download: bool = True) -> None:
        self.filename, self.file_size, self.will_download = filename, size, will_download


REPO_FILES = [
    FakeFile("config.json", 700), FakeFile("generation_config.json", 180), FakeFile("tokenizer.json", 9_000),
    FakeFile("tokenizer_config.json", 50_000), FakeFile("model.safetensors.index.json", 24_000),
    FakeFile("model-00001-of-00002.safetensors", 5_000_000_000), FakeFile("model-00002-of-00002.safetensors", 1_000_000_000),
    FakeFile("original/consolidated.00.pth", 6_000_000_000), FakeFile("consolidated.safetensors", 6_000_000_000),
    FakeFile("README.md", 40_000), FakeFile("modeling_custom.py", 9_000),
]


def fake_snapshot_download(files: list[FakeFile], calls: list[dict], chunk: int = 250_000_000):
    """Drive ``tqdm_class`` like huggingface_hub 2.x does: a transfer bar, a reconstruction bar, a files bar."""

    def snapshot_download(repo_id, *, dry_run=False, tqdm_class=None, allow_patterns=None, **kwargs):
        calls.append({"dry_run": dry_run, "allow_patterns": allow_patterns, "tqdm_class": tqdm_class})
        if dry_run:
            return files
        transfer = tqdm_class(total=0, initial=0, unit="B", unit_scale=True, desc="Downloading bytes")
        reconstruct = tqdm_class(total=0, initial=0, unit="B", unit_scale=True, desc="Reconstructing (incomplete total...)")
        wanted = [f for f in files if f.filename in allow_patterns]
        with tqdm_class(total=len(wanted), desc=f"Fetching {len(wanted)} files") as files_bar:
            for f in wanted:
                reconstruct.total = (reconstruct.total or 0) + f.file_size
                left = f.file_size
                while left:
                    step = min(chunk, left)
                    reconstruct.update(step)
                    transfer.update(step * 9 // 10)  # the network carries less than is written (dedup)
                    left -= step
                files_bar.update(1)
        transfer.set_description_str("Download complete")
        return "/cache/models--org--name/snapshots/abc"

    return snapshot_download


def test_pick_model_files_takes_configs_tokenizer_and_one_weight_format():
    from ftui.models.hub import pick_model_files

    picked = pick_model_files([f.filename for f in REPO_FILES])
    assert picked == ["config.json", "generation_config.json", "model-00001-of-00002.safetensors",
                      "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json",
                      "tokenizer_config.json"]
    assert pick_model_files(["config.json", "pytorch_model.bin", "vocab.json", "merges.txt"]) == [
        "config.json", "merges.txt", "pytorch_model.bin", "vocab.json"]
    assert pick_model_files(["config.json", "model.safetensors", "pytorch_model.bin"]) == ["config.json", "model.safetensors"]


def test_download_reports_bytes_done_total_and_rate(monkeypatch):
    import huggingface_hub

    from ftui.models import hub

    calls: list[dict] = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(REPO_FILES, calls))
    reports: list[hub.DownloadProgress] = []
    last = hub.download_model("org/name", reports.append, interval_s=0.0)
    assert [c["dry_run"] for c in calls] == [True, False]
    assert "original/consolidated.00.pth" not in calls[1]["allow_patterns"]
    total = 6_000_000_000 + 700 + 180 + 9_000 + 50_000 + 24_000
    assert reports[0].done == 0 and reports[0].total == total and not reports[0].finished
    done = [r.done for r in reports]
    assert done == sorted(done) and len(reports) > 20  # one per chunk with no throttle
    assert last is reports[-1] and last.finished and last.done == total and last.files == 7
    middle = next(r for r in reports if r.done >= 3_000_000_000)
    assert middle.describe().startswith("downloading org/name: 3.") and "of 6.0 GB" in middle.describe()
    assert "%" in middle.describe()
    assert last.describe().startswith("downloaded org/name: 6.0 GB in ")


def test_download_rate_and_eta_in_the_line():
    from ftui.models.hub import DownloadProgress

    line = DownloadProgress("org/name", 3_200_000_000, 16_100_000_000, 85_300_000, 40.0, 4).describe()
    assert line == "downloading org/name: 3.2 GB of 16.1 GB (20%) · 85.3 MB/s · about 3 min left"


def test_nothing_is_reported_when_the_model_is_cached(monkeypatch):
    import huggingface_hub

    from ftui.models import hub

    calls: list[dict] = []
    cached = [FakeFile(f.filename, f.file_size, will_download=False) for f in REPO_FILES]
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(cached, calls))
    reports: list = []
    assert hub.download_model("org/name", reports.append) is None
    assert reports == [] and len(calls) == 1


def test_the_download_becomes_keyed_message_events(monkeypatch):
    import huggingface_hub

    from ftui.train.events import Message
    from ftui.train.hf_setup import download_from_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(REPO_FILES, []))
    events: list = []
    download_from_hub("org/name", events.append)
    assert all(isinstance(e, Message) for e in events)
    progress = [e for e in events if e.key == "download"]
    assert progress and progress[0].text.startswith("downloading org/name: 0 B of 6.0 GB")
    assert events[-1].key is None and events[-1].text.startswith("downloaded org/name: 6.0 GB")
    local: list = []
    download_from_hub(str(Path.cwd()), local.append)  # a local directory is never downloaded
    assert local == []


def test_a_failed_pre_download_is_one_warning(monkeypatch):
    import huggingface_hub

    from ftui.train.hf_setup import download_from_hub

    def offline(*args, **kwargs):
        raise OSError("Cannot reach https://huggingface.co\nretry later")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    events: list = []
    download_from_hub("org/name", events.append)
    assert events[-1].level == "warning"
    assert events[-1].text == "could not pre-download org/name (Cannot reach https://huggingface.co); loading it directly"


def test_the_monitor_history_keeps_one_line_per_download():
    from ftui.train.events import Message
    from ftui.train.history import RunHistory

    history = RunHistory.from_events([
        Message(text="loading the data"),
        Message(text="downloading org/name: 1.0 GB of 6.0 GB", key="download"),
        Message(text="downloading org/name: 2.0 GB of 6.0 GB", key="download"),
        Message(text="downloading org/name: 3.0 GB of 6.0 GB", key="download"),
        Message(text="downloaded org/name: 6.0 GB in 40 s"),
    ])
    assert [m.text for m in history.messages] == [
        "loading the data", "downloading org/name: 3.0 GB of 6.0 GB", "downloaded org/name: 6.0 GB in 40 s"]


def test_ftui_train_without_a_terminal_prints_a_download_line_every_10_s(monkeypatch):
    from ftui.commands import train_console as headless
    from ftui.train.events import Message

    clock = [1000.0]
    monkeypatch.setattr(headless.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    display = headless._Display(out)
    for second, gb in ((0, 1), (4, 2), (11, 3)):
        clock[0] = 1000.0 + second
        display.apply(Message(text=f"downloading org/name: {gb}.0 GB of 6.0 GB", key="download"))
    display.apply(Message(text="downloaded org/name: 6.0 GB in 40 s"))
    assert out.getvalue().splitlines() == [
        "downloading org/name: 1.0 GB of 6.0 GB", "downloading org/name: 3.0 GB of 6.0 GB",
        "downloaded org/name: 6.0 GB in 40 s"]


def test_ftui_train_on_a_terminal_shows_the_download_in_its_progress_bar():
    from ftui.commands.train_console import _Display
    from ftui.train.events import Message

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    display = _Display(out)
    display.start()
    display.apply(Message(text="downloading org/name: 2.0 GB of 6.0 GB (33%) · 85.3 MB/s", key="download"))
    display.refresh()
    display.stop()
    assert "downloading org/name: 2.0 GB of 6.0 GB (33%) · 85.3 MB/s" in out.getvalue()
    display.apply(Message(text="downloaded org/name: 6.0 GB in 40 s"))
    assert display.status == ""


def test_device_cpu_on_a_gpu_box_counts_as_no_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    from types import SimpleNamespace

    assert gpu_defaults.probe_environment(RunConfig()).cuda is True
    env = gpu_defaults.probe_environment(SimpleNamespace(device="cpu"))  # the config's device field
    assert env.cuda is False
    assert choose_optimizer(RunConfig(), env).value == "adamw_torch"
    assert choose_attention(RunConfig(), env).value == "sdpa"
