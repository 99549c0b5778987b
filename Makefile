# make demo: build and train on the embedded corpus; make test: build and run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the sources or the build files change.
$(STAMP): $(BIN)/python setup.py pyproject.toml $(wildcard fastw2v/*.pyx fastw2v/*.pxd src_c/*.c src_c/*.h)
	$(BIN)/python -m pip install --quiet -e ".[test,demo]"
	touch $(STAMP)

build: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m fastw2v.demo $(if $(CORPUS),--corpus "$(CORPUS)",)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf build $(VENV) *.egg-info fastw2v/*.so fastw2v/_*.c
