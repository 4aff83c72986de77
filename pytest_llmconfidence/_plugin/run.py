"""The run: its state (``RunState``, in every process) and the hooks only the process that reports runs
(``Controller``: the xdist controller, or the one process of a run without xdist).

xdist workers keep what a test needs (its configuration, the budget, the batch book) and send their
records to the controller on the test reports; the controller alone gathers them, prints the summary and
writes the report files. The controller's hooks are an object registered on the controller only, so no
hook asks whether it runs on a worker.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from .. import _settings
from .._settings import JudgeConfig
from .options import resolve_config

__all__ = ["STATE", "Controller", "RunState", "configure", "placeholders", "run_state", "unconfigure"]

WATCH_NEEDS_TEST_SCOPE = (
    "pytest-llmconfidence: --llm-watch (llm_watch) scores the app's calls through the test's cassette, "
    'which holds them only with llm_record_scope = "test"; with "judge" nothing is watched.'
)
RECORDED_BY = ("judge", "llm_responses", "_llm_cassette")
"""A test that uses one of these fixtures (or the ``llm`` marker) has a cassette."""


def _worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class RunState:
    """What every process of the run knows: its configuration and what the tests share."""

    def __init__(self, config: JudgeConfig, *, worker: bool = False) -> None:
        self.config = config
        self.worker = worker
        """On an xdist worker the records travel to the controller on the reports; none are kept here."""
        self.calibrate: Any = None
        self.certified: Any = None
        self.baseline: dict[str, Any] | None = None
        self.summarising = False
        """Set when the terminal summary starts: its short summary lines keep pytest's own words."""
        self.item: pytest.Item | None = None
        """The test being set up, run or torn down (whose set-up a wider fixture's belongs to)."""
        self.fixture_cassettes: dict[Any, Any] = {}
        """The cassettes of the wider fixtures set up and not yet torn down, by fixture definition."""
        self.recorded_fixtures: frozenset[str] | None = None
        """The fixtures that the session's recorded tests use (made on first need)."""
        self._prices: Any = None
        self._budget: Any = None
        self._batch_book: Any = None
        self.ledger: str | None = None
        """The budget's ledger file shared by the xdist workers (``--llm-max-cost`` under ``-n``)."""

    def batch_book(self) -> Any:
        """``.llm-batch.json`` beside the cassettes, read once per process (record mode batch)."""
        if self._batch_book is None:
            from .._recording.batch_api import STATE_NAME, BatchBook

            self._batch_book = BatchBook(self.config.cassette_dir / STATE_NAME)
        return self._batch_book

    def budget(self) -> Any:
        """The run's ``Budget`` of live judge calls (``--llm-max-cost``), or None without a limit."""
        if self._budget is None and self.config.max_cost is not None:
            from pathlib import Path

            from .._judge.budget import Budget

            ledger = Path(self.ledger) if self.ledger else None
            self._budget = Budget(self.config.max_cost, self.prices(), ledger)
        return self._budget

    def prices(self) -> Any:
        """The run's ``PriceTable``: the shipped prices, ``llm_prices_file``'s over them, ``llm_prices``'s
        over both; made on first use (a bad file is a ValueError saying what is wrong)."""
        if self._prices is None:
            from .._report.cost import PriceTable, load_price_file

            extra = load_price_file(self.config.prices_file) if self.config.prices_file else {}
            self._prices = PriceTable({**extra, **dict(self.config.prices)})
        return self._prices

    def recorded(self, item: pytest.Item) -> bool:
        """Whether ``item`` has a cassette: llm_record_tests = all, or it uses the judge, llm_responses or
        the llm marker."""
        if self.config.record_tests == "all":
            return True
        names = getattr(item, "fixturenames", ())
        return item.get_closest_marker("llm") is not None or any(name in names for name in RECORDED_BY)

    def records_fixture(self, fixturedef: Any) -> bool:
        """Whether a wider fixture set up now gets a cassette: it is set up within a recorded test, or the
        session's recorded tests use it (another test may set it up first)."""
        item = self.item
        if item is None:
            return False
        if self.recorded(item):
            return True
        if self.recorded_fixtures is None:
            items = getattr(item.session, "items", None) or [item]
            self.recorded_fixtures = frozenset(
                name for other in items if self.recorded(other) for name in getattr(other, "fixturenames", ())
            )
        return fixturedef.argname in self.recorded_fixtures

    def involved(self, item: pytest.Item) -> bool:
        """Whether the test may make LLM calls the plugin must record or refuse (cheap when it cannot)."""
        c = self.config
        return c.record_tests == "all" or c.record_mode == "none" or self.recorded(item)


