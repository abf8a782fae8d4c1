"""Every check id, its severity, what it means and how to fix it.

Ids are stable: tests, docs, the ``--json`` output and the Data screen filter use them.
The table is data so the CLI help, the docs and the TUI render the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: str
    title: str
    hint: str
    needs: str = ""  # what the check needs beyond the file: "tokenizer", "eval", "profile openai", ...


_TABLE: list[tuple[str, str, str, str, str]] = [
    # id, severity, title, hint (the fix), needs
    ("E001", ERROR, "not UTF-8, or contains NUL", "re-encode the file as UTF-8 (iconv -f LATIN1 -t UTF-8) and remove NUL characters", ""),
    ("E002", ERROR, "invalid JSON", "fix the row so it is one complete JSON object (no NaN, no duplicate keys, no cut-off line)", ""),
    ("E003", ERROR, "row is not a JSON object", "each line must be one JSON object such as {\"messages\": [...]}", ""),
    ("E004", ERROR, "format undetectable or not the file's majority", "convert the row to the file's format, or split mixed formats into separate files", ""),
    ("E005", ERROR, "required key missing or of the wrong type", "add the key with the right type (see the format's schema in docs/data-cli.md)", ""),
    ("E006", ERROR, "empty target", "write the missing answer or drop the row (ftui data clean)", ""),
    ("E007", ERROR, "unknown role for the profile", "use system, user, assistant or tool (ShareGPT: human, gpt, system, function_call, observation)", ""),
    ("E008", ERROR, "nothing trainable", "add an assistant answer, or set weight 1 on at least one assistant turn", ""),
    ("E009", ERROR, "bad turn order", "put the system message first and alternate user and assistant turns", ""),
    ("E010", ERROR, "bad weight value", "weight must be 0 or 1 and only on assistant messages", ""),
    ("E011", ERROR, "tool-call integrity", "arguments must be a JSON string, every tool reply must answer an earlier tool_call_id, and the function must be declared in tools", ""),
    ("E012", ERROR, "too few rows for the profile", "OpenAI fine-tuning needs at least 10 examples; add rows", "profile openai"),
    ("E013", ERROR, "over a hard token limit of the profile", "shorten or split the row, or drop it", ""),
    ("E014", ERROR, "chat template fails to render the row", "fix the roles/content the template rejects, or use a tokenizer whose template supports them", "tokenizer"),
    ("E015", ERROR, "no assistant token survives truncation", "shorten the prompt or raise --max-seq-len; the trainer would learn nothing from this row", ""),
    ("E016", ERROR, "chosen and rejected share no prompt", "implicit-prompt preference rows must open with the same turns; give an explicit 'prompt' or fix the pair", ""),
    ("W001", WARNING, "over max_seq_len: will be truncated", "raise --max-seq-len (max_length) or shorten the row; truncation keeps the start", ""),
    ("W002", WARNING, "exact duplicate", "drop duplicates (ftui data clean keeps the first)", ""),
    ("W003", WARNING, "near duplicate", "drop or merge near duplicates; they overweight one example", ""),
    ("W004", WARNING, "contradiction: same input, different output", "decide which answer is right and keep one", ""),
    ("W005", WARNING, "leakage: row also appears in the eval/test file", "remove the row from training (or from the eval file); scores on leaked rows are meaningless", "eval"),
    ("W006", WARNING, "system prompt differs from the file's dominant one", "use one system prompt everywhere unless the variation is intended", ""),
    ("W007", WARNING, "conversation ends on a non-assistant turn", "end the row with the assistant answer; the tail is never trained", ""),
    ("W008", WARNING, "missing system/user message the rest of the file has", "add the message so every row looks like the prompts at inference time", ""),
    ("W009", WARNING, "length outlier for its role", "check the row: a very long or very short turn is often a paste or extraction error", ""),
    ("W010", WARNING, "class imbalance / one response dominates", "rebalance (down-sample the big class or add examples of the rare ones)", ""),
    ("W011", WARNING, "PII or secret", "remove or mask emails, phone numbers and keys before training", ""),
    ("W012", WARNING, "encoding noise", "strip the BOM, U+FFFD, control characters, ANSI escapes and markup from the text", ""),
    ("W013", WARNING, "key the trainer will silently ignore", "rename or drop the key (ftui data clean / convert writes only the keys that count)", ""),
    ("W014", WARNING, "unfilled template placeholder", "fill the placeholder with real text or drop the row", ""),
    ("W015", WARNING, "raw special token in content", "remove chat-template tokens from the text; the tokenizer adds them", ""),
    ("W016", WARNING, "target looks cut off", "complete the answer (close the code fence / JSON, finish the sentence) or drop the row", ""),
    ("W017", WARNING, "output format inconsistent with the rest", "make every answer use the same format (e.g. all JSON)", ""),
    ("W018", WARNING, "preference length bias: one side systematically longer", "add pairs where the chosen answer is the shorter one, or trim padding; DPO learns length as easily as quality", ""),
    ("W019", WARNING, "unpaired preference labels unbalanced", "rebalance true and false rows, or set KTO's desirable_weight / undesirable_weight so weight x count is about even", ""),
    ("W020", WARNING, "row references images", "ftui trains text-only models: drop these rows (ftui data clean --drop-images) or use a vision-language trainer", ""),
    ("I001", INFO, "format, rows, roles, turns per row", "", ""),
    ("I002", INFO, "token-length percentiles per role", "", ""),
    ("I003", INFO, "cost estimate", "", ""),
    ("I004", INFO, "label distribution", "", ""),
    ("I005", INFO, "duplicate clusters and diversity", "", ""),
    ("I006", INFO, "preference figures: pairs, side lengths, labels", "", ""),
]

CHECKS: dict[str, CheckInfo] = {row[0]: CheckInfo(*row) for row in _TABLE}
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


def info(check_id: str) -> CheckInfo:
    return CHECKS[check_id]
