"""Screenshots of every screen, and the canned data they show: ``python -m ftui.tui.screenshots``.

Nothing here is imported by the screens. ``scenario`` declares one picture, the per-mode
modules (``plan``, ``data``, ``train``, ``chat``, ``evaluate``) list their scenarios,
``runs`` and ``eval_session`` build the deterministic run logs and blind session the
pictures (and the snapshot tests) show, and ``__main__`` drives the app and saves the SVGs.
"""
