# powerfit: `make demo` and `make test` are the two commands a new user needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.deps-stamp
export CARGO_BUILD_JOBS ?= 2

.PHONY: demo test test-rust test-python build bench lint stubtest docs clean

$(PY):
	python3 -m venv $(VENV)

EXTRAS ?= test lint bench

# The package's own dependencies and extras (pyproject.toml is the one list).
$(STAMP): pyproject.toml tools/requirements.py | $(PY)
	$(PIP) install -q --upgrade pip
	$(PY) tools/requirements.py $(EXTRAS) > $(VENV)/requirements.txt
	$(PIP) install -q -r $(VENV)/requirements.txt
	touch $(STAMP)

# Rebuilds the extension (release, LTO) into the venv; cargo skips work when nothing changed.
build: $(STAMP)
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/maturin develop --release -q

demo: build
	$(VENV)/bin/powerfit demo --outdir powerfit-demo

test-rust:
	cargo test --workspace --release -q

test-python: build
	$(PY) -m pytest -q

test: test-rust test-python stubtest

stubtest: build
	$(PY) -m mypy.stubtest powerfit._core --allowlist stubtest-allowlist.txt

bench: build
	$(PY) benches/bench.py

# The documentation site (Sphinx; the tutorial notebook is executed): offline, warnings are errors.
DOCS_STAMP := $(VENV)/.docs-stamp
DOCS_OUT ?= docs/_build/html

$(DOCS_STAMP): pyproject.toml tools/requirements.py | $(PY)
	$(PY) tools/requirements.py docs > $(VENV)/requirements-docs.txt
	$(PIP) install -q -r $(VENV)/requirements-docs.txt
	touch $(DOCS_STAMP)

docs: build $(DOCS_STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html docs $(DOCS_OUT)
	@echo "docs: $(DOCS_OUT)/index.html"

lint: $(STAMP)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --release -- -D warnings
	$(VENV)/bin/ruff check python tests benches tools
	$(VENV)/bin/ruff format --check python tests benches tools
	$(PY) -m mypy

clean:
	cargo clean
	rm -rf $(VENV)