class Controller:
    """The hooks of the process that reports: it gathers every test's records, prints the summary and
    writes the reports. Registered on the xdist controller (or the one process without xdist) only."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.config = state.config
        self._packed: list[str] = []
        """Each test report's records as one JSON text: compact while the run lasts, read at its end."""
        self._records: list[dict[str, Any]] = []
        self.written: list[Any] = []
        self._calibration: list[Any] | None = None
        self.comparison: Any = None
        self._summary: Any = None
        self.batch_queued: list[dict[str, Any]] = []
        """Judge requests the tests queued for the Batch API (record mode batch), from every worker."""
        self.batch_lines: list[str] = []

    def __dir__(self) -> list[str]:
        """Its hooks: all that pytest and pluggy look for when it is registered."""
        return ["pytest_runtest_logreport", "pytest_sessionfinish", "pytest_terminal_summary"]

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

    def summary(self) -> Any:
        """The run's summary (``_report.summary.Summary``), built once, after the last test: every
        writer (terminal, JSON, HTML, Markdown) prints this one."""
        if self._summary is None:
            from .._report.summary import summarize

            c = self.config
            self._summary = summarize(self.records, band=c.borderline, threshold=c.threshold)
        return self._summary

    def calibration(self) -> list[Any] | None:
        """The calibration report of the labelled verdicts (with --llm-calibration), computed once."""
        if self._calibration is None and self.config.calibration and self.records:
            from .._calibration.metrics import TARGETS
            from .._calibration.report import calibration_report

            accuracies = sorted({*TARGETS, *([self.config.certified] if self.config.certified else [])})
            self._calibration = calibration_report(self.records, certify_for=accuracies)
        return self._calibration

    def compared(self) -> Any:
        """The comparison with --llm-baseline (None without one, or before it exists), computed once."""
        if self.comparison is None and self.state.baseline is not None:
            from .._report.baseline import compare

            self.comparison = compare(self.state.baseline, self.records, margin=self.config.baseline_margin)
        return self.comparison

    def collect_batches(self) -> None:
        """At the start of a batch-mode run: the answers of the batches that ended written to cassettes."""
        from .._recording.batch_api import collect

        book = self.state.batch_book()
        if not book.batches:
            return
        with _client(self.config) as client:
            try:
                found = collect(
                    client, book, self.config.cassette_dir, self.config.base_url, self.state.prices()
                )
            except Exception as exc:
                raise pytest.UsageError(
                    f"pytest-llmconfidence: could not collect the batches of {book.path}: {_failure(exc)}"
                ) from None
        self.batch_lines.extend(found.lines())

    def submit_batch(self) -> str | None:
        """At the end of a batch-mode run: the queued requests uploaded as one batch."""
        from .._recording.batch_api import RUN_AGAIN, submit

        queued = len(self.batch_queued)
        with _client(self.config) as client:
            try:
                batch_id = submit(client, self.state.batch_book(), self.batch_queued)
            except Exception as exc:
                self.batch_lines.append(
                    f"could not create the batch of {queued} judge requests: {_failure(exc)}; "
                    f"run `{RUN_AGAIN}` again to retry"
                )
                return None
        noted = self.state.batch_book().path.name
        self.batch_lines.append(
            f"batch {batch_id}: {queued} judge requests queued (noted in {noted}); "
            f"run `{RUN_AGAIN}` again once it has completed (within 24 h)"
        )
        return batch_id

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the report's records as JSON text, and take them off the report (which pytest keeps
        to the end of the run): a judged test costs the run a few hundred bytes, not its objects."""
        found = getattr(report, "llm_records", None)
        if found:
            import json

            self._packed.append(json.dumps(found))
            del report.llm_records
        self.batch_queued.extend(getattr(report, "llm_batch_queued", ()))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Submit the queued batch; write --llm-report, --llm-html and the GitHub step summary."""
        if self.batch_queued:
            batch_id = self.submit_batch()
            if batch_id is not None:
                from .adapters import name_batch

                name_batch(session.config, batch_id)
        github, c = os.environ.get("GITHUB_STEP_SUMMARY"), self.config
        if c.report or c.html or (github and self.has_records()):
            from .._report.output import write_reports

            self.written = write_reports(
                self.summary(),
                c,
                github_summary=github,
                calibration=self.calibration(),
                baseline=self.compared(),
            )
        comparison = self.compared()
        if c.fail_on_drop and comparison is not None and comparison.failing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """The "llm confidence summary" section, the calibration report and the files written."""
        self.state.summarising = True
        if self.has_records() or self.written:
            from .._report.terminal import write_terminal

            def extra() -> Any:
                return config.hook.pytest_llmconfidence_summary(records=list(self.records), config=config)

            width = config.get_terminal_writer().fullwidth
            summary = self.summary() if self.config.summary != "off" else None  # off: no records read
            write_terminal(
                terminalreporter, summary, self.config, width, extra, self.calibration(), self.written
            )
        if self.batch_lines:
            terminalreporter.write_sep("=", "llm batch")
            for line in self.batch_lines:
                terminalreporter.write_line(line)
        budget = self.state.budget()
        if budget is not None:
            from .._report.cost import dollars

            spent, refused = budget.spent()
            line = f"llm budget: {dollars(spent)} of {dollars(budget.limit)} spent on live judge calls"
            if refused:
                line += f"; {refused} call{'s' if refused != 1 else ''} not sent (llm_max_cost)"
            terminalreporter.write_line(line, red=bool(refused))
        if self.config.baseline is not None:
            from .._report.baseline import write_baseline_section

            write_baseline_section(terminalreporter, self.config, self.compared())


