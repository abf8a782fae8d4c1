"""Where a model comes from: the demo name, a local directory, or a Hugging Face Hub id.

The one resolver. Training (model info, tokenizer, merge), evaluation (generation, system
fingerprints), the token counter and the advisor (config.json lookup) all turn a user's
``model`` string into something loadable here, so "demo", "./my-model" and "org/name" mean
the same thing on every path, and an unreachable Hub model fails the same way everywhere:
one line that names the fix (``hf download ...``). Nothing here downloads weights; only
``config_file`` may fetch a single config.json, and only when the Hub is reachable and allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from ftui.models import hub
from ftui.models.demo import DEMO_NAME

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")

#: how a Hub id is treated: "skip" passes it through untouched (no probe), "auto" swaps in the cached
#: snapshot when the Hub is off limits or out of reach, "cache" always wants a local directory.
HubPolicy = Literal["skip", "auto", "cache"]


class ModelSourceError(ValueError):
    """The model cannot be found where it was said to be; the message is one line with the fix."""


def is_demo(name: str) -> bool:
    return name.strip().lower() == DEMO_NAME


def is_hub_id(name: str) -> bool:
    """Shaped like ``org/name`` and not a path (no leading ``.``, ``/`` or ``~``)."""
    return bool(HUB_ID.match(name)) and not name.startswith((".", "/", "~"))


def resolve_model(name_or_path: str, *, hub_policy: HubPolicy = "auto") -> str:
    """What ``from_pretrained`` is given for ``name_or_path``.

    ``demo`` -> the built demo model directory (built on first use); an existing local path ->
    unchanged; a Hub id -> itself, or (``hub_policy``) its cached snapshot directory when the Hub
    is off limits (``HF_HUB_OFFLINE``) or unreachable, so no caller waits on 23 s of network retries.
    Raises ModelSourceError when a local directory is required or the Hub is out of reach and the
    model is not cached.
    """
    if is_demo(name_or_path):
        from ftui.models.demo import ensure_demo_model

        return str(ensure_demo_model())
    if hub_policy == "skip" or Path(name_or_path).expanduser().exists() or not is_hub_id(name_or_path):
        return name_or_path  # a missing local path is left for from_pretrained to name
    if hub_policy == "cache":
        snapshot = hub.cached_snapshot(name_or_path)
        if snapshot is None:
            raise ModelSourceError(
                f"the model {name_or_path!r} is neither a local directory nor in the Hugging Face cache. "
                f"Fix: run 'hf download {name_or_path}' or pass a local model directory."
            )
        return str(snapshot)
    offline = hub.offline_requested()
    reason = None if offline else hub.unreachable_reason()
    if not offline and reason is None:
        return name_or_path
    snapshot = hub.cached_snapshot(name_or_path)
    if snapshot is None:
        raise ModelSourceError(hub.no_hub_message(name_or_path, reason))
    return str(snapshot)


def config_file(model: str) -> Path:
    """The config.json of ``model`` (``demo``, a model directory, a config.json path, or a Hub id).

    A Hub id is read from the local cache first; otherwise config.json alone is fetched, unless
    the Hub is off limits or out of reach (then ModelSourceError with the ``hf download`` fix).
    """
    model = model.strip()
    if is_demo(model):
        from ftui import paths

        config = paths.demo_model_dir() / "config.json"
        if not config.is_file():
            from ftui.models.demo import ensure_demo_model

            config = ensure_demo_model() / "config.json"
        return config
    path = Path(model).expanduser()
    if path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise ModelSourceError(f"{path} has no config.json: point at the model directory that holds one.")
        return config
    if path.is_file():
        return path
    if not is_hub_id(model):
        raise ModelSourceError(f"{model!r} is not 'demo', an existing local path, or a Hub id like org/name.")
    cached = hub.cached_config(model)
    if cached is not None:
        return cached
    if hub.offline_requested():
        raise ModelSourceError(
            f"{model!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it. "
            f"Fix: unset HF_HUB_OFFLINE (or run 'hf download {model} config.json' on a connected machine), "
            "or pass a local model directory."
        )
    reason = hub.unreachable_reason()
    if reason is not None:
        raise ModelSourceError(
            f"{model!r} is not in the local Hugging Face cache and the Hub cannot be reached ({reason}). "
            f"Fix: run 'hf download {model} config.json' on a connected machine, or pass a local model directory."
        )
    try:
        return hub.download_config(model)
    except Exception as exc:  # noqa: BLE001 - network, auth, 404: one line with the fix
        raise ModelSourceError(
            f"could not fetch config.json for {model!r} from the Hugging Face Hub ({type(exc).__name__}). "
            "Check the id and your network / HF_TOKEN, or pass a local model directory."
        ) from None
