# make demo: build and train on the embedded corpus; make test: build and run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# the demo needs matplotlib only; the tests also torch, gensim and jax (pinned: Python 3.11+)
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
SOURCES := setup.py pyproject.toml $(wildcard fastw2v/*.pyx fastw2v/*.pxd src_c/*.c src_c/*.h)

.PHONY: demo test build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the sources or the build files change.
$(DEMO_STAMP): $(BIN)/python $(SOURCES)
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	touch $(DEMO_STAMP)

# (what the tests install serves the demo too)
$(TEST_STAMP): $(BIN)/python $(SOURCES)
	$(BIN)/python -m pip install --quiet -e ".[test,demo]"
	touch $(TEST_STAMP) $(DEMO_STAMP)

build: $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python -m fastw2v.demo $(if $(CORPUS),--corpus "$(CORPUS)",)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf build $(VENV) *.egg-info fastw2v/*.so fastw2v/_*.c