class _client:
    """The run's OpenAI client for the Batch API, closed after the block."""

    def __init__(self, config: JudgeConfig) -> None:
        from .._judge.transport import build_client

        self.client = build_client(config.base_url)

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def _failure(exc: BaseException) -> str:
    from .._recording.secrets import redact

    return f"{type(exc).__name__}: {redact(str(exc))}"


STATE = pytest.StashKey[RunState]()
CONTROLLER = pytest.StashKey[Controller]()
PLACEHOLDERS = pytest.StashKey[list[str]]()


def run_state(config: pytest.Config) -> RunState:
    return config.stash[STATE]


def placeholders(config: pytest.Config, record_mode: str) -> None:
    """With no key and a run that replays, placeholder keys for the session (clients built at import)."""
    if PLACEHOLDERS not in config.stash:
        config.stash[PLACEHOLDERS] = _settings.set_placeholders() if record_mode != "all" else []


def _usage_error(what: str, exc: Exception) -> pytest.UsageError:
    return pytest.UsageError(f"pytest-llmconfidence: {what}{exc}")


def configure(config: pytest.Config) -> RunState:
    """The run's state from its options (a bad value, calibration, baseline or price file is a usage
    error); on the controller, the controller's hooks registered beside it."""
    state = RunState(resolve_config(config), worker=_worker(config))
    c = state.config
    if c.calibration_file is not None or c.certified or c.cascade:
        from .._calibration.fit import run_calibrator

        try:
            state.calibrate, state.certified = run_calibrator(c)
        except ValueError as exc:
            raise _usage_error("", exc) from None
    if c.baseline is not None and c.baseline.exists():
        from .._errors import ReportFileError
        from .._report.baseline import load_report

        try:
            state.baseline = load_report(c.baseline, what="baseline (llm_baseline)")
        except ReportFileError as exc:
            raise _usage_error("", exc) from None
    if c.prices_file is not None:
        try:
            state.prices()
        except ValueError as exc:
            raise _usage_error("llm_prices_file: ", exc) from None
    if c.secret_env or "pytest_llmconfidence._recording.secrets" in sys.modules:
        from .._recording.secrets import secret_env

        secret_env(c.secret_env)  # this run's names, not an earlier run's in this process
    config.stash[STATE] = state
    if c.max_cost is not None:
        _share_ledger(config, state)
    if not state.worker:
        controller = config.stash[CONTROLLER] = Controller(state)
        config.pluginmanager.register(controller, "llmconfidence-run")
        if c.record_mode == "batch":
            controller.collect_batches()
        if c.watch and c.record_scope != "test":
            config.issue_config_time_warning(pytest.PytestConfigWarning(WATCH_NEEDS_TEST_SCOPE), stacklevel=3)
    placeholders(config, c.record_mode)
    return state


def unconfigure(config: pytest.Config) -> None:
    names = config.stash.get(PLACEHOLDERS, None)
    if names:
        _settings.clear_placeholders(names)


class _LedgerForWorkers:
    """Hands each xdist worker the budget's ledger file (a hook only xdist's controller calls)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["llmconfidence_ledger"] = self.path


def _share_ledger(config: pytest.Config, state: RunState) -> None:
    """With --llm-max-cost: a worker takes the controller's ledger file; the controller under xdist makes one
    in a temporary folder of the run (removed at the end) and hands it to the workers."""
    if state.worker:
        state.ledger = config.workerinput.get("llmconfidence_ledger")  # type: ignore[attr-defined]
    elif config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None):
        import functools
        import tempfile

        folder = tempfile.mkdtemp(prefix="llmconfidence-ledger-")
        state.ledger = os.path.join(folder, "ledger.json")
        config.pluginmanager.register(_LedgerForWorkers(state.ledger), "llmconfidence-ledger")
        config.add_cleanup(functools.partial(_remove_folder, folder))


def _remove_folder(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
