"""Whether transformers may swap layers for kernels fetched from the Hugging Face Hub at load time.

transformers 5.x does so by default on CUDA (``use_kernels`` unset means on): loading a Llama-shaped model
kernelizes its rotary embedding with ``kernels-community/rotary``, downloaded when the model loads or at
its first step. On a GPU box without internet, or with ``HF_HUB_OFFLINE=1`` and every model already in the
cache, QLoRA and LoRA then failed ("Version 2 of 'kernels-community/rotary' is not available in the local
cache"), and without the ``kernels`` package every CUDA load failed ("Kernels are not available"). Measured
on an H200 (bench/gpu_train.py). A run must not depend on code fetched at load time, so ftui loads models
without Hub kernels; a user who wants them sets transformers' own switch, ``USE_HUB_KERNELS=1``.
"""

from __future__ import annotations

import os
from typing import Any

_TRUE = ("1", "true", "yes", "on")


def hub_kernels_asked() -> bool:
    """True only when the user set ``USE_HUB_KERNELS`` to a true value (transformers' default, unset, is on)."""
    return os.environ.get("USE_HUB_KERNELS", "").strip().lower() in _TRUE


def load_kwargs() -> dict[str, Any]:
    """The ``from_pretrained`` keyword that keeps Hub kernels out unless the user asked for them."""
    return {} if hub_kernels_asked() else {"use_kernels": False}
