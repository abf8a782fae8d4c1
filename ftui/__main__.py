"""``python -m ftui`` — same as the ``ftui`` console script."""

from ftui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
