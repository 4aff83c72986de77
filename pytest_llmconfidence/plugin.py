"""The pytest entry point: options, marker, fixtures and hooks, each delegating to the core.

Loading this module imports neither openai, vcr, httpx nor pydantic: they load on first judge use.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import pytest

from . import _config
from ._config import ConfigValueError, JudgeConfig

if TYPE_CHECKING:
    from ._judge import Judge

MARKER_HELP = (
    "llm(model=..., threshold=..., top_logprobs=..., max_tokens=..., record_mode=..., true_labels=..., "
    "false_labels=...): per-test overrides of the pytest-llmconfidence judge."
)


class RunState:
    """What the run knows: its configuration and every record reported by the tests.

    Registered as a plugin of its own, so its hooks see the run's state without globals.
    """

    def __init__(self, config: JudgeConfig) -> None:
        # A plain class (hashable by identity, as pluggy needs): no dataclass to build at every load.
        self.config = config
        self.records: list[dict[str, Any]] = []
        self.calibrate: Any = None
        self.written: list[Any] = []
        self.calibration_cache: list[Any] | None = None

    def calibration(self) -> list[Any] | None:
        """The calibration report of the labelled verdicts (with --llm-calibration), computed once."""
        if not self.config.calibration or not self.records:
            return None
        if self.calibration_cache is None:
            from . import _calibration

            self.calibration_cache = _calibration.calibration_report(self.records)
        return self.calibration_cache

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = getattr(report, "llm_records", None)
        if records:
            self.records.extend(records)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write --llm-report, --llm-html and the GitHub step summary (on the xdist controller only)."""
        github = os.environ.get("GITHUB_STEP_SUMMARY")
        wanted = self.config.report or self.config.html or (github and self.records)
        if wanted and not hasattr(session.config, "workerinput"):
            from ._report import write_reports

            self.written = write_reports(
                self.records,
                json_path=self.config.report,
                html_path=self.config.html,
                github_summary=github,
                band=self.config.borderline,
                threshold=self.config.threshold,
                calibration=self.calibration(),
            )

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> None:
        """The "llm confidence summary" section (lines computed by _report) and the files written."""
        if self.records and self.config.summary != "off" and not hasattr(config, "workerinput"):
            from ._report import summarize, summary_lines

            summary = summarize(self.records, band=self.config.borderline, threshold=self.config.threshold)
            width = config.get_terminal_writer().fullwidth
            terminalreporter.write_sep("=", "llm confidence summary")
            for line in summary_lines(summary, self.config.summary, width=width):
                for text, markup in line:
                    terminalreporter.write(text, **markup)
                terminalreporter.line("")
            for extra in config.hook.pytest_llmconfidence_summary(records=list(self.records), config=config):
                for text in [extra] if isinstance(extra, str) else extra or ():
                    terminalreporter.line(str(text))
        calibration = self.calibration()
        if calibration is not None and not hasattr(config, "workerinput"):
            from ._calibration import report_lines

            terminalreporter.write_sep("=", "llm calibration")
            for text in report_lines(calibration):
                terminalreporter.write_line(text)
        for written in self.written:
            if written.error:
                terminalreporter.write_line(
                    f"could not write {written.label} to {written.path}: {written.error}", red=True
                )
            elif written.label != "GitHub step summary":
                terminalreporter.write_sep("-", f"generated {written.label}: {written.path}")


STATE = pytest.StashKey[RunState]()
ITEM_RECORDS = pytest.StashKey[list[Any]]()
ITEM_ATTACHED = pytest.StashKey[int]()
ITEM_MIN_CONFIDENCE = pytest.StashKey[float]()
MIN_CONFIDENCE_PROPERTY = "llm_min_confidence"


def pytest_addoption(parser: pytest.Parser) -> None:
    _config.add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspec

    pluginmanager.add_hookspecs(hookspec)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    state = RunState(config=_config.resolve_config(config))
    if state.config.calibration_file is not None:
        from . import _calibration

        try:
            maps = _calibration.load_maps(state.config.calibration_file)
        except ValueError as exc:
            raise pytest.UsageError(f"pytest-llmconfidence: llm_calibration_file: {exc}") from None
        state.calibrate = _calibration.calibrator(maps)
    config.stash[STATE] = state
    config.pluginmanager.register(state, "llmconfidence-run")


def run_state(config: pytest.Config) -> RunState:
    return config.stash[STATE]


