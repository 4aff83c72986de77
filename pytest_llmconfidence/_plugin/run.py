"""The run: its state (``RunState``, in every process), its configuration at start-up, and when the
controller's hooks (``controller.Controller``) are registered.

xdist workers keep what a test needs (its configuration, the budget, the batch book) and send their
records to the controller on the test reports. The controller's hooks are registered on the controller
only: from the start when the run writes reports, queues a batch, keeps a budget, compares with a
baseline or runs xdist workers; otherwise with the first test that reports a record, so a run that never
judges registers and loads none of them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from .. import _settings
from .._settings import JudgeConfig
from .options import resolve_config

__all__ = [
    "STATE",
    "RunState",
    "configure",
    "controller",
    "placeholders",
    "run_state",
    "unconfigure",
]

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


STATE = pytest.StashKey[RunState]()
CONTROLLER = pytest.StashKey[Any]()
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
    if not state.worker and _controller_from_start(config, c):
        controller(config)
    if not state.worker and c.watch and c.record_scope != "test":
        config.issue_config_time_warning(pytest.PytestConfigWarning(WATCH_NEEDS_TEST_SCOPE), stacklevel=3)
    placeholders(config, c.record_mode)
    return state


def _controller_from_start(config: pytest.Config, c: JudgeConfig) -> bool:
    """Whether the controller's hooks are needed whatever the tests report: report files, the batch, the
    budget or the baseline, or xdist's controller (whose workers' reports arrive through its hooks).
    Otherwise they are registered with the first test that reports a record (``controller``)."""
    xdist = getattr(config.option, "numprocesses", None) or getattr(config.option, "dist", "no") != "no"
    return bool(
        xdist
        or c.report
        or c.html
        or c.record_mode == "batch"
        or c.max_cost is not None
        or c.baseline is not None
    )


def controller(config: pytest.Config) -> Any:
    """The run's ``Controller``, registered on first need (never on an xdist worker)."""
    found = config.stash.get(CONTROLLER, None)
    if found is None:
        from .controller import Controller

        found = config.stash[CONTROLLER] = Controller(config.stash[STATE])
        config.pluginmanager.register(found, "llmconfidence-run")
        if found.config.record_mode == "batch":
            found.collect_batches()
    return found


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
