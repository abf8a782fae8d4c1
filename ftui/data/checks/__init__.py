"""The lint check catalogue and the functions that implement each check.

``catalogue`` holds every id with its severity, title and fix; ``structure`` checks one
row's shape per format; ``content`` scans text for noise, PII, placeholders and special
tokens; ``tokens`` counts tokens (real tokenizer or a labelled estimate); ``corpus``
holds the file-wide state (duplicates, dominant system prompt, outliers, labels).
"""
