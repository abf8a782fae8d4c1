"""Training preflight: everything checked about a RunConfig before a run starts.

- ``checks.field_checks``: the instant checks (``ftui.config.check_fields``, the device's syntax, a model
  directory that is not there), which the Train form runs on every keystroke.
- ``checks.validate``: those plus the deep ones (datasets, this machine, the model, the memory),
  each problem with its field and fix.
- ``estimate``: THE RunConfig -> VRAM-estimate mapping (``train_setup``); ``ftui plan``, the
  Train form, ``ftui train --check`` and the ``started`` event all price a run through it.
- ``verdict.preflight``: the one-line memory verdict the Train form shows, with the cheapest fix.
"""

from ftui.train.preflight.checks import field_checks, validate
from ftui.train.preflight.verdict import Preflight, preflight

__all__ = ["Preflight", "field_checks", "preflight", "validate"]
