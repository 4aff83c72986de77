"""The pytest entry point: options, marker, fixtures and hooks, each delegating to the core.

Loading this module imports neither openai, vcr, httpx nor pydantic: they load on first judge use.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from . import _settings
from ._plugin import options as _options
from ._report import records as _records
from ._settings import ConfigValueError, JudgeConfig

if TYPE_CHECKING:
    from ._judge.judge import Judge

MARKER_HELP = (
    "llm(model=..., threshold=..., top_logprobs=..., max_tokens=..., record_mode=..., true_labels=..., "
    "false_labels=..., watch=..., watch_min=..., watch_by=..., watch_strict=..., panel=[...]): per-test "
    "overrides of the pytest-llmconfidence judge (panel: the models every judge(...) asks, pooled)."
)


class RunState:
    """What the run knows: its configuration and every record reported by the tests.

    Registered as a plugin of its own, so its hooks see the run's state without globals.
    """

    def __init__(self, config: JudgeConfig, *, worker: bool = False) -> None:
        self.config = config
        self.worker = worker
        """On an xdist worker the records travel to the controller on the reports; none are kept here."""
        self._packed: list[str] = []
        """Each test report's records as one JSON text: compact while the run lasts, read at its end."""
        self._records: list[dict[str, Any]] = []
        self.calibrate: Any = None
        self.certified: Any = None
        self.written: list[Any] = []
        self._calibration: list[Any] | None = None
        self.baseline: dict[str, Any] | None = None
        self.comparison: Any = None
        self.summarising = False
        """Set when the terminal summary starts: its short summary lines keep pytest's own words."""
        self.item: pytest.Item | None = None
        """The test being set up, run or torn down (whose set-up a wider fixture's belongs to)."""
        self.fixture_cassettes: dict[Any, Any] = {}
        """The cassettes of the wider fixtures set up and not yet torn down, by fixture definition."""
        self.recorded_fixtures: frozenset[str] | None = None
        """The fixtures that the session's recorded tests use (made on first need)."""
        self._summary: Any = None
        self._prices: Any = None
        self._budget: Any = None
        self.batch_queued: list[dict[str, Any]] = []
        """Judge requests the tests queued for the Batch API (record mode batch), from every worker."""
        self.batch_lines: list[str] = []
        self._batch_book: Any = None
        self.ledger: str | None = None
        """The budget's ledger file shared by the xdist workers (``--llm-max-cost`` under ``-n``)."""

    def batch_book(self) -> Any:
        """``.llm-batch.json`` beside the cassettes, read once per process (record mode batch)."""
        if self._batch_book is None:
            from ._recording.batch_api import STATE_NAME, BatchBook

            self._batch_book = BatchBook(self.config.cassette_dir / STATE_NAME)
        return self._batch_book

    def collect_batches(self) -> None:
        """At the start of a batch-mode run: the answers of the batches that ended written to cassettes."""
        from ._judge.transport import build_client
        from ._recording.batch_api import collect

        book = self.batch_book()
        if not book.batches:
            return
        client = build_client(self.config.base_url)
        try:
            found = collect(client, book, self.config.cassette_dir, self.config.base_url, self.prices())
        except Exception as exc:
            from ._recording.secrets import redact

            raise pytest.UsageError(
                f"pytest-llmconfidence: could not collect the batches of {book.path}: "
                f"{type(exc).__name__}: {redact(str(exc))}"
            ) from None
        finally:
            client.close()
        self.batch_lines.extend(found.lines())

    def submit_batch(self) -> str | None:
        """At the end of a batch-mode run: the queued requests uploaded as one batch."""
        from ._judge.transport import build_client
        from ._recording.batch_api import RUN_AGAIN, submit

        client = build_client(self.config.base_url)
        try:
            batch_id = submit(client, self.batch_book(), self.batch_queued)
        except Exception as exc:
            from ._recording.secrets import redact

            self.batch_lines.append(
                f"could not create the batch of {len(self.batch_queued)} judge requests: "
                f"{type(exc).__name__}: {redact(str(exc))}; run `{RUN_AGAIN}` again to retry"
            )
            return None
        finally:
            client.close()
        self.batch_lines.append(
            f"batch {batch_id}: {len(self.batch_queued)} judge requests queued (noted in "
            f"{self.batch_book().path.name}); run `{RUN_AGAIN}` again once it has completed (within 24 h)"
        )
        return batch_id

    def budget(self) -> Any:
        """The run's ``Budget`` of live judge calls (``--llm-max-cost``), or None without a limit."""
        if self._budget is None and self.config.max_cost is not None:
            from pathlib import Path

            from ._judge.budget import Budget

            ledger = Path(self.ledger) if self.ledger else None
            self._budget = Budget(self.config.max_cost, self.prices(), ledger)
        return self._budget

    def prices(self) -> Any:
        """The run's ``PriceTable``: the shipped prices, ``llm_prices_file``'s over them, ``llm_prices``'s
        over both; made on first use (a bad file is a ValueError saying what is wrong)."""
        if self._prices is None:
            from ._report.cost import PriceTable, load_price_file

            extra = load_price_file(self.config.prices_file) if self.config.prices_file else {}
            self._prices = PriceTable({**extra, **dict(self.config.prices)})
        return self._prices

    def __dir__(self) -> list[str]:
        """Its hooks: all that pytest and pluggy look for when it is registered (see ``__dir__`` below)."""
        return ["pytest_runtest_logreport", "pytest_sessionfinish", "pytest_terminal_summary"]

    def calibration(self) -> list[Any] | None:
        """The calibration report of the labelled verdicts (with --llm-calibration), computed once."""
        if self._calibration is None and self.config.calibration and self.records:
            from ._calibration.metrics import TARGETS
            from ._calibration.report import calibration_report

            accuracies = sorted({*TARGETS, *([self.config.certified] if self.config.certified else [])})
            self._calibration = calibration_report(self.records, certify_for=accuracies)
        return self._calibration

    def summary(self) -> Any:
        """The run's summary (``_report.summary.Summary``), built once, after the last test: every
        writer (terminal, JSON, HTML, Markdown) prints this one."""
        if self._summary is None:
            from ._report.summary import summarize

            c = self.config
            self._summary = summarize(self.records, band=c.borderline, threshold=c.threshold)
        return self._summary

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record the tests reported, in the order they arrived (read from the packed texts)."""
        if self._packed:
            import json

            for text in self._packed:
                self._records.extend(json.loads(text))
            self._packed.clear()
        return self._records

    def has_records(self) -> bool:
        """Whether any test reported a record (without reading them)."""
        return bool(self._packed or self._records)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the report's records as JSON text, and take them off the report (which pytest keeps
        to the end of the run): a judged test costs the run a few hundred bytes, not its objects."""
        found = getattr(report, "llm_records", None)
        if found and not self.worker:
            import json

            self._packed.append(json.dumps(found))
            del report.llm_records
        self.batch_queued.extend(getattr(report, "llm_batch_queued", ()))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write --llm-report, --llm-html and the GitHub step summary (on the xdist controller only)."""
        if self.batch_queued and not _worker(session.config):
            batch_id = self.submit_batch()
            if batch_id is not None:
                from ._plugin.adapters import name_batch

                name_batch(session.config, batch_id)
        github, c = os.environ.get("GITHUB_STEP_SUMMARY"), self.config
        if (c.report or c.html or (github and self.has_records())) and not _worker(session.config):
            from ._report.output import write_reports

            self.written = write_reports(
                self.summary(),
                c,
                github_summary=github,
                calibration=self.calibration(),
                baseline=self.compared(),
            )
        comparison = self.compared()
        if c.fail_on_drop and comparison is not None and comparison.failing and not _worker(session.config):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def compared(self) -> Any:
        """The comparison with --llm-baseline (None without one, or before it exists), computed once."""
        if self.comparison is None and self.baseline is not None:
            from ._report.baseline import compare

            self.comparison = compare(self.baseline, self.records, margin=self.config.baseline_margin)
        return self.comparison

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """The "llm confidence summary" section, the calibration report and the files written."""
        self.summarising = True
        if (self.has_records() or self.written) and not _worker(config):
            from ._report.terminal import write_terminal

            def extra() -> Any:
                return config.hook.pytest_llmconfidence_summary(records=list(self.records), config=config)

            width = config.get_terminal_writer().fullwidth
            summary = self.summary() if self.config.summary != "off" else None  # off: no records read
            write_terminal(
                terminalreporter, summary, self.config, width, extra, self.calibration(), self.written
            )
        if self.batch_lines and not _worker(config):
            terminalreporter.write_sep("=", "llm batch")
            for line in self.batch_lines:
                terminalreporter.write_line(line)
        budget = self.budget()
        if budget is not None and not _worker(config):
            from ._report.cost import dollars

            spent, refused = budget.spent()
            line = f"llm budget: {dollars(spent)} of {dollars(budget.limit)} spent on live judge calls"
            if refused:
                line += f"; {refused} call{'s' if refused != 1 else ''} not sent (llm_max_cost)"
            terminalreporter.write_line(line, red=bool(refused))
        if self.config.baseline is not None and not _worker(config):
            from ._report.baseline import write_baseline_section

            write_baseline_section(terminalreporter, self.config, self.compared())


def _worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


STATE = pytest.StashKey[RunState]()
ITEM_RECORDS = pytest.StashKey[_records.TestRecords]()
WATCHER = pytest.StashKey[Any]()
WATCH_NEEDS_TEST_SCOPE = (
    "pytest-llmconfidence: --llm-watch (llm_watch) scores the app's calls through the test's cassette, "
    'which holds them only with llm_record_scope = "test"; with "judge" nothing is watched.'
)
PLACEHOLDERS = pytest.StashKey[list[str]]()
CONFIG = pytest.StashKey[JudgeConfig]()
RECORDING = pytest.StashKey[Any]()
"""The test's recording: its ``ActiveCassette``, or what refuses its LLM calls when it has none."""
RECORDED_BY = ("judge", "llm_responses", "_llm_cassette")
"""A test that uses one of these fixtures (or the ``llm`` marker) has a cassette."""
PROGRESS = pytest.StashKey[Any]()
BATCH = pytest.StashKey[Any]()
"""The test's ``TestBatch`` in record mode batch: the requests it queued travel on its report."""
TEST_ERROR = pytest.StashKey[BaseException]()
"""What the test's call raised, if anything: its cassette is not written when the test errored."""


