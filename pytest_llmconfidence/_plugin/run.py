"""The run: its state (``RunState``, in every process), its start and end, and when the controller's
hooks (``controller.Controller``) are registered.

Loaded with the plugin in every run. A run that sets no option resolves its configuration on first use;
one that does resolves it at the start (``configuration``). xdist workers keep what a test needs (its
configuration, the budget, the batch book) and send their records to the controller on the test
reports. The controller's hooks are registered on the controller only: from the start when the run writes
reports, queues a batch, keeps a budget, compares with a baseline or runs xdist workers; otherwise with
the first test that reports a record, so a run that never judges registers and loads none of them.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .._startup import clear_placeholders, set_placeholders
from .options import RawOptions, raw_options

if TYPE_CHECKING:
    from .._settings import JudgeConfig

__all__ = [
    "STATE",
    "RunState",
    "configure",
    "controller",
    "placeholders",
    "run_state",
    "unconfigure",
]

RECORDED_BY = ("judge", "llm_responses", "_llm_cassette")
"""A test that uses one of these fixtures (or the ``llm`` marker) has a cassette."""


class RunState:
    """What every process of the run knows: its configuration and what the tests share."""

    def __init__(
        self,
        config: JudgeConfig | None,
        *,
        worker: bool = False,
        resolve: Callable[[], JudgeConfig] | None = None,
        record_mode: str = "",
    ) -> None:
        """``config`` resolved; or None, and ``resolve`` makes it on first use (a run that set no option,
        so every value is a default but the record mode, read as the run started)."""
        self._config = config
        self._resolve = resolve
        self.record_mode = config.record_mode if config is not None else record_mode
        self.record_all = config is not None and config.record_tests == "all"
        """llm_record_tests = all: every test has a cassette."""
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

    @property
    def config(self) -> JudgeConfig:
        """The run's configuration (``judge_config`` before the test's markers)."""
        if self._config is None and self._resolve is not None:
            self._config = self._resolve()
        if self._config is None:
            raise TypeError("RunState needs a JudgeConfig, or resolve= to make one")
        return self._config

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
        if self.record_all:
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
        return self.record_all or self.record_mode == "none" or self.recorded(item)


STATE = pytest.StashKey[RunState]()
CONTROLLER = pytest.StashKey[Any]()
PLACEHOLDERS = pytest.StashKey[list[str]]()


def run_state(config: pytest.Config) -> RunState:
    return config.stash[STATE]


def placeholders(config: pytest.Config, record_mode: str) -> None:
    """With no key and a run that replays, placeholder keys for the session (clients built at import)."""
    if PLACEHOLDERS not in config.stash:
        config.stash[PLACEHOLDERS] = set_placeholders() if record_mode != "all" else []


def configure(config: pytest.Config) -> RunState:
    """The run's state from its options (a bad value, calibration, baseline or price file is a usage
    error); on the controller, the controller's hooks registered beside it when needed from the start.

    A run that sets no option resolves its configuration (all defaults) on first use, so it loads no
    validator and no ``JudgeConfig`` unless a test needs them."""
    raw = raw_options(config)
    worker = hasattr(config, "workerinput")
    from_start = False
    if any(source != "default" for _, _, source in raw):
        from .configuration import resolve_config, start

        state = RunState(resolve_config(config, raw), worker=worker)
        from_start = start(config, state)
    else:
        record_mode = next(value for field, value, _ in raw if field == "record_mode")
        resolve = functools.partial(_resolve, config, raw)
        state = RunState(None, worker=worker, resolve=resolve, record_mode=record_mode)
        if "pytest_llmconfidence._recording.secrets" in sys.modules:
            from .._recording.secrets import secret_env

            secret_env(())  # no names of this run's, nor an earlier run's in this process
    config.stash[STATE] = state
    if not worker and (from_start or _xdist(config)):
        controller(config)
    placeholders(config, state.record_mode)
    return state


def _resolve(config: pytest.Config, raw: RawOptions) -> JudgeConfig:
    from .configuration import resolve_config

    return resolve_config(config, raw)


def _xdist(config: pytest.Config) -> bool:
    """Whether this is xdist's controller, whose workers' reports arrive through the controller's hooks."""
    return bool(getattr(config.option, "numprocesses", None) or getattr(config.option, "dist", "no") != "no")


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
        clear_placeholders(names)
