from __future__ import annotations

import contextlib
import os

# pytester's in-process runs unload the modules they import; these must stay loaded across runs
# (yaml's C parts cannot be loaded twice; httpx2 keeps a map of httpcore2's exception classes, and
# httpx, under openai before 3, one of httpcore's).
import sys
from collections.abc import Iterator

import pytest
import vcr.patch  # noqa: F401
from fake_openai import FakeOpenAI

# The plugin's own modules too: an entry-point plugin's modules are assertion-rewritten on every fresh
# import, and re-parsing them in each in-process run trips CPython 3.11.7's "AST constructor recursion
# depth mismatch" once worker threads of earlier runs have compiled code concurrently.
import pytest_llmconfidence._calibration.certify
import pytest_llmconfidence._calibration.fit
import pytest_llmconfidence._calibration.labelled
import pytest_llmconfidence._calibration.metrics
import pytest_llmconfidence._calibration.report
import pytest_llmconfidence._judge.judge
import pytest_llmconfidence._judge.transport
import pytest_llmconfidence._recording.cassette
import pytest_llmconfidence._report.html
import pytest_llmconfidence._report.json_report
import pytest_llmconfidence._report.markdown
import pytest_llmconfidence._report.output
import pytest_llmconfidence._report.summary
import pytest_llmconfidence._report.terminal
import pytest_llmconfidence._report.watch_summary
import pytest_llmconfidence._scoring.prompts
import pytest_llmconfidence._scoring.response
import pytest_llmconfidence._scoring.results
import pytest_llmconfidence._watch  # noqa: F401

for _transport_core in ("httpcore2", "httpcore"):
    with contextlib.suppress(ImportError):
        __import__(_transport_core)

_ENV = (
    "AZURE_OPENAI_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "LLM_JUDGE_MODEL",
    "LLM_RECORD_MODE",
    "CI",
    "GITHUB_STEP_SUMMARY",
    "PYTEST_ADDOPTS",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no key, no endpoint and no CI flag unless they set them."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester, with pytest-asyncio off (it warns in every run lacking its ini option), and no cache of
    rewritten test modules: a test file rewritten within the same second at the same size (a recorded
    run, then a changed one) would otherwise be served from the first run's bytecode."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:asyncio")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return pytester


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_fake_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The scripted OpenAI-compatible endpoint on 127.0.0.1, reset for this test."""
    default = _fake_server.default
    _fake_server.rules.clear()
    _fake_server.requests.clear()
    yield _fake_server
    _fake_server.rules.clear()
    _fake_server.requests.clear()
    _fake_server.default = default


@pytest.fixture
def judged(pytester: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A pytester project whose judge talks to the fake endpoint (record mode none is not forced)."""
    _fake_judge_ini(pytester, fake_openai)
    os.environ.pop("CI", None)
    return pytester


def _fake_judge_ini(pytester: pytest.Pytester, fake_openai: FakeOpenAI, *more: str) -> None:
    """An ini file pointing the judge at the fake endpoint, with ``more`` ini lines."""
    lines = [f"llm_base_url = {fake_openai.base_url}", "llm_model = fake-judge", *more]
    pytester.makeini("[pytest]\n" + "\n".join(lines) + "\n")


@pytest.fixture
def priced(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """``judged``, with the fake judge priced at $1,000 a million input and output tokens."""
    _fake_judge_ini(judged, fake_openai, "llm_prices = fake-judge 1000 1000")
    return judged