def _placeholders(config: pytest.Config, record_mode: str) -> None:
    """With no key and a run that replays, placeholder keys for the session (clients built at import)."""
    if PLACEHOLDERS not in config.stash:
        config.stash[PLACEHOLDERS] = _settings.set_placeholders() if record_mode != "all" else []


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    _placeholders(early_config, _options.early_record_mode(early_config))


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspec

    pluginmanager.add_hookspecs(hookspec)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    state = RunState(_options.resolve_config(config), worker=_worker(config))
    if state.config.calibration_file is not None or state.config.certified or state.config.cascade:
        from ._calibration.fit import run_calibrator

        try:
            state.calibrate, state.certified = run_calibrator(state.config)
        except ValueError as exc:
            raise pytest.UsageError(f"pytest-llmconfidence: {exc}") from None
    if state.config.baseline is not None and state.config.baseline.exists():
        from ._errors import ReportFileError
        from ._report.baseline import load_report

        try:
            state.baseline = load_report(state.config.baseline, what="baseline (llm_baseline)")
        except ReportFileError as exc:
            raise pytest.UsageError(f"pytest-llmconfidence: {exc}") from None
    if state.config.prices_file is not None:
        try:
            state.prices()
        except ValueError as exc:
            raise pytest.UsageError(f"pytest-llmconfidence: llm_prices_file: {exc}") from None
    if state.config.secret_env or "pytest_llmconfidence._recording.secrets" in sys.modules:
        from ._recording.secrets import secret_env

        secret_env(state.config.secret_env)  # this run's names, not an earlier run's in this process
    config.stash[STATE] = state
    config.pluginmanager.register(state, "llmconfidence-run")
    if state.config.max_cost is not None:
        _share_ledger(config, state)
    if state.config.record_mode == "batch" and not _worker(config):
        state.collect_batches()
    if state.config.watch and state.config.record_scope != "test" and not _worker(config):
        config.issue_config_time_warning(pytest.PytestConfigWarning(WATCH_NEEDS_TEST_SCOPE), stacklevel=2)
    _placeholders(config, state.config.record_mode)


