"""Generation: batched == one-at-a-time greedy, left padding, resumable cache, systems."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ftui.evaluate import generate as G
from ftui.evaluate.items import EvalItem, ItemsError, load_items
from ftui.evaluate.systems import SystemError_, fewshot_messages, parse_system

pytestmark = pytest.mark.slow


def _items(n: int) -> list[EvalItem]:
    texts = ["my invoice is wrong", "the app crashes on start when I open the settings page", "add dark mode",
             "reset my password please", "hi", "charged twice for one order, refund needed", "export to pdf"]
    return [EvalItem(f"t{k}", ({"role": "system", "content": "Reply with one label."},
                               {"role": "user", "content": texts[k % len(texts)] + f" #{k}"}), "billing")
            for k in range(n)]


@pytest.fixture(scope="module")
def base_generator(demo_model: Path) -> G.LocalGenerator:
    return G.LocalGenerator(parse_system("base"))


def test_left_padding_and_batched_equals_single(base_generator: G.LocalGenerator) -> None:
    gen = base_generator
    items = _items(5)
    convs = [list(it.messages) for it in items]
    enc = gen.tokenizer([gen.prompt_text(c) for c in convs], return_tensors="pt", padding=True, add_special_tokens=False)
    pad = gen.tokenizer.pad_token_id
    ids, mask = enc["input_ids"], enc["attention_mask"]
    assert gen.tokenizer.padding_side == "left"
    assert (ids[:, -1] != pad).all(), "the last position of every row must be a real token"
    assert (mask[:, 0] == 0).any(), "different lengths: the short rows are padded at the left"
    cfg = G.GenerationConfig(max_new_tokens=8)
    batched = gen.generate_batch(convs, cfg)
    single = [gen.generate_batch([c], cfg)[0] for c in convs]
    assert batched == single
    assert all(isinstance(x, str) for x in batched)
    assert gen.eos_ids and gen.tokenizer.convert_ids_to_tokens(gen.eos_ids[0]) == "<|im_end|>"


class CountingGenerator:
    def __init__(self, inner: G.Generator, cancel_after: int | None = None, cancel: threading.Event | None = None):
        self.inner, self.calls, self.rows = inner, 0, 0
        self.cancel_after, self.cancel = cancel_after, cancel

    def generate_batch(self, conversations, config):  # noqa: ANN001, ANN201
        self.calls += 1
        self.rows += len(conversations)
        if self.cancel is not None and self.calls == self.cancel_after:
            self.cancel.set()
        return self.inner.generate_batch(conversations, config)


def test_cache_is_resumable_and_keyed_by_content(base_generator: G.LocalGenerator, tmp_path: Path) -> None:
    items = _items(7)
    test_file = tmp_path / "test.jsonl"
    test_file.write_text("".join(json.dumps({"messages": [*it.messages, {"role": "assistant", "content": "billing"}]})
                                 + "\n" for it in items))
    items = load_items(test_file)
    spec = parse_system("base")
    cfg = G.GenerationConfig(max_new_tokens=6, batch_size=3)
    cancel = threading.Event()
    counting = CountingGenerator(base_generator, cancel_after=1, cancel=cancel)
    seen: list[tuple[int, int]] = []
    first = G.generate(spec, items, cfg, test_path=test_file, generator=counting, cancel=cancel,
                       progress=lambda d, t: seen.append((d, t)))
    assert first.cancelled and first.generated == 3 and len(first.outputs) == 3
    assert seen[-1] == (3, 7)
    lines = first.cache_path.read_text().splitlines()
    assert len(lines) == 3 and {"key", "item_id", "output"} <= set(json.loads(lines[0]))
    # a torn line from a crash is tolerated and regenerated
    with first.cache_path.open("ab") as fh:
        fh.write(b'{"key": "tor')
    counting2 = CountingGenerator(base_generator)
    second = G.generate(spec, items, cfg, test_path=test_file, generator=counting2)
    assert not second.cancelled and second.cached == 3 and second.generated == 4 and counting2.rows == 4
    assert second.warnings and "unreadable" in second.warnings[0]
    assert list(second.outputs) == [it.id for it in items]
    counting3 = CountingGenerator(base_generator)
    third = G.generate(spec, items, cfg, test_path=test_file, generator=counting3)
    assert counting3.calls == 0 and third.cached == 7 and third.outputs == second.outputs
    # another generation setting is another cache entry
    other = G.generate(spec, items[:2], G.GenerationConfig(max_new_tokens=3), test_path=test_file,
                       generator=CountingGenerator(base_generator))
    assert other.cache_path != third.cache_path and other.generated == 2


def test_adapter_system_from_a_random_lora(demo_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(demo_model)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                                                  init_lora_weights=False))
    adapter = tmp_path / "run1" / "adapter"
    peft_model.save_pretrained(adapter)
    spec = parse_system(f"adapter:{adapter}")
    assert spec.kind == "adapter" and spec.adapter == str(adapter)
    gen = G.LocalGenerator(spec)
    out = gen.generate_batch([list(_items(1)[0].messages)], G.GenerationConfig(max_new_tokens=4))
    assert len(out) == 1
    # the key changes with the adapter's bytes
    key = spec.key()
    peft_model.base_model.model.model.layers[0].self_attn.q_proj.lora_B["default"].weight.data += 1
    peft_model.save_pretrained(adapter)
    assert spec.key() != key
    # run:ID resolves <runs_dir>/<id>/adapter
    monkeypatch.setenv("FTUI_RUNS_DIR", str(tmp_path))
    run_spec = parse_system("run:run1")
    assert run_spec.adapter == str(adapter) and run_spec.name == "run:run1"


def test_merged_system_generates_like_the_model_it_names(base_generator: G.LocalGenerator, demo_model: Path) -> None:
    spec = parse_system(f"merged:{demo_model}")
    assert spec.kind == "merged" and spec.model == str(demo_model) and spec.adapter is None
    assert spec.name == f"merged:{demo_model.name}"
    items = _items(3)
    cfg = G.GenerationConfig(max_new_tokens=5)
    result = G.generate(spec, items, cfg)  # loads the directory itself as the model
    assert result.generated == 3 and list(result.outputs) == [it.id for it in items]
    # the demo directory *is* the base model, so a merged system on it answers as the base does
    assert list(result.outputs.values()) == base_generator.generate_batch([list(it.messages) for it in items], cfg)
    assert result.cache_path != G.cache_path(parse_system("base"), cfg, result.cache_path.parent.name)


def test_merged_system_without_config_json_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"")
    for target in (tmp_path, tmp_path / "missing"):
        with pytest.raises(SystemError_) as err:
            parse_system(f"merged:{target}")
        message = str(err.value)
        assert "\n" not in message and f"merged:{target}" in message
        assert "no config.json" in message and "save_pretrained" in message


class ConstantGenerator:
    def __init__(self) -> None:
        self.conversations: list[list[dict[str, str]]] = []

    def generate_batch(self, conversations, config):  # noqa: ANN001, ANN201
        self.conversations += conversations
        return ["billing"] * len(conversations)


def test_batch_size_is_in_the_cache_key_only_when_sampling() -> None:
    greedy = [G.GenerationConfig(batch_size=b) for b in (1, 16)]
    assert greedy[0].key() == greedy[1].key()  # greedy: batching does not change outputs
    sampled = [G.GenerationConfig(temperature=0.7, batch_size=b) for b in (1, 16)]
    assert sampled[0].key() != sampled[1].key()
    assert len({greedy[0].key(), sampled[0].key(), sampled[1].key()}) == 3
    spec = parse_system("base")
    assert G.cache_path(spec, sampled[0], "t") != G.cache_path(spec, sampled[1], "t")
    gen = ConstantGenerator()
    first = G.generate(spec, _items(4), sampled[0], generator=gen)
    again = G.generate(spec, _items(4), G.GenerationConfig(temperature=0.7, batch_size=1), generator=gen)
    other = G.generate(spec, _items(4), sampled[1], generator=gen)
    assert (first.generated, again.cached, other.generated) == (4, 4, 4)


def test_fewshot_cache_key_follows_the_drawn_examples(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{k}"},
                                                      {"role": "assistant", "content": f"a{k}"}]}) + "\n"
                             for k in range(6)))
    spec = parse_system("fewshot:3", train_file=str(train))
    cfg = G.GenerationConfig(max_new_tokens=4)

    def items(*prompts: str) -> list[EvalItem]:
        return [EvalItem(p, ({"role": "user", "content": p},), "a") for p in prompts]

    gen = ConstantGenerator()
    plain = G.generate(spec, items("new question"), cfg, test_path=train, generator=gen)
    # same test file, but this item set excludes q-prompts from the pool: other examples are drawn
    overlapping = items("new question", "q0", "q1", "q2")
    drawn = G.fewshot_examples(spec, exclude={it.prompt_text for it in overlapping})
    assert drawn != G.fewshot_examples(spec, exclude={"new question"})
    other = G.generate(spec, overlapping, cfg, test_path=train, generator=gen)
    assert other.cache_path != plain.cache_path and other.generated == 4 and other.cached == 0
    assert other.cache_path.name.endswith(f"-{G.examples_key(drawn)}.jsonl")
    meta = json.loads(other.cache_path.with_suffix(".meta.json").read_text())
    assert [tuple(e) for e in meta["fewshot_examples"]] == drawn
    # the same item set draws the same examples: the cache is reused
    assert G.generate(spec, overlapping, cfg, test_path=train, generator=gen).cached == 4
    assert all(len(c) == 7 for c in gen.conversations)  # 3 shots (user + assistant) + the prompt
    # a base system's key has no examples part
    assert G.cache_path(parse_system("base"), cfg, "t").name.count("-") == 1


def test_system_spec_errors_and_fewshot(tmp_path: Path) -> None:
    with pytest.raises(SystemError_, match="unknown system"):
        parse_system("gpt5")
    with pytest.raises(SystemError_, match="--train"):
        parse_system("fewshot:3")
    with pytest.raises(SystemError_, match="adapter_config"):
        parse_system(f"adapter:{tmp_path}")
    with pytest.raises(SystemError_, match="not found"):
        parse_system("run:nope")
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{k}"},
                                                      {"role": "assistant", "content": f"a{k}"}]}) + "\n"
                             for k in range(10)))
    spec = parse_system("fewshot:3", train_file=str(train))
    from ftui.evaluate.systems import fewshot_examples

    ex = fewshot_examples(spec, exclude={"q0"})
    assert len(ex) == 3 and ("q0", "a0") not in ex
    assert ex == fewshot_examples(spec, exclude={"q0"})  # seeded
    msgs = fewshot_messages(({"role": "system", "content": "S"}, {"role": "user", "content": "real"}), ex)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert msgs[-1]["content"] == "real"
    named = parse_system("mine=openai:m@http://127.0.0.1:9/v1")
    assert named.name == "mine" and named.base_url == "http://127.0.0.1:9/v1"


def test_load_items_shapes_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(
        json.dumps({"id": "x", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
        + "\n" + json.dumps({"prompt": "p", "completion": "c"}) + "\n\n"
        + json.dumps({"instruction": "do", "input": "this", "output": "done"}) + "\n"
    )
    items = load_items(f)
    assert [it.id for it in items] == ["x", "row-2", "row-4"]
    assert items[0].reference == "yo" and items[2].prompt_text == "do\n\nthis"
    f.write_text('{"messages": []}\nnot json\n')
    with pytest.raises(ItemsError, match="line 2"):
        load_items(f)
    with pytest.raises(ItemsError, match="does not exist"):
        load_items(tmp_path / "missing.jsonl")


def test_bench_generate_quick_runs(demo_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("bench_generate", Path(__file__).parents[2] / "bench" / "generate.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    threads = torch.get_num_threads()
    try:
        assert bench.main(["--quick"]) == 0
    finally:
        torch.set_num_threads(threads)
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["bench"] == "generate" and last["identical_outputs"] is True and last["ratio"] > 1.0
