"""Entry shim for ``python -m ftui.train CONFIG.yaml`` and ``accelerate launch -m ftui.train CONFIG.yaml``.

The code is ``ftui.commands.launch`` (the CLI side). An ``__main__`` module is an entry
point, not part of its package: the layer contract (``ftui/layers.toml``) lets entry
shims import the faces and forbids every module from importing a shim.
"""

from ftui.commands.launch import main

if __name__ == "__main__":
    raise SystemExit(main())