class _LedgerForWorkers:
    """Hands each xdist worker the budget's ledger file (a hook only xdist's controller calls)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["llmconfidence_ledger"] = self.path


def _share_ledger(config: pytest.Config, state: RunState) -> None:
    """With --llm-max-cost: a worker takes the controller's ledger file; the controller under xdist makes one
    in a temporary folder of the run (removed at the end) and hands it to the workers."""
    if _worker(config):
        state.ledger = config.workerinput.get("llmconfidence_ledger")  # type: ignore[attr-defined]
    elif config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None):
        import tempfile

        folder = tempfile.mkdtemp(prefix="llmconfidence-ledger-")
        state.ledger = os.path.join(folder, "ledger.json")
        config.pluginmanager.register(_LedgerForWorkers(state.ledger), "llmconfidence-ledger")
        config.add_cleanup(functools.partial(_remove_folder, folder))


def _remove_folder(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    names = config.stash.get(PLACEHOLDERS, None)
    if names:
        _settings.clear_placeholders(names)


def run_state(config: pytest.Config) -> RunState:
    return config.stash[STATE]


def records_of(item: pytest.Item) -> _records.TestRecords:
    """The test's records (verdicts, responses), made on first use."""
    found = item.stash.get(ITEM_RECORDS, None)
    if found is None:
        found = item.stash[ITEM_RECORDS] = _records.TestRecords(item.nodeid, run_state(item.config).prices)
    return found


