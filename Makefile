# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
BOOT := .uv
UV := $(BOOT)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install system-deps demo test lint typecheck unit clean

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

# Debian packages the tests need, as package:probe pairs; the probe is a path (glob allowed) that
# exists once the package is installed. Add more on later lines, e.g.
#   SYSTEM_PACKAGES += chromium:/usr/bin/chromium
SYSTEM_PACKAGES := postgresql:/usr/lib/postgresql/*/bin/initdb chromium:/usr/bin/chromium
SYSTEM_PACKAGES += r-cran-metafor:/usr/lib/R/site-library/metafor
# WeasyPrint (PDF reports) needs Pango; the report tests render PDF pages with pdftoppm.
SYSTEM_PACKAGES += libpango-1.0-0:/usr/lib/*/libpango-1.0.so.0 poppler-utils:/usr/bin/pdftoppm
SYSTEM_PACKAGES += fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

system-deps:
	@missing=""; \
	for pair in $(SYSTEM_PACKAGES); do \
		ls $${pair#*:} >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "The tests need these Debian packages:$$missing" >&2; \
		echo "Install them with: sudo apt-get install -y --no-install-recommends$$missing" >&2; \
		exit 1; \
	fi; \
	install="apt-get install -y --no-install-recommends$$missing"; \
	echo "Installing Debian packages:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$install || { apt-get update && $$install; }

demo: install
	$(VENV)/bin/lupus-msc demo

lint: install
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

typecheck: install
	$(VENV)/bin/mypy src

unit: install system-deps
	$(VENV)/bin/pytest -n 2 --dist loadfile

test: lint typecheck unit

clean:
	rm -rf $(BOOT) $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
