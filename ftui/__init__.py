"""ftui — a terminal workbench for fine-tuning LLMs.

Only the version lives here: importing ``ftui`` must stay instant, so nothing heavy
(torch, transformers, textual) is imported eagerly.
"""

__version__ = "0.1.0"
