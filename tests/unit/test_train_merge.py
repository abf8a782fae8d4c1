"""Merging a LoRA adapter shard by shard gives PEFT's merge_and_unload, exactly, with one shard in RAM."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ftui.train import merge as M

pytestmark = pytest.mark.slow


def _tiny_llama(out: Path, *, tied: bool = False, dtype: str = "float32", shard: str = "40KB",
                hidden: int = 64, layers: int = 2, vocab: int = 256, intermediate: int = 128) -> Path:
    """A random Llama saved in several safetensors shards (save_pretrained's own sharding)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, vocab_size=vocab, tie_word_embeddings=tied,
                         max_position_embeddings=128)
    model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    model.save_pretrained(out, max_shard_size=shard)
    return out


def _adapter(base: Path, out: Path, **lora: object) -> Path:
    """A LoRA adapter with random, non-zero B (a fresh one has B = 0 and would merge to the base)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    options = {"r": 4, "lora_alpha": 8, "target_modules": "all-linear", **lora}
    peft = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **options))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)
            elif "modules_to_save" in name:
                param.add_(torch.randn(param.shape, generator=generator) * 0.05)
    peft.save_pretrained(out)
    return out


def _peft_merged(base: Path, adapter: Path):  # noqa: ANN202
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
    return PeftModel.from_pretrained(model, adapter).merge_and_unload().eval()


def _assert_same_model(ours_dir: Path, reference) -> None:  # noqa: ANN001
    import torch
    from transformers import AutoModelForCausalLM

    ours = AutoModelForCausalLM.from_pretrained(ours_dir, dtype="auto").eval()
    ref_state = reference.state_dict()
    our_state = ours.state_dict()
    assert set(our_state) == set(ref_state)
    for key, value in ref_state.items():
        assert our_state[key].dtype == value.dtype, key
        torch.testing.assert_close(our_state[key], value, rtol=1e-5, atol=1e-6, msg=key)
    ids = torch.randint(0, ours.config.vocab_size, (2, 12), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, reference(ids).logits, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", ["all-linear", "rslora-patterns-embeddings-modules_to_save", "tied-bf16"])
def test_sharded_merge_equals_peft_merge_and_unload(tmp_path: Path, case: str) -> None:
    if case == "tied-bf16":
        base = _tiny_llama(tmp_path / "base", tied=True, dtype="bfloat16")
        adapter = _adapter(base, tmp_path / "adapter")
    elif case == "all-linear":
        base = _tiny_llama(tmp_path / "base")
        adapter = _adapter(base, tmp_path / "adapter")
    else:
        base = _tiny_llama(tmp_path / "base")
        adapter = _adapter(base, tmp_path / "adapter", use_rslora=True, target_modules=["q_proj", "v_proj", "down_proj",
                                                                                          "embed_tokens"],
                           rank_pattern={"down_proj": 2}, alpha_pattern={"layers.1.self_attn.v_proj": 32},
                           modules_to_save=["lm_head"])
    shards = M.base_shards(base)
    assert len(shards) >= 2, "the base must be sharded for this test to mean anything"
    report = M.merge_sharded(adapter, base, tmp_path / "merged")
    assert report.path == "sharded" and report.shards == len(shards) and report.modules > 0
    assert sorted(p.name for p in (tmp_path / "merged").glob("*.safetensors")) == sorted(shards)
    assert (tmp_path / "merged" / M.INDEX_NAME).is_file() and (tmp_path / "merged" / "config.json").is_file()
    reference = _peft_merged(base, adapter)
    _assert_same_model(tmp_path / "merged", reference)
    # and the merge changed something: the adapter is not a no-op
    import torch
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(base, dtype="auto").state_dict()
    merged = reference.state_dict()
    assert any(not torch.equal(plain[k], merged[k]) for k in plain)


def test_scale_and_transpose_follow_the_adapter_config(tmp_path: Path) -> None:
    base = _tiny_llama(tmp_path / "base")
    adapter = _adapter(base, tmp_path / "adapter", r=4, lora_alpha=16, use_rslora=True,
                       target_modules=["q_proj", "embed_tokens"], rank_pattern={"q_proj": 2})
    plan = M.plan_merge(adapter)
    q = plan.deltas["model.layers.0.self_attn.q_proj.weight"]
    assert q.scale == pytest.approx(16 / 2 ** 0.5) and not q.transpose
    emb = plan.deltas["model.embed_tokens.weight"]
    assert emb.scale == pytest.approx(16 / 4 ** 0.5) and emb.transpose
    # PEFT saves the whole embedding with an embedding LoRA; it replaces the base's before the delta is added
    assert plan.replacements == {"model.embed_tokens.weight": "base_model.model.model.embed_tokens.base_layer.weight"}


def test_dora_and_wrong_base_are_refused_with_a_reason(tmp_path: Path) -> None:
    base = _tiny_llama(tmp_path / "base")
    adapter = _adapter(base, tmp_path / "adapter", target_modules=["q_proj"])
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    (adapter / "adapter_config.json").write_text(json.dumps({**cfg, "use_dora": True}))
    with pytest.raises(M.MergeError, match="DoRA"):
        M.merge_sharded(adapter, base, tmp_path / "out")
    (adapter / "adapter_config.json").write_text(json.dumps(cfg))
    other = _tiny_llama(tmp_path / "other", hidden=32, intermediate=64)
    with pytest.raises(M.MergeError, match="adapter's base model"):
        M.merge_sharded(adapter, other, tmp_path / "out2")
    assert not list((tmp_path / "out2").glob("*.safetensors")), "a failed merge leaves no half-merged shards"


def test_the_gpu_is_used_only_when_the_base_fits_in_free_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    base = _tiny_llama(tmp_path / "base")
    adapter = _adapter(base, tmp_path / "adapter", target_modules=["q_proj"])
    size = M.base_bytes(base)
    free = {"bytes": 0}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda index=0: (free["bytes"], 80 << 30))
    calls: list[str] = []
    monkeypatch.setattr(M, "merge_on_gpu", lambda *a, **k: calls.append("gpu") or M.MergeReport("gpu", str(a[2])))
    free["bytes"] = int(size * M.GPU_MARGIN + M.GPU_SPARE_BYTES) - 1
    assert M.gpu_merge_device(base) is None
    report = M.merge(adapter, tmp_path / "sharded", base=str(base))
    assert report.path == "sharded" and calls == []
    free["bytes"] += 2
    assert M.gpu_merge_device(base) == 0
    assert M.merge(adapter, tmp_path / "gpu", base=str(base)).path == "gpu" and calls == ["gpu"]


def test_a_run_merged_at_the_end_goes_through_the_sharded_merge(tmp_path: Path) -> None:
    """hf_finish.merge_adapter (what merge_at_end calls) on CPU: sharded, same as PEFT, base named by the config."""
    from ftui.config import RunConfig
    from ftui.train.hf_finish import merge_adapter

    base = _tiny_llama(tmp_path / "base")
    adapter = _adapter(base, tmp_path / "adapter")
    report = merge_adapter(str(adapter), str(tmp_path / "merged"), RunConfig(model=str(base), train_path="x.jsonl"))
    assert report.path == "sharded"
    _assert_same_model(tmp_path / "merged", _peft_merged(base, adapter))


PEAK_SCRIPT = textwrap.dedent("""
    import json, sys
    from ftui.train import merge as M

    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    # A first merge warms what is paid once per process, not per shard (torch and safetensors imports,
    # the BLAS library's per-thread buffers, whose size depends on the CPU); the peak is then reset so
    # the second merge's figure is the merge's own working memory.
    M.merge_sharded(sys.argv[1], sys.argv[2], sys.argv[3] + "-warm-up")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current RSS
    before = rss("VmRSS:")
    peaks = []
    M.merge_sharded(sys.argv[1], sys.argv[2], sys.argv[3], progress=lambda done, total: peaks.append(rss("VmHWM:")))
    print(json.dumps({"before": before, "peak": peaks[-1]}))
