"""Byte-level BPE tokenizer for the demo model, trained offline on our sample data.

Byte-level so any text (other languages, emoji, code) still encodes without an unknown
token, even though the merges only know the sample data. The chat template is ChatML
style with ``{% generation %}`` markers around each assistant reply *including* its
end-of-turn token, so ``return_assistant_tokens_mask=True`` (and TRL's
``assistant_only_loss``) trains the model to say the reply and then stop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

PAD_TOKEN = "<|pad|>"
BOS_TOKEN = "<|endoftext|>"
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"  # also the eos token: generation stops at the end of the assistant turn
SPECIAL_TOKENS = (PAD_TOKEN, BOS_TOKEN, TURN_START, TURN_END)

# One line per construct, no Jinja whitespace control. transformers renders with
# trim_blocks=True, which eats a newline written right after a block tag, so that one is
# emitted as an expression. The assistant's end-of-turn token sits inside the generation block.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|im_start|>assistant\n{% generation %}{{ message['content'] }}<|im_end|>{% endgeneration %}{{ '\\n' }}"
    "{% else %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_bpe(texts: Iterable[str], vocab_size: int, special_tokens: Iterable[str] = SPECIAL_TOKENS):  # noqa: ANN201
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on ``texts`` (the demo's and the model families')."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    # trim_offsets=False keeps every character mapped to a token, which the assistant mask relies on.
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(list(texts), trainer=trainer)
    return backend


def train_tokenizer(texts: Iterable[str], vocab_size: int = 3072, model_max_length: int = 1024) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on ``texts`` and wrap it as a transformers fast tokenizer."""
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=train_bpe(texts, vocab_size),
        bos_token=BOS_TOKEN,
        eos_token=TURN_END,
        pad_token=PAD_TOKEN,
        extra_special_tokens=[TURN_START],
        model_max_length=model_max_length,
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
