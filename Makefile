# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
BOOT := .uv
UV := $(BOOT)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test lint typecheck unit clean

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/lupus-msc demo

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: install
	$(VENV)/bin/mypy src

unit: install
	$(VENV)/bin/pytest -n 2 --dist loadfile

test: lint typecheck unit

clean:
	rm -rf $(BOOT) $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
