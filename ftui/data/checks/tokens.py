"""Token counts for the length checks (E013, E014, E015, W001) and the stats.

With a tokenizer (``--tokenizer PATH_OR_ID`` or ``demo``) counts are real: the row is
rendered with the tokenizer's own chat template. Without one they are an estimate
(characters / 4 plus a few tokens of template per message, as OpenAI's cookbook does)
and every output that uses them says "estimated".
"""

from __future__ import annotations

from typing import Any

ESTIMATE_LABEL = "estimated (characters / 4 + 4 per message)"
PER_MESSAGE = 4
REPLY_PRIMING = 3


class TokenizerError(Exception):
    """The tokenizer could not be loaded; the message says which and how to fix it."""


class EstimateCounter:
    """Characters / 4: fast, no dependencies, clearly labelled as an estimate."""

    estimated = True
    label = ESTIMATE_LABEL
    model_max_length: int | None = None

    def count(self, roles: list[str], texts: list[str]) -> tuple[list[int], str | None]:
        """Tokens per message (template overhead included) and an E014 message if rendering fails (never here)."""
        return [len(t) // 4 + PER_MESSAGE for t in texts], None


class TokenizerCounter:
    """Real counts: content tokens per message, scaled so their sum is the chat template's total."""

    estimated = False

    def __init__(self, name_or_path: str) -> None:
        import os

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from ftui.models.source import ModelSourceError, resolve_model

        try:
            resolved = resolve_model(name_or_path)
        except ModelSourceError as exc:
            raise TokenizerError(str(exc)) from None
        try:
            from transformers import AutoTokenizer

            self.tok = AutoTokenizer.from_pretrained(resolved, trust_remote_code=False)
        except Exception as exc:  # transformers raises OSError/ValueError/HFValidationError...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TokenizerError(
                f"cannot load the tokenizer {name_or_path!r}: {first[:200]}. Give a local model directory, "
                "a cached Hub id, or 'demo'"
            ) from None
        self.label = f"tokenizer {name_or_path}"
        self.has_template = bool(getattr(self.tok, "chat_template", None))
        # a template that refuses system messages (Gemma 2) gets them folded, as training and generation do
        self.fold_system = False
        if self.has_template:
            from ftui.models.system_prompt import template_takes_system

            self.fold_system = not template_takes_system(self.tok)[0]
        mml = getattr(self.tok, "model_max_length", None)
        self.model_max_length = mml if isinstance(mml, int) and 0 < mml < 10_000_000 else None
        # we count long rows on purpose: no "sequence longer than the maximum" warning per row
        self.tok.model_max_length = 1 << 62

    def _render(self, messages: list[dict[str, Any]]) -> int:
        out = self.tok.apply_chat_template(messages, tokenize=True, return_dict=False)
        if isinstance(out, dict) or hasattr(out, "input_ids"):
            out = out["input_ids"]
        if out and isinstance(out[0], list):
            out = out[0]
        return len(out)

    def count(self, roles: list[str], texts: list[str]) -> tuple[list[int], str | None]:
        content = [len(ids) for ids in self.tok(texts, add_special_tokens=False)["input_ids"]] if texts else []
        if not self.has_template:
            return [c + PER_MESSAGE for c in content], None
        messages = [{"role": r, "content": t} for r, t in zip(roles, texts, strict=False)]
        if self.fold_system:
            from ftui.models.system_prompt import fold_system

            messages = fold_system(messages)
        try:
            total = self._render(messages)
        except Exception as exc:  # jinja2 TemplateError, raise_exception() in templates, ...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return [c + PER_MESSAGE for c in content], f"the chat template fails: {first[:160]}"
        overhead = max(0, total - sum(content))
        n = max(1, len(content))
        per, extra = divmod(overhead, n)
        return [c + per + (1 if i < extra else 0) for i, c in enumerate(content)], None


def make_counter(tokenizer: str | None) -> EstimateCounter | TokenizerCounter:
    return TokenizerCounter(tokenizer) if tokenizer else EstimateCounter()


def truncation_loss(counts: list[int], trained: list[bool], max_len: int) -> tuple[int, int]:
    """(trained tokens lost past ``max_len``, trained tokens kept) when truncation keeps the start."""
    pos = 0
    lost = kept = 0
    for c, t in zip(counts, trained, strict=False):
        if t:
            inside = max(0, min(c, max_len - pos))
            kept += inside
            lost += c - inside
        pos += c
    return lost, kept
