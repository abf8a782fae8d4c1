"""Seed-independent 64-bit keys for texts, for the linter's hash tables.

Why not ``hash()``: Python salts str hashes per process, and a large file is linted by
several processes whose tables are merged (``ftui.data.lint.parallel``). xxh3 on the UTF-8 bytes
gives every process the same key, and on bytes it is cheaper than ``hash`` on a fresh
str -- the columnar path hands it pyarrow's bytes without building a str at all.
"""

from __future__ import annotations

from xxhash import xxh3_64_intdigest as bytes_key


def text_key(text: str) -> int:
    """The key of ``text`` (an unsigned 64-bit int); equal to ``bytes_key`` of its UTF-8 bytes."""
    return bytes_key(text.encode("utf-8", "surrogatepass"))


__all__ = ["bytes_key", "text_key"]
