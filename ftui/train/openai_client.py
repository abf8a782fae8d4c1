"""A thin layer over the ``openai`` client for fine-tuning jobs.

Why our own layer: the SDK retries quietly (``max_retries``) and sleeps with
``time.sleep``; we turn its retries off and retry here instead, so every wait is
visible in the run's event log ("rate limited, retrying in 4 s"), bounded, and
driven by an injected ``sleep`` in tests. Every library error is translated into
one :class:`OpenAIBackendError` carrying a message and the fix, with the API key
scrubbed out of both.

The key comes only from ``OPENAI_API_KEY``; it is passed to the client in memory
and never stored, logged or put into an error. ``openai`` is imported lazily so
importing this module stays cheap.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
REQUEST_TIMEOUT_S = 120.0  # per request; an upload of a big file may need the whole of it

T = TypeVar("T")


class OpenAIBackendError(Exception):
    """A failure the user can act on: ``message`` says what happened, ``hint`` the fix."""

    def __init__(self, message: str, hint: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status_code = status_code  # the HTTP status when the server answered one


def api_key_from_env() -> str:
    """The key, from ``OPENAI_API_KEY`` only (never a config file)."""
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise OpenAIBackendError(
            "OPENAI_API_KEY is not set",
            "set OPENAI_API_KEY in the environment (export OPENAI_API_KEY=...); ftui never stores the key",
        )
    return key


def resolve_base_url(config_value: str | None) -> str:
    """The config's ``openai_base_url``, else ``OPENAI_BASE_URL``, else the OpenAI API."""
    url = (config_value or os.environ.get(BASE_URL_ENV, "") or DEFAULT_BASE_URL).strip()
    return url.rstrip("/")


def display_url(url: str) -> str:
    """A base URL safe to show or store: any ``user:password@`` part is dropped."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced (errors from servers may echo the key)."""
    from ftui.secrets import scrub_secrets

    if secret and text:
        text = text.replace(secret, "[redacted key]")
    return scrub_secrets(text, (secret,))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and in each wait.

    The n-th retry waits ``min(cap, base * 2**(n-1))`` scaled by a random factor in
    ``[1 - jitter, 1]`` (so many clients do not retry in lock-step), or the server's
    ``Retry-After`` when that is longer, still capped.
    """

    attempts: int = 6
    base_s: float = 1.0
    cap_s: float = 60.0
    jitter: float = 0.5

    def delay(self, retry_number: int, rng: random.Random, retry_after: float | None = None) -> float:
        raw = min(self.cap_s, self.base_s * (2 ** (retry_number - 1)))
        wait = raw * (1.0 - self.jitter * rng.random())
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        return min(self.cap_s, max(0.0, wait))


def _retry_after_seconds(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) / divisor
            except ValueError:
                continue
    return None


def _is_transient(exc: Exception) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.RateLimitError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500 or exc.status_code == 408
    return False


def _status_label(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "request timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    if isinstance(exc, openai.RateLimitError):
        return "rate limited (429)"
    if isinstance(exc, openai.APIStatusError):
        return f"server error ({exc.status_code})"
    return type(exc).__name__


def _server_message(exc: Exception) -> str:
    """The human part of an API error body (``error.message``), else the exception text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return getattr(exc, "message", None) or str(exc)