""")


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="reads and resets VmHWM through /proc")
def test_peak_memory_of_the_sharded_merge_is_about_one_shard(tmp_path: Path) -> None:
    """A ~90 MB base in <= 8 MB shards: the merge's extra peak RSS (through the last shard written) stays
    about one shard (one tensor's working copies, a copy chunk, the adapter), far from the whole model a
    merge_and_unload would hold. Measured here: 10 MB after a warm-up merge (17 MB without, 33 MB on a CI host)."""
    base = _tiny_llama(tmp_path / "base", hidden=512, intermediate=1024, layers=8, vocab=4096, shard="5MB")
    adapter = _adapter(base, tmp_path / "adapter", r=8)
    model_bytes = M.base_bytes(base)
    shard_bytes = max((base / s).stat().st_size for s in M.base_shards(base))
    adapter_bytes = (adapter / "adapter_model.safetensors").stat().st_size
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(adapter), str(base), str(tmp_path / "merged")],
                         capture_output=True, text=True, timeout=300, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    extra = figures["peak"] - figures["before"]
    print(f"model {model_bytes / 1e6:.1f} MB in {len(M.base_shards(base))} shards, largest {shard_bytes / 1e6:.1f} MB, "
          f"adapter {adapter_bytes / 1e6:.1f} MB: merge peak RSS above baseline {extra / 1e6:.1f} MB")
    # one tensor read + its fp32 copy + one fp32 delta (the largest here is an 8 MB fp32 embedding), the adapter
    assert extra < 3 * shard_bytes + adapter_bytes + (4 << 20)
    assert extra < model_bytes / 4


def test_ftui_merge_cli_merges_a_finished_run_and_says_what_is_wrong_otherwise(tmp_path: Path, capsys) -> None:
    import shutil

    from ftui.cli import main
    from ftui.config import RunConfig
    from ftui.train import runs

    base = _tiny_llama(tmp_path / "base")
    train = tmp_path / "train.jsonl"
    train.write_text('{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n')
    run_dir, _ = runs.create_run(RunConfig(model=str(base), train_path=str(train), eval_path=None), tmp_path / "run")
    code = main(["merge", str(run_dir)])
    assert code == 2 and "has no adapter yet" in capsys.readouterr().err
    adapter = _adapter(base, run_dir / runs.ADAPTER_DIR)
    code = main(["merge", str(run_dir), "--cpu"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "shard by shard" in out and str(run_dir / runs.MERGED_DIR) in out
    _assert_same_model(run_dir / runs.MERGED_DIR, _peft_merged(base, adapter))
    capsys.readouterr()  # the reference loads' progress bars
    code = main(["merge", str(run_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    shutil.rmtree(run_dir / runs.ADAPTER_DIR)
    (run_dir / "model").mkdir()
    code = main(["merge", str(run_dir), "--out", str(tmp_path / "elsewhere")])
    assert code == 2 and "full fine-tune" in capsys.readouterr().err


def test_a_base_without_safetensors_falls_back_to_peft_in_ram(tmp_path: Path) -> None:
    """An old PyTorch-format base has no shard to stream: PEFT's merge in host RAM, said in the report."""
    import torch

    base = _tiny_llama(tmp_path / "base", shard="10GB")
    adapter = _adapter(base, tmp_path / "adapter", target_modules=["q_proj"])
    from safetensors.torch import load_file

    old = tmp_path / "old-base"
    old.mkdir()
    (old / "config.json").write_text((base / "config.json").read_text())
    torch.save(load_file(base / M.SINGLE_NAME), old / "pytorch_model.bin")
    assert not M.has_safetensors(old) and M.base_bytes(old) > 0
    report = M.merge(adapter, tmp_path / "merged", base=str(old), allow_gpu=False)
    assert report.path == "in-memory" and "host RAM" in report.describe()
    _assert_same_model(tmp_path / "merged", _peft_merged(base, adapter))
