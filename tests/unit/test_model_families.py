"""The tiny real-family models: real architectures, real chat formats, real stop tokens.

These models are what the training and evaluation matrix runs on, so their own shape is
checked here: a wrong template or a missing end-of-turn token would make every test that
uses them prove less than it claims.
"""

from __future__ import annotations

import pytest

from ftui.models.families import CHAT_FAMILIES, FAMILIES

CONVERSATION = [
    {"role": "system", "content": "Answer with one label."},
    {"role": "user", "content": "My invoice is wrong."},
    {"role": "assistant", "content": "billing"},
    {"role": "user", "content": "The app crashes."},
    {"role": "assistant", "content": "technical"},
]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_loads_as_its_real_architecture_with_its_stop_tokens(name, family_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    family = FAMILIES[name]
    path = family_model(name)
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert type(model).__name__ == family.architecture
    stops = model.generation_config.eos_token_id
    stops = stops if isinstance(stops, list) else [stops]
    assert tokenizer.convert_tokens_to_ids(family.end_of_turn) in stops
    # the end-of-turn marker is one token, never split into bytes
    assert len(tokenizer(family.end_of_turn, add_special_tokens=False).input_ids) == 1
    assert (tokenizer.chat_template is None) == (name == "base")


@pytest.mark.parametrize("name", CHAT_FAMILIES)
def test_each_chat_format_ends_assistant_turns_with_its_end_of_turn_and_has_no_generation_markers(name, family_model):
    from transformers import AutoTokenizer
    from trl.chat_template_utils import has_generation_markers

    family = FAMILIES[name]
    tokenizer = AutoTokenizer.from_pretrained(family_model(name))
    assert not has_generation_markers(tokenizer.chat_template)
    messages = CONVERSATION[1:] if family.system_role == "refused" else CONVERSATION
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert f"billing{family.end_of_turn}" in text
    assert text.count("technical") == 1
    if family.system_role == "refused":
        with pytest.raises(Exception, match="(?i)system"):
            tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    elif family.system_role == "folded":
        assert "Answer with one label.\n\nMy invoice is wrong." in tokenizer.apply_chat_template(CONVERSATION, tokenize=False)


def test_qwen3_generation_prompt_is_not_a_prefix_of_the_trained_conversation(family_model):
    """The case that breaks naive prompt/completion masking: Qwen3 adds an empty think block
    to the last assistant turn of a conversation, but not to the generation prompt."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(family_model("qwen3"))
    full = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    prompt = tokenizer.apply_chat_template(CONVERSATION[:-1], tokenize=False, add_generation_prompt=True)
    assert full.startswith(prompt)
    assert full[len(prompt):].startswith("<think>\n\n</think>\n\ntechnical")