def translate_error(exc: Exception, base_url: str, key: str | None, what: str) -> OpenAIBackendError:
    """One readable error (message + fix) for a failed call; the key never appears in it."""
    import openai

    shown = display_url(base_url)
    if isinstance(exc, openai.APIConnectionError):
        message = f"cannot reach {shown}: check the network or OPENAI_BASE_URL"
        hint = "check the network or OPENAI_BASE_URL (for a compatible service, set openai_base_url in the config)"
        if isinstance(exc, openai.APITimeoutError):
            message = f"{shown} did not answer in time while {what}: check the network or OPENAI_BASE_URL"
    elif isinstance(exc, openai.AuthenticationError):
        message = f"the API key was rejected by {shown} (401 Unauthorized)"
        hint = "set a valid key in OPENAI_API_KEY (check for a typo, a revoked key, or a key for another service)"
    elif isinstance(exc, openai.PermissionDeniedError):
        message = f"permission denied while {what} (403): {_server_message(exc)}"
        hint = "use a key whose project may fine-tune this model, or pick another openai_model"
    elif isinstance(exc, openai.RateLimitError):
        message = f"still rate limited (429) while {what} after several retries: {_server_message(exc)}"
        hint = "wait a few minutes and resume, or check the usage limits and billing of the account"
    elif isinstance(exc, openai.NotFoundError):
        message = f"not found (404) while {what}: {_server_message(exc)}"
        hint = "check openai_model and OPENAI_BASE_URL; a resumed job must belong to the same account"
    elif isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        message = f"{shown} kept failing ({exc.status_code}) while {what}: {_server_message(exc)}"
        hint = "the service is having trouble: try again later (a created job keeps running; resume to follow it)"
    elif isinstance(exc, openai.APIStatusError):
        message = f"the request was refused ({exc.status_code}) while {what}: {_server_message(exc)}"
        param = getattr(exc, "param", None)
        hint = f"fix `{param}` and start again" if param else "fix the request (model, data file or hyperparameters) and start again"
    else:
        message = f"unexpected error while {what}: {exc}"
        hint = "see the message; report a bug if it persists"
    return OpenAIBackendError(redact(message, key), redact(hint, key), getattr(exc, "status_code", None))


class FineTuneClient:
    """The calls the backend needs, each retried on 429/5xx/connection errors and translated on failure."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        sleep: Callable[[float], None],
        on_retry: Callable[[str], None] | None = None,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        import openai

        self.base_url = base_url
        self._key = api_key
        self._sleep = sleep
        self._on_retry = on_retry or (lambda _text: None)
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        # max_retries=0: the SDK's own retries would sleep invisibly and uninterruptibly.
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        attempts = max(1, self._policy.attempts)
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - every library error becomes one readable message
                if not _is_transient(exc) or attempt == attempts:
                    raise translate_error(exc, self.base_url, self._key, what) from None
                wait = self._policy.delay(attempt, self._rng, _retry_after_seconds(exc))
                self._on_retry(
                    redact(f"{_status_label(exc)} while {what}; retrying in {wait:.1f} s (attempt {attempt + 1}/{attempts})",
                           self._key)
                )
                self._sleep(wait)
        raise AssertionError("unreachable")

    # -- the endpoints -------------------------------------------------------------------

    def upload_file(self, path: Path) -> str:
        """POST /files (purpose ``fine-tune``); returns the file id."""
        def call() -> str:
            with open(path, "rb") as fh:
                return self._client.files.create(file=(path.name, fh), purpose="fine-tune").id
        return self._call(f"uploading {path.name}", call)

    def create_job(self, run_tag: str, **params: Any) -> Any:
        """POST /fine_tuning/jobs, tagged ``metadata.ftui_run = run_tag``.

        Creation is not idempotent: a 5xx or a dropped connection may hide a job that was
        in fact created. So a retry first looks the tag up and adopts that job rather than
        starting (and paying for) a second one.
        """
        jobs = self._client.fine_tuning.jobs
        tries = 0

        def call() -> Any:
            nonlocal tries
            tries += 1
            if tries > 1:
                found = jobs.list(metadata={"ftui_run": run_tag}, limit=1).data
                if found:
                    return found[0]
            return jobs.create(**params, metadata={"ftui_run": run_tag})

        return self._call("creating the fine-tuning job", call)

    def retrieve_job(self, job_id: str) -> Any:
        return self._call(f"reading job {job_id}", lambda: self._client.fine_tuning.jobs.retrieve(job_id))

    def cancel_job(self, job_id: str) -> Any:
        return self._call(f"cancelling job {job_id}", lambda: self._client.fine_tuning.jobs.cancel(job_id))

    def events_page(self, job_id: str, after: str | None = None, limit: int = 100) -> Any:
        """One page of job events, newest first (``after`` = an event id: the page after it, i.e. older)."""
        kwargs: dict[str, Any] = {"limit": limit}
        if after:
            kwargs["after"] = after
        return self._call(f"reading events of {job_id}",
                          lambda: self._client.fine_tuning.jobs.list_events(job_id, **kwargs))

    def checkpoints_page(self, job_id: str, after: str | None = None, limit: int = 100) -> Any:
        kwargs: dict[str, Any] = {"limit": limit}
        if after:
            kwargs["after"] = after
        return self._call(f"reading checkpoints of {job_id}",
                          lambda: self._client.fine_tuning.jobs.checkpoints.list(job_id, **kwargs))
