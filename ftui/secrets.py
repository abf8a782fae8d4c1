"""One scrubber for every error text that came from a remote endpoint or a library, and the
rules that keep secrets out of the files we write (config keys that look secret, URL credentials).

Why: an OpenAI-compatible server may echo the Authorization header in its error body
("Incorrect API key provided: Bearer sk-..."), and we print and store such errors. Every
path that prints or writes one (training events, evaluation, the judge, the CLI) passes it
through ``scrub_secrets`` so a key never reaches a terminal, a log or a file. It removes the
values of the secret environment variables (and any value the caller names), then anything
shaped like a bearer token or an OpenAI / Hugging Face key, even when cut short.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

SECRET_ENV_VARS = ("OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "WANDB_API_KEY", "AZURE_OPENAI_API_KEY")
REDACTED = "***"
_MIN_SECRET = 6  # shorter values ("x", "none") would blank out ordinary words

_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[^\s'\",;]+"),
    re.compile(r"(?i)(\b(?:api[_-]?key|authorization|x-api-key)[\"']?\s*[:=]\s*[\"']?)[^\s'\",;]+"),
    re.compile(r"()\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"()\bhf_[A-Za-z0-9]{10,}"),
)


def secret_values(extra: Iterable[str | None] = ()) -> list[str]:
    """The secret values to remove: those of the secret environment variables plus ``extra``."""
    values = [os.environ.get(name, "") for name in SECRET_ENV_VARS] + [v or "" for v in extra]
    # Longest first, so a key that contains another is removed whole.
    return sorted({v for v in values if len(v) >= _MIN_SECRET}, key=len, reverse=True)


def scrub_secrets(text: str, extra: Iterable[str | None] = ()) -> str:
    """``text`` with every known secret value and every key-shaped token replaced by ``***``."""
    if not text:
        return text
    for value in secret_values(extra):
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


SECRET_WORDS = ("token", "api_key", "apikey", "secret", "password", "passwd")


def looks_secret(name: str) -> bool:
    """Whether a key's name says it holds a secret: such a key is never written to a config file."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def strip_url_credentials(url: str) -> str:
    """``url`` without ``user:password@``: a base URL is saved, its credentials are not."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url
