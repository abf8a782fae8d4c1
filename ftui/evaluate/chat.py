"""Try a model by talking to it: streamed replies from a run (or checkpoint) and its base, side by side.

This is the open comparison (labelled, one conversation), not the blind A/B. It reuses the
evaluation's ``LocalGenerator`` (``device_map`` loading, stop ids, and ``prompt_text`` =
``chat_template.render_prompt``, the very prompt format the run trained on), so a reply here is
what ``ftui eval`` would generate, token for token, with the same settings.

Tokens stream through transformers' ``TextIteratorStreamer``: ``generate`` runs on its own
thread and the caller (the CLI's loop, the TUI's worker thread) reads text pieces as they
come. A LoRA run's base replies come from the *same* loaded model with the adapter disabled
(``PeftModel.disable_adapter``), so trying a 70B adapter does not load the base twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.evaluate.generate import GenerationConfig, GenerationError, LocalGenerator
from ftui.evaluate.normalize import normalize_output
from ftui.evaluate.systems import SystemError_, SystemSpec, parse_system

CHAT_DEFAULTS = GenerationConfig(max_new_tokens=200, temperature=0.0, top_p=1.0, batch_size=1)


class ChatError(Exception):
    """The chat cannot start (no such run, nothing to load); the message says what to do."""


@dataclass(frozen=True)
class ChatTarget:
    """What to talk to: the fine-tuned system and, beside it, its base."""

    tuned: SystemSpec
    base: SystemSpec | None
    label: str  # e.g. "run:20250101-lora-demo@checkpoint-40"


def resolve_target(ref: str, checkpoint: str | None = None, with_base: bool = True) -> ChatTarget:
    """A run id / prefix / path (``run:`` optional; ``@checkpoint-N`` or ``checkpoint``), or any system spec
    (``base``, ``merged:PATH``, ``adapter:PATH``) -> the systems to load."""
    from ftui.train import runs

    text = ref.strip()
    if text == "latest" or text.startswith("latest@"):
        text = "run:" + text  # the newest finished run
    if not text.startswith(("run:", "base", "merged:", "adapter:")):
        try:
            run_dir = runs.find_run(text.split("@", 1)[0])
        except runs.RunDirError as exc:
            raise ChatError(str(exc)) from None
        text = f"run:{run_dir}" + (f"@{text.split('@', 1)[1]}" if "@" in text else "")
    if checkpoint and "@" not in text:
        text += f"@{checkpoint}"
    try:
        tuned = parse_system(text)
    except SystemError_ as exc:
        raise ChatError(str(exc)) from None
    if text.startswith("run:"):
        run_dir = Path(tuned.adapter or tuned.model).parent
        run_dir = run_dir.parent if run_dir.name == runs.CHECKPOINTS_DIR else run_dir
        label = tuned.label
        try:
            base_model = runs.load_run_config(run_dir).model
        except Exception:  # noqa: BLE001 - an adapter names its base itself
            base_model = tuned.model if tuned.kind == "adapter" else "demo"
    else:
        label, base_model = tuned.name, tuned.model
    base = SystemSpec("base", base_model, label="base") if with_base and tuned.kind != "base" else None
    return ChatTarget(tuned=tuned, base=base, label=label)


class ChatModel:
    """One loaded model (+ adapter) that streams chat replies; ``base=True`` replies with the adapter off."""

    def __init__(self, spec: SystemSpec, device: str | None = None) -> None:
        try:
            self.generator = LocalGenerator(spec, device=device)
        except GenerationError as exc:
            raise ChatError(str(exc)) from None
        self.spec = spec

    @property
    def shares_base(self) -> bool:
        """The base can be answered by this model with its adapter switched off."""
        return hasattr(self.generator.model, "disable_adapter")

    def stream(self, messages: list[dict[str, str]], config: GenerationConfig = CHAT_DEFAULTS, base: bool = False,
               cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield the reply's text as it is generated (special tokens left out)."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        gen = self.generator
        prompt = gen.prompt_text(messages)
        enc = gen.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(gen.model.device)
        streamer = TextIteratorStreamer(gen.tokenizer, skip_prompt=True, skip_special_tokens=True)

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:  # noqa: ARG002
                return bool(cancel is not None and cancel.is_set())

        kwargs: dict[str, Any] = {
            **enc, "streamer": streamer, "max_new_tokens": config.max_new_tokens,
            "eos_token_id": gen.eos_ids or None, "pad_token_id": gen.tokenizer.pad_token_id,
            "stopping_criteria": StoppingCriteriaList([Cancelled()]),
        }
        if config.temperature > 0:
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        errors: list[BaseException] = []

        def run() -> None:
            context = gen.model.disable_adapter() if base and self.shares_base else nullcontext()
            try:
                with context, torch.inference_mode():
                    if config.temperature > 0:
                        torch.manual_seed(config.seed)
                    gen.model.generate(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the reading thread
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, name="ftui-chat-generate", daemon=True)
        thread.start()
        yield from streamer
        thread.join()
        if errors:
            raise ChatError(f"generation failed: {type(errors[0]).__name__}: {str(errors[0]).splitlines()[0][:200]}")

    def reply(self, messages: list[dict[str, str]], on_text: Callable[[str], None], config: GenerationConfig = CHAT_DEFAULTS,
              base: bool = False, cancel: threading.Event | None = None) -> str:
        """Stream a reply into ``on_text`` and return it normalised as evaluation normalises outputs
        (cut at a role continuation or a repetition loop): that is what goes into the history."""
        parts: list[str] = []
        for piece in self.stream(messages, config, base=base, cancel=cancel):
            if piece:
                parts.append(piece)
                on_text(piece)
        return normalize_output("".join(parts))


class ChatSession:
    """The conversation(s): one history per side, so each model sees its own earlier replies."""

    def __init__(self, target: ChatTarget, device: str | None = None, system_prompt: str | None = None) -> None:
        self.target = target
        self.tuned = ChatModel(target.tuned, device=device)
        self.base: ChatModel | None = None
        if target.base is not None:
            self.base = self.tuned if self.tuned.shares_base else ChatModel(target.base, device=device)
        head = [{"role": "system", "content": system_prompt}] if system_prompt else []
        self.histories: dict[str, list[dict[str, str]]] = {"tuned": list(head), "base": list(head)}

    def sides(self) -> list[str]:
        return ["tuned", "base"] if self.base is not None else ["tuned"]

    def ask(self, side: str, user: str, on_text: Callable[[str], None], config: GenerationConfig = CHAT_DEFAULTS,
            cancel: threading.Event | None = None) -> str:
        """Send ``user`` to one side, stream its reply, keep both in that side's history."""
        history = self.histories[side]
        messages = [*history, {"role": "user", "content": user}]
        model = self.tuned if side == "tuned" else self.base
        assert model is not None
        text = model.reply(messages, on_text, config, base=side == "base", cancel=cancel)
        history += [{"role": "user", "content": user}, {"role": "assistant", "content": text}]
        return text

    def reset(self) -> None:
        for history in self.histories.values():
            del history[sum(1 for m in history if m["role"] == "system"):]
