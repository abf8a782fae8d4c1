"""``python -m ftui.data.lint PROFILE MAX_DETAILED PATH [EVAL_PATH]``: the lint child process of ``stream.lint_in_child``."""

import sys

from ftui.data.lint.stream import child_main

if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1:]))
