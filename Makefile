# Two commands a new user needs: `make demo` and `make test`. Each sets up everything
# it needs (virtual environment, PyTorch, the package) on a fresh machine.
#
# PyTorch is installed first and pinned, so the rest resolves against it: on a CPU-only
# machine that is the CPU wheel (no CUDA downloads); on a GPU box the same pin gives the
# CUDA build. Override with `make TORCH_SPEC=torch==X.Y.Z ...`.

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PIP := $(VENV)/bin/pip
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ftui-installed

.PHONY: demo test test-stress lint screenshots bench setup clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip 2>/dev/null || true
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[dev]"
	$(PY) -m compileall -q ftui  # what a regular install does: no start-up spent compiling our modules
	@# the tests' assert-rewritten bytecode too: each pytest worker otherwise rewrites every test module (~6 CPU-s)
	-PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -p no:cacheprovider --collect-only >/dev/null
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ftui demo-model
	$(VENV)/bin/ftui

# One pytest worker per core; a test file stays on one worker (its module fixtures are built once).
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: pytest caches the tests' assert rewriting
# in __pycache__ (git-ignored); without it every worker of every run rewrote all test modules again.
TEST_WORKERS ?= auto
PYTEST := PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=15

test: $(STAMP)
	$(PYTEST)

# The suite three times in a row while another process keeps one core busy: a test that
# waits on time instead of state fails here. Any failure stops it.
test-stress: $(STAMP)
	@$(PY) -c "while True: pass" & hog=$$!; trap "kill $$hog" EXIT; \
	for i in 1 2 3; do echo "== stress run $$i/3 (one core busy, pid $$hog)"; $(PYTEST) || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .

screenshots: $(STAMP)
	$(PY) -m ftui.tui.screenshots

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
