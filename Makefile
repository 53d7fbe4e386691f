# Set-up and everyday commands. Each target creates its own virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of torch by default. GPU users: make install TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
EXTRAS ?= dev,distributed

.PHONY: install demo test lint bench clean

$(BIN)/biomodels: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	touch $@

install: $(BIN)/biomodels

demo: install
	$(BIN)/biomodels demo --out runs/demo

test: install
	$(BIN)/ruff check biomodels tests benchmarks pipelines
	$(BIN)/ruff format --check biomodels tests benchmarks pipelines
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/featurize.py

clean:
	rm -rf $(VENV) runs .pytest_cache
