"""Evaluation: generation, automatic metrics, LLM-as-judge, blind A/B sessions and statistics. No Textual here."""
