"""One test as the plugin sees it: its configuration, its records, what each phase fails with, and what
its reports carry (records, a strict watch's outcome, the queued batch requests).

Loaded with the plugin: every test's phases pass through here, so what only a judged or recorded test
needs (cassettes, watchers, the judge) loads from ``recording`` and ``fixtures`` on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from .._report.current import running as _running
from .run import STATE, controller, run_state

if TYPE_CHECKING:
    from .._report.records import TestRecords

__all__ = [
    "BATCH",
    "RECORDING",
    "WATCHER",
    "headlined",
    "make_report",
    "record",
    "records_of",
    "running",
    "test_status",
]

ITEM_RECORDS = pytest.StashKey[Any]()
"""The test's ``TestRecords``, made when it first records a result."""
WATCHER = pytest.StashKey[Any]()
RECORDING = pytest.StashKey[Any]()
"""The test's recording: its ``ActiveCassette``, or what refuses its LLM calls when it has none."""
BATCH = pytest.StashKey[Any]()
"""The test's ``TestBatch`` in record mode batch: the requests it queued travel on its report."""
TEST_ERROR = pytest.StashKey[BaseException]()
"""What the test's call raised, if anything: its cassette is not written when the test errored."""


def records_of(item: pytest.Item) -> TestRecords:
    """The test's records (verdicts, responses), made on first use."""
    found = item.stash.get(ITEM_RECORDS, None)
    if found is None:
        from .._report.records import TestRecords

        found = item.stash[ITEM_RECORDS] = TestRecords(item.nodeid, run_state(item.config).prices)
    return found


def record(item: pytest.Item, result: Any) -> None:
    """Keep a verdict (or any object with ``to_record()`` and ``describe()``) for the test's report."""
    records_of(item).add(result)


def headlined(item: pytest.Item, *, keep: bool = True) -> Generator[None, None, None]:
    """Around a phase of the test: a replay miss (inside the app's client too) is what the phase fails
    with (``CassetteMissError``); with ``keep``, what it failed with is kept for its cassette."""
    try:
        return (yield)
    except BaseException as exc:
        from .._errors import as_miss

        error = as_miss(exc)
        if keep:
            item.stash[TEST_ERROR] = error
        if type(exc).__name__ == "BatchQueuedError":  # record mode batch: a later run answers it
            raise pytest.skip.Exception(str(exc), _use_item_location=True) from None
        if error is exc:
            raise
        raise error from None


def running(item: pytest.Item) -> Generator[None, None, None]:
    """The test's call: ``response_confidence()`` records into the test's records meanwhile; a failed
    check nothing asserted is a warning after it."""
    with _running(functools.partial(records_of, item)):
        yield from headlined(item)
    records = item.stash.get(ITEM_RECORDS, None)
    if records is not None and records.results:
        from .adapters import warn_unasserted

        warn_unasserted(item, records.unasserted())


def make_report(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """What the test's report carries: its new records, the outcome of a strict watch, its queued batch
    requests; secrets redacted from its text. After tear-down the test's results are let go."""
    watcher = item.stash.get(WATCHER, None)
    if watcher is not None and watcher.strict and call.when == "call":
        from .adapters import apply_strict

        xfail = item.get_closest_marker("xfail")
        apply_strict(report, watcher, xfail.kwargs.get("raises") if xfail else None)
    records = item.stash.get(ITEM_RECORDS, None)
    if records is not None:
        records.attach(report, item.user_properties)
        if hasattr(report, "llm_records") and not run_state(item.config).worker:
            controller(item.config)  # the first record of a run that registered no controller yet
    batch = item.stash.get(BATCH, None)
    if batch is not None and batch.queued and call.when == "call":
        report.llm_batch_queued = batch.queued  # type: ignore[attr-defined]
    if report.longrepr is not None or report.sections:
        from .._recording.secrets import redact_report

        redact_report(report)
    if call.when == "teardown":  # the test is over: its results (pydantic objects) are not kept
        for key in (ITEM_RECORDS, WATCHER, TEST_ERROR):
            if key in item.stash:
                del item.stash[key]


def test_status(report: pytest.TestReport, config: pytest.Config) -> Any:
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
    from .._text import value_text

    lowest = min(verdicts, key=lambda r: float(r["confidence"]))
    word = f"{report.outcome.upper()} [{value_text(lowest.get('value'))} {float(lowest['confidence']):.2f}]"
    letter = "." if report.passed else "F"
    return (
        report.outcome,
        letter,
        (word, {"green": True} if report.passed else {"red": True}),
    )
