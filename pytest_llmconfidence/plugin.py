"""The pytest entry point: options, marker, fixtures and hooks, each delegating to ``_plugin``.

The run's state and the hooks only the controller runs are ``_plugin.run``; what each test's phases do is
``_plugin.item``; cassettes are ``_plugin.recording``; what the fixtures build is ``_plugin.fixtures``.
Loading this module imports neither openai, vcr, httpx nor pydantic: they load on first judge use.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ._plugin.item import RECORDING, headlined, make_report, record, running, test_status
from ._plugin.options import add_options, early_record_mode
from ._plugin.run import STATE, configure, placeholders, run_state, unconfigure

if TYPE_CHECKING:
    from ._judge.judge import Judge
    from ._settings import JudgeConfig

__all__ = ["record"]

MARKER_HELP = (
    "llm(model=..., threshold=..., top_logprobs=..., max_tokens=..., record_mode=..., true_labels=..., "
    "false_labels=..., watch=..., watch_min=..., watch_by=..., watch_strict=..., panel=[...]): per-test "
    "overrides of the pytest-llmconfidence judge (panel: the models every judge(...) asks, pooled)."
)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    placeholders(early_config, early_record_mode(early_config))


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspec

    pluginmanager.add_hookspecs(hookspec)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    unconfigure(config)


@pytest.hookimpl(trylast=True)
def pytest_llmconfidence_build_messages(
    question: str, response: str | None, context: str | None, config: JudgeConfig
) -> list[dict[str, str]]:
    from ._scoring.prompts import default_messages

    return default_messages(question, response, context, reason=config.reason)


@pytest.hookimpl(trylast=True)
def pytest_llmconfidence_build_graded_messages(
    question: str,
    response: str | None,
    context: str | None,
    labels: tuple[str, ...],
    options: tuple[str, ...],
) -> list[dict[str, str]]:
    from ._scoring.graded import graded_messages

    return graded_messages(question, response, context, labels, options)


@pytest.hookimpl(trylast=True)
def pytest_llmconfidence_build_pairwise_messages(
    question: str, response_a: str, response_b: str, context: str | None
) -> list[dict[str, str]]:
    from ._scoring.pairwise import pairwise_messages

    return pairwise_messages(question, response_a, response_b, context)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def judge_config(request: pytest.FixtureRequest) -> JudgeConfig:
    """The judge's resolved, frozen configuration for this test (options, then the llm marker)."""
    __tracebackhide__ = True
    from ._plugin.recording import item_config

    return item_config(request.node)


@pytest.fixture(scope="session")
def judge_client(pytestconfig: pytest.Config) -> Generator[Any, None, None]:
    """The openai.OpenAI client the judge uses (one per session); override it in a conftest."""
    from ._plugin.fixtures import make_client

    client = make_client(pytestconfig)
    yield client
    client.close()


@pytest.fixture(scope="session")
def judge_async_client(pytestconfig: pytest.Config) -> Generator[Any, None, None]:
    """The openai.AsyncOpenAI client of judge.acheck (one per session, made on first acheck)."""
    import asyncio

    from ._plugin.fixtures import make_async_client

    client = make_async_client(pytestconfig)
    yield client
    asyncio.run(client.close())


@pytest.fixture
def _llm_cassette(request: pytest.FixtureRequest) -> Any:
    """The test's cassette, active from before its first fixture to after its last (``_recording``)."""
    __tracebackhide__ = True
    from ._plugin.fixtures import test_cassette

    return test_cassette(request.node)


@pytest.fixture
def llm_responses(request: pytest.FixtureRequest, judge_config: JudgeConfig, _llm_cassette: Any) -> Any:
    """The app's scored responses in this test so far (``ResponseConfidence``), in order; needs --llm-watch.

    A live list: ``assert llm_responses[-1].at_least(0.8)`` checks the answer the code just received.
    """
    __tracebackhide__ = True
    from ._plugin.fixtures import app_responses

    return app_responses(request.node)


@pytest.fixture
def judge(
    request: pytest.FixtureRequest, judge_config: JudgeConfig, judge_client: Any, _llm_cassette: Any
) -> Judge:
    """A judge for this test: judge(question, response) -> Verdict with the confidence of its token."""
    from ._plugin.fixtures import make_judge

    return make_judge(request, judge_config, judge_client, _llm_cassette)


# --- each test's phases (records travel on the test reports, with and without xdist) ----------


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """The test's cassette (and, replaying only, the socket guard) before its first fixture is set up."""
    state = run_state(item.config)
    state.item = item
    if state.involved(item):
        from ._plugin.recording import start

        start(item)
    return (yield from headlined(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """While the test runs, ``response_confidence()`` records into the test's records."""
    return (yield from running(item))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """The test's cassette is written after its last fixture (and the wider ones it ends) is torn down."""
    run_state(item.config).item = item
    try:
        return (yield from headlined(item, keep=False))
    finally:
        if RECORDING in item.stash:
            from ._plugin.recording import stop

            stop(item)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, Any, Any]:
    """A fixture of a wider scope than the test, set up for a recorded test, records into a cassette."""
    if fixturedef.scope == "function" or not run_state(request.config).records_fixture(fixturedef):
        return (yield)
    from ._plugin.recording import fixture_setup

    return (yield from fixture_setup(fixturedef, request))


def pytest_fixture_post_finalizer(fixturedef: Any, request: pytest.FixtureRequest) -> None:
    """A wider fixture's cassette, active again while the fixture was torn down, is written."""
    state = request.config.stash.get(STATE, None)
    if state is not None and fixturedef in state.fixture_cassettes:
        from ._plugin.recording import fixture_torn_down

        fixture_torn_down(state, fixturedef)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    make_report(item, call, report)
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """In ``-v``, a judged test's outcome carries its lowest verdict confidence: ``PASSED [true 0.97]``."""
    return test_status(report, config)


FIXTURES = ("judge", "judge_config", "judge_client", "judge_async_client", "llm_responses")
_HOOKS = tuple(name for name in globals() if name.startswith("pytest_"))
_SCANNED = (*FIXTURES, "_llm_cassette", *_HOOKS)


def __getattr__(name: str) -> Any:
    """``JudgeConfig``, importable from this module as before, loaded only when asked for."""
    if name == "JudgeConfig":
        from ._settings import JudgeConfig

        return JudgeConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The hooks and fixtures: all that pytest and pluggy look for when they scan this module.

    Both walk ``dir()`` of a plugin at start-up and inspect every name; listing only these keeps
    loading the plugin cheap in runs that never judge.
    """
    return list(_SCANNED)
