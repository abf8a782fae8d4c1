"""Datasets: format detection, reading huge JSONL lazily, linting, dedup, split, stats. No Textual here."""