@pytest.hookimpl(trylast=True)
def pytest_llmconfidence_build_messages(
    question: str, response: str | None, context: str | None, config: JudgeConfig
) -> list[dict[str, str]]:
    from ._prompt import default_messages

    return default_messages(question, response, context)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def judge_config(request: pytest.FixtureRequest) -> JudgeConfig:
    """The judge's resolved, frozen configuration for this test (options, then the llm marker)."""
    __tracebackhide__ = True
    config = run_state(request.config).config
    for marker in reversed(list(request.node.iter_markers("llm"))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.llm takes keyword arguments only, got {marker.args!r}")
        try:
            config = _config.apply_overrides(config, marker.kwargs, where="@pytest.mark.llm")
        except ConfigValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config


@pytest.fixture(scope="session")
def judge_client(pytestconfig: pytest.Config) -> Generator[Any, None, None]:
    """The openai.OpenAI client the judge uses (one per session); override it in a conftest."""
    from ._judge import build_client

    client = build_client(run_state(pytestconfig).config)
    yield client
    client.close()


@pytest.fixture(scope="session")
def judge_async_client(pytestconfig: pytest.Config) -> Generator[Any, None, None]:
    """The openai.AsyncOpenAI client of judge.acheck (one per session, made on first acheck)."""
    import asyncio

    from ._judge import build_async_client

    client = build_async_client(run_state(pytestconfig).config)
    yield client
    asyncio.run(client.close())


@pytest.fixture
def _llm_cassette(request: pytest.FixtureRequest, judge_config: JudgeConfig) -> Generator[Any, None, None]:
    """The test's cassette, active for the rest of the test (or for the judge only, by llm_record_scope)."""
    __tracebackhide__ = True
    from ._recording import activate, cassette_path

    item = request.node
    path = cassette_path(judge_config.cassette_dir, request.config.rootpath, item.path, item.nodeid)
    with activate(
        path, record_mode=judge_config.record_mode, scope=judge_config.record_scope, nodeid=item.nodeid
    ) as cassette:
        yield cassette


@pytest.fixture(autouse=True)
def _llm_marker_cassette(request: pytest.FixtureRequest) -> None:
    """A test marked ``llm`` gets its cassette even when it does not use the judge."""
    if request.node.get_closest_marker("llm") is not None:
        request.getfixturevalue("_llm_cassette")


@pytest.fixture
def judge(
    request: pytest.FixtureRequest, judge_config: JudgeConfig, judge_client: Any, _llm_cassette: Any
) -> Judge:
    """A judge for this test: judge(question, response) -> Verdict with the confidence of its token."""
    from ._judge import Judge

    item = request.node
    hook = item.ihook

    def build_messages(
        question: str, response: str | None, context: str | None, config: JudgeConfig
    ) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = hook.pytest_llmconfidence_build_messages(
            question=question, response=response, context=context, config=config
        )
        return messages

    def on_verdict(verdict: Any) -> None:
        record(item, verdict)
        hook.pytest_llmconfidence_verdict(item=item, verdict=verdict)

    return Judge(
        judge_config,
        judge_client,
        build_messages=build_messages,
        on_verdict=on_verdict,
        send=_llm_cassette.send,
        asend=_llm_cassette.asend,
        calibrate=run_state(request.config).calibrate,
        async_client=lambda: request.getfixturevalue("judge_async_client"),
    )


def record(item: pytest.Item, result: Any) -> None:
    """Keep a verdict (or any object with ``to_record()``) for the test's report and the summary."""
    item.stash.setdefault(ITEM_RECORDS, []).append(result)


_CURRENT_ITEM: ContextVar[pytest.Item | None] = ContextVar("llmconfidence_current_item", default=None)


def record_current(result: Any) -> bool:
    """Record ``result`` for the test whose call phase is running here (False outside a test)."""
    item = _CURRENT_ITEM.get()
    if item is None:
        return False
    record(item, result)
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    token = _CURRENT_ITEM.set(item)
    try:
        return (yield)
    finally:
        _CURRENT_ITEM.reset(token)


# --- records travel on the test reports (the same path with and without xdist) -----------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    results = item.stash.get(ITEM_RECORDS, None)
    if results:
        attached = item.stash.get(ITEM_ATTACHED, 0)
        new = results[attached:]
        item.stash[ITEM_ATTACHED] = len(results)
        if new:
            records = []
            for result in new:
                data = result.to_record()
                data.setdefault("kind", "verdict")
                data["test_id"] = item.nodeid
                records.append(data)
            report.llm_records = records
            _record_min_confidence(item, report, records)
        if report.failed:
            text = "\n\n".join(result.describe() for result in results)
            report.sections.append(("llm verdicts", text))
    return report


def _record_min_confidence(
    item: pytest.Item, report: pytest.TestReport, records: list[dict[str, Any]]
) -> None:
    """Keep the test's lowest verdict confidence as a user property (a JUnit XML property)."""
    found = [r["confidence"] for r in records if r["kind"] == "verdict" and "confidence" in r]
    if not found:
        return
    lowest = min([*found, item.stash.get(ITEM_MIN_CONFIDENCE, 1.0)])
    item.stash[ITEM_MIN_CONFIDENCE] = lowest
    for properties in (item.user_properties, report.user_properties):
        properties[:] = [p for p in properties if p[0] != MIN_CONFIDENCE_PROPERTY]
        properties.append((MIN_CONFIDENCE_PROPERTY, round(lowest, 6)))