def record(item: pytest.Item, result: Any) -> None:
    """Keep a verdict (or any object with ``to_record()`` and ``describe()``) for the test's report."""
    records_of(item).add(result)


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


def test_config(item: pytest.Item) -> JudgeConfig:
    """The judge's configuration for ``item``: the run's options, then its ``llm`` markers (made once)."""
    __tracebackhide__ = True
    found = item.stash.get(CONFIG, None)
    if found is not None:
        return found
    config = run_state(item.config).config
    for marker in reversed(list(item.iter_markers("llm"))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.llm takes keyword arguments only, got {marker.args!r}")
        try:
            config = _settings.apply_overrides(config, marker.kwargs, where="@pytest.mark.llm")
        except ConfigValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    item.stash[CONFIG] = config
    return config


@pytest.fixture
def judge_config(request: pytest.FixtureRequest) -> JudgeConfig:
    """The judge's resolved, frozen configuration for this test (options, then the llm marker)."""
    __tracebackhide__ = True
    return test_config(request.node)


@pytest.fixture(scope="session")
def judge_client(pytestconfig: pytest.Config) -> Generator[Any, None, None]:
    """The openai.OpenAI client the judge uses (one per session); override it in a conftest."""
    from ._judge.transport import build_client

    client = build_client(run_state(pytestconfig).config.base_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def judge_async_client(pytestconfig: pytest.Config) -> Generator[Any, None, None]:
    """The openai.AsyncOpenAI client of judge.acheck (one per session, made on first acheck)."""
    import asyncio

    from ._judge.transport import build_async_client

    client = build_async_client(run_state(pytestconfig).config.base_url)
    yield client
    asyncio.run(client.close())


@pytest.fixture
def _llm_cassette(request: pytest.FixtureRequest) -> Any:
    """The test's cassette, active from before its first fixture to after its last (``_recording``)."""
    __tracebackhide__ = True
    item = request.node
    recording = _start(item, force=True)
    return recording.cassette


def _errored(error: BaseException | None) -> bool:
    """Whether a test stopped on an error (a server error, a bug, a skip, Ctrl-C), not a failed check.

    A failed assertion (or ``pytest.fail``) ends a complete recording, whose replay fails the same way;
    any other exception may have cut the recording short, and writing it would truncate the cassette.
    """
    return error is not None and not isinstance(error, (AssertionError, pytest.fail.Exception))


def _watcher(item: pytest.Item, c: JudgeConfig) -> Any:
    """The test's watcher of the app's calls (``--llm-watch``), kept on the item; None in judge scope."""
    if c.record_scope != "test":
        if not item.config.stash[STATE].config.watch:  # the run warned already when watching is global
            import warnings

            warnings.warn(pytest.PytestWarning(WATCH_NEEDS_TEST_SCOPE), stacklevel=2)
        return None
    from ._watch import Watcher

    watcher = item.stash[WATCHER] = Watcher(
        records_of(item), by=c.watch_by, minimum=c.watch_min, strict=c.watch_strict
    )
    return watcher


@pytest.fixture
def llm_responses(request: pytest.FixtureRequest, judge_config: JudgeConfig, _llm_cassette: Any) -> Any:
    """The app's scored responses in this test so far (``ResponseConfidence``), in order; needs --llm-watch.

    A live list: ``assert llm_responses[-1].at_least(0.8)`` checks the answer the code just received.
    """
    __tracebackhide__ = True
    watcher = request.node.stash.get(WATCHER, None)
    if watcher is None:
        raise pytest.UsageError(
            "the llm_responses fixture lists the app's responses only while they are watched: run with "
            "--llm-watch (ini llm_watch = true, or @pytest.mark.llm(watch=True)) "
            'and llm_record_scope = "test"'
        )
    from ._watch import AppResponses

    return AppResponses(watcher)


@pytest.fixture
def judge(
    request: pytest.FixtureRequest, judge_config: JudgeConfig, judge_client: Any, _llm_cassette: Any
) -> Judge:
    """A judge for this test: judge(question, response) -> Verdict with the confidence of its token."""
    from ._judge.judge import Judge
    from ._judge.transport import Transport
    from ._plugin.adapters import PluginHooks

    item = request.node
    transport = Transport(
        judge_client,
        async_client=lambda: request.getfixturevalue("judge_async_client"),
        cassette=_llm_cassette,
        watch=_progress(request.config, item.nodeid),
        budget=run_state(request.config).budget(),
        batch=_test_batch(request, judge_config, _llm_cassette),
    )
    state = run_state(request.config)
    hooks = PluginHooks(item.ihook, item, records_of(item), state.calibrate, state.certified)
    return Judge(judge_config, transport, hooks=hooks)


def _test_batch(request: pytest.FixtureRequest, judge_config: JudgeConfig, cassette: Any) -> Any:
    """In record mode batch, the test's part in the batch (kept on the item for its report); else None."""
    if judge_config.record_mode != "batch":
        return None
    from ._recording.batch_api import TestBatch

    state = run_state(request.config)
    try:
        relative = str(cassette.path.relative_to(state.config.cassette_dir))
    except ValueError:
        relative = str(cassette.path)
    found = request.node.stash[BATCH] = TestBatch(state.batch_book(), request.node.nodeid, relative)
    return found


def _progress(config: pytest.Config, nodeid: str) -> Any:
    """In ``-v``, outside xdist workers (no terminal): a line while a live call waits (llm_progress_delay)."""
    delay = run_state(config).config.progress_delay
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if delay is None or config.get_verbosity() < 1 or _worker(config) or reporter is None:
        return None
    if PROGRESS not in config.stash:
        from ._plugin.progress import Progress, terminal_writer

        capture = config.pluginmanager.get_plugin("capturemanager")
        config.stash[PROGRESS] = Progress(terminal_writer(reporter, capture), delay)
    return functools.partial(config.stash[PROGRESS].waiting, nodeid=nodeid)


# --- records travel on the test reports (the same path with and without xdist) -----------------


def _miss_headlined(item: pytest.Item, *, keep: bool = True) -> Generator[None, None, None]:
    """Around a phase of the test: a replay miss (inside the app's client too) is what the phase fails
    with (``CassetteMissError``); with ``keep``, what it failed with is kept for its cassette."""
    try:
        return (yield)
    except BaseException as exc:
        from ._plugin.recording import as_miss

        error = as_miss(exc)
        if keep:
            item.stash[TEST_ERROR] = error
        if type(exc).__name__ == "BatchQueuedError":  # record mode batch: a later run answers it
            raise pytest.skip.Exception(str(exc), _use_item_location=True) from None
        if error is exc:
            raise
        raise error from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """While the test runs, ``response_confidence()`` records into the test's records."""
    with _records.running(records_of(item)):
        yield from _miss_headlined(item)
    records = item.stash.get(ITEM_RECORDS, None)
    if records is not None and records.results:
        from ._plugin.adapters import warn_unasserted

        warn_unasserted(item, records.unasserted())


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """The test's cassette (and, replaying only, the socket guard) before its first fixture is set up."""
    run_state(item.config).item = item
    if _llm_involved(item):
        _start(item)
    return (yield from _miss_headlined(item))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """The test's cassette is written after its last fixture (and the wider ones it ends) is torn down."""
    run_state(item.config).item = item
    try:
        return (yield from _miss_headlined(item, keep=False))
    finally:
        recording = item.stash.get(RECORDING, None)
        if recording is not None:
            del item.stash[RECORDING]
            recording.stop(_errored(item.stash.get(TEST_ERROR, None)))


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, Any, Any]:
    """A fixture of a wider scope than the test records into a cassette of its own, beside the tests'
    (``<cassette_dir>/<module or conftest folder>/<name>.<scope>.yaml``), whichever test sets it up."""
    if fixturedef.scope == "function":
        return (yield)
    state = run_state(request.config)
    item = state.item
    if item is None or not (_recorded(item) or fixturedef.argname in _recorded_fixtures(state, item)):
        return (yield)
    c = test_config(item)
    if c.record_scope != "test":
        return (yield)
    from ._plugin import recording

    path = recording.fixture_cassette_path(c.cassette_dir, request.config.rootpath, fixturedef, request)
    if path is None:
        return (yield)
    cassette = recording.fixture_cassette(
        path, config=c, nodeid=item.nodeid, fixture=fixturedef.argname, scope=fixturedef.scope
    )
    result = yield from recording.around_setup(cassette)
    state.fixture_cassettes[fixturedef] = cassette
    fixturedef.addfinalizer(cassette.activate)  # finalizers run last-in first: before its own tear-down
    return result


def pytest_fixture_post_finalizer(fixturedef: Any, request: pytest.FixtureRequest) -> None:
    """A wider fixture's cassette, active again while the fixture was torn down, is written."""
    state = request.config.stash.get(STATE, None)
    cassette = state.fixture_cassettes.pop(fixturedef, None) if state is not None else None
    if cassette is not None:
        cassette.deactivate()
        cassette.save()


def _start(item: pytest.Item, *, force: bool = False) -> Any:
    """The test's recording (its cassette, or the refusal of its LLM calls), started once."""
    __tracebackhide__ = True
    found = item.stash.get(RECORDING, None)
    if found is not None and (found.cassette is not None or not force):
        return found
    from ._plugin import recording

    c = test_config(item)
    if force or _recorded(item):
        if found is not None:  # the refusal of a test that asked for the judge while it ran
            found.stop(False)
        from ._recording.cassette import cassette_path

        watcher = _watcher(item, c) if c.watch else None
        path = cassette_path(c.cassette_dir, item.config.rootpath, item.path, item.nodeid)
        found = recording.TestRecording(path, config=c, nodeid=item.nodeid, watcher=watcher)
    elif c.record_mode == "none" and c.record_scope == "test":
        found = recording.refusal(item.nodeid)
    if found is not None:
        item.stash[RECORDING] = found
    return found


def _recorded_fixtures(state: RunState, item: pytest.Item) -> frozenset[str]:
    """The fixtures that the session's recorded tests use: set up by another test, they are recorded too."""
    if state.recorded_fixtures is None:
        items = getattr(item.session, "items", None) or [item]
        state.recorded_fixtures = frozenset(
            name for other in items if _recorded(other) for name in getattr(other, "fixturenames", ())
        )
    return state.recorded_fixtures


def _llm_involved(item: pytest.Item) -> bool:
    """Whether the test may make LLM calls the plugin must record or refuse (cheap when it cannot)."""
    state = run_state(item.config)
    c = state.config
    if c.record_tests == "all" or c.record_mode == "none":
        return True
    return _recorded(item)


def _recorded(item: pytest.Item) -> bool:
    """Whether ``item`` has a cassette: llm_record_tests = all, or it uses the judge, llm_responses or
    the llm marker."""
    if run_state(item.config).config.record_tests == "all":
        return True
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker("llm") is not None or any(name in names for name in RECORDED_BY)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    watcher = item.stash.get(WATCHER, None)
    if watcher is not None and watcher.strict and call.when == "call":
        from ._plugin.adapters import apply_strict

        xfail = item.get_closest_marker("xfail")
        apply_strict(report, watcher, xfail.kwargs.get("raises") if xfail else None)
    records = item.stash.get(ITEM_RECORDS, None)
    if records is not None:
        records.attach(report, item.user_properties)
    batch = item.stash.get(BATCH, None)
    if batch is not None and batch.queued and call.when == "call":
        report.llm_batch_queued = batch.queued
    if report.longrepr is not None or report.sections:
        from ._recording.secrets import redact_report

        redact_report(report)
    if call.when == "teardown":  # the test is over: its results (pydantic objects) are not kept
        for key in (ITEM_RECORDS, WATCHER, TEST_ERROR):
            if key in item.stash:
                del item.stash[key]
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """In ``-v``, a judged test's outcome carries its lowest verdict confidence: ``PASSED [true 0.97]``."""
    if report.when != "call" or config.get_verbosity() < 1 or hasattr(report, "wasxfail"):
        return None
    state = config.stash.get(STATE, None)
    if state is None or state.summarising:  # "FAILED <nodeid> - msg" in the short summary, as tools parse it
        return None
    if report.outcome not in ("passed", "failed"):
        return None
    verdicts = [
        r for r in getattr(report, "llm_records", ()) if r.get("kind") == "verdict" and "confidence" in r
    ]
    if not verdicts:
        return None
    from ._text import value_text

    lowest = min(verdicts, key=lambda r: float(r["confidence"]))
    word = f"{report.outcome.upper()} [{value_text(lowest.get('value'))} {float(lowest['confidence']):.2f}]"
    letter = "." if report.passed else "F"
    return report.outcome, letter, (word, {"green": True} if report.passed else {"red": True})


FIXTURES = ("judge", "judge_config", "judge_client", "judge_async_client", "llm_responses")
_HOOKS = tuple(name for name in globals() if name.startswith("pytest_"))
_SCANNED = (*FIXTURES, "_llm_cassette", *_HOOKS)


def __dir__() -> list[str]:
    """The hooks and fixtures: all that pytest and pluggy look for when they scan this module.

    Both walk ``dir()`` of a plugin at start-up and inspect every name; listing only these keeps
    loading the plugin cheap in runs that never judge.
    """
    return list(_SCANNED)
