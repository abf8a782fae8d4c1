"""Count the rows the trainer drops or truncates, from one tokenization.

TRL's ``SFTTrainer`` prepares a dataset in one pass: tokenize, build ``labels`` (-100
where no loss), truncate to ``max_length``, drop rows left with no trained token, pack.
Nothing reports what truncation cost. ``sft_trainer_class()`` returns an ``SFTTrainer``
whose preparation runs in two halves through TRL's own code: first everything up to the
labels with ``max_length=None`` (the rows at full length), then, on that tokenized
dataset, TRL's truncation, filter and packing (it skips tokenization for a dataset that
has ``input_ids``). The full-length labels between the halves are counted here
(``count_rows``, numpy over the Arrow buffers), so the accounting costs no second
tokenization and uses exactly the masks training uses.
"""

from __future__ import annotations

import copy
from typing import Any

IGNORE_INDEX = -100
BATCH_ROWS = 1024


def count_rows(dataset: Any, max_length: int, truncation_mode: str = "keep_start",
               packing_strategy: str | None = None) -> dict[str, int]:
    """Counts for a tokenized, labelled, *untruncated* dataset at ``max_length``.

    Without packing, TRL keeps the first (``keep_start``) or last (``keep_end``) ``max_length``
    tokens and drops rows with no trained token left. ``bfd`` packing truncates like
    ``keep_start`` but drops nothing (such rows are packed and carry no loss: counted as
    dropped here too, since nothing is learnt from them); ``bfd_split`` and ``wrapped``
    lose no token, and rows longer than ``max_length`` are counted as ``split``.
    """
    import numpy as np

    cuts = packing_strategy in (None, "bfd")
    keep_end = packing_strategy is None and truncation_mode == "keep_end"
    totals = dict(rows_in=0, rows_trained=0, dropped=0, truncated=0, split=0, tokens_in=0,
                  trained_tokens_in=0, trained_tokens_lost=0, longest=0)
    for table in dataset.select_columns(["labels"]).with_format("arrow").iter(batch_size=BATCH_ROWS):
        for chunk in table.column("labels").chunks:
            offsets = chunk.offsets.to_numpy()
            lengths = np.diff(offsets)
            labels = chunk.values.to_numpy(zero_copy_only=False)[offsets[0]:offsets[-1]]
            rows = len(lengths)
            row_of = np.repeat(np.arange(rows), lengths)
            trained = labels != IGNORE_INDEX
            trained_in = np.bincount(row_of, weights=trained, minlength=rows).astype(np.int64)
            if cuts:
                position = np.arange(len(labels)) - np.repeat(offsets[:-1] - offsets[0], lengths)
                if keep_end:
                    outside = position < np.repeat(lengths - max_length, lengths)
                else:
                    outside = position >= max_length
                lost = np.bincount(row_of, weights=trained & outside, minlength=rows).astype(np.int64)
            else:
                lost = np.zeros(rows, dtype=np.int64)
            kept = trained_in - lost
            long = lengths > max_length
            totals["rows_in"] += rows
            totals["rows_trained"] += int(np.count_nonzero(kept > 0))
            totals["dropped"] += int(np.count_nonzero(kept == 0))
            if cuts:
                totals["truncated"] += int(np.count_nonzero(long & (kept > 0)))
            else:
                totals["split"] += int(np.count_nonzero(long))
            totals["tokens_in"] += int(lengths.sum())
            totals["trained_tokens_in"] += int(trained_in.sum())
            totals["trained_tokens_lost"] += int(lost.sum())
            if rows:
                totals["longest"] = max(totals["longest"], int(lengths.max()))
    return totals


_CLASS: Any = None


def sft_trainer_class() -> Any:
    """TRL's ``SFTTrainer`` with ``ftui_accounting`` ({dataset name: counts}) filled while it prepares data."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    from datasets import Dataset
    from trl import SFTTrainer

    class AccountingSFTTrainer(SFTTrainer):
        """SFTTrainer that counts what truncation and the empty-row filter cost (see the module docstring)."""

        def _prepare_dataset(self, dataset, processing_class, args, packing, formatting_func, dataset_name):  # noqa: ANN001, ANN202
            accounts = self.__dict__.setdefault("ftui_accounting", {})
            countable = (isinstance(dataset, Dataset) and args.max_length is not None
                         and "labels" not in dataset.column_names)  # ftui's pre-tokenized prompt/completion rows count too
            if not countable:
                return super()._prepare_dataset(dataset, processing_class, args, packing, formatting_func, dataset_name)
            full_args = copy.copy(args)  # the same switches, minus truncation and shuffling
            full_args.max_length = None
            full_args.shuffle_dataset = False
            full = super()._prepare_dataset(dataset, processing_class, full_args, False, formatting_func, dataset_name)
            counts = count_rows(full, args.max_length, args.truncation_mode, args.packing_strategy if packing else None)
            prepared = super()._prepare_dataset(full, processing_class, args, packing, None, dataset_name)
            if not packing:
                counts["rows_trained"] = len(prepared)  # what TRL kept: the prepared dataset is the authority
                counts["dropped"] = counts["rows_in"] - len(prepared)
            counts["max_seq_len"] = int(args.max_length)
            counts["packing"] = args.packing_strategy if packing else None
            accounts[dataset_name] = counts
            return prepared

    _CLASS = AccountingSFTTrainer
    return _CLASS
