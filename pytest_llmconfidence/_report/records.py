"""What each test judged or scored, on its way to the test's report. Pure: knows nothing of pytest.

A result is any object with ``to_record()`` (a JSON dict) and ``describe()`` (text): verdicts and
response confidences. The test whose call phase runs on this thread (or task) is ``current()`` (from
``current``), so that ``response_confidence()`` can record without knowing the plugin.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any

from .current import current, record, running

__all__ = [
    "COST_PROPERTY",
    "MIN_CONFIDENCE_PROPERTY",
    "TestRecords",
    "current",
    "record",
    "running",
]

MIN_CONFIDENCE_PROPERTY = "llm_min_confidence"
COST_PROPERTY = "llm_cost_usd"
_PRICED_KINDS = ("verdict", "score", "choice", "comparison")
"""The records of judge calls (a comparison's two orders together); a panel's members are verdicts."""


class TestRecords:
    """One test's results, in the order it made them, and how much of them its reports already carry."""

    __test__ = False  # not a test class, whatever pytest's collection thinks of the name
    __slots__ = ("_attached", "cost", "min_confidence", "nodeid", "prices", "results")

    def __init__(self, nodeid: str, prices: Any = None) -> None:
        self.nodeid = nodeid
        self.results: list[Any] = []
        self._attached = 0
        self.min_confidence: float | None = None
        self.prices = prices
        """The run's ``PriceTable``, or a function that makes it on first use (the price table loads only
        when a test has judge calls to price): each judge call's record gets its ``cost_usd`` (None: no
        costs)."""
        self.cost: float | None = None
        """What the test's priced judge calls cost, in dollars (live or replayed)."""

    def add(self, result: Any) -> None:
        self.results.append(result)

    def take_new(self) -> list[dict[str, Any]]:
        """The JSON records of the results made since the last call, with their kind and test id."""
        new = self.results[self._attached :]
        self._attached = len(self.results)
        records = []
        for result in new:
            data = result.to_record()
            data.setdefault("kind", "verdict")
            data["test_id"] = self.nodeid
            if self.prices is not None and data["kind"] in _PRICED_KINDS and data.get("usage") is not None:
                if callable(self.prices):
                    self.prices = self.prices()
                amount = data["cost_usd"] = self.prices.record_cost(data)
                if amount is not None:
                    self.cost = (self.cost or 0.0) + amount
            records.append(data)
        found = [r["confidence"] for r in records if r["kind"] == "verdict" and "confidence" in r]
        if found:
            self.min_confidence = min(
                [
                    *found,
                    *([] if self.min_confidence is None else [self.min_confidence]),
                ]
            )
        return records

    def unasserted(self) -> list[Any]:
        """The failed checks whose truth nothing asked for (a check written without ``assert``)."""
        return [
            check
            for result in self.results
            for check in getattr(result, "checks", ())
            if not check.passed and not check.evaluated
        ]

    def describe(self) -> str:
        """Every result in full, for the "llm verdicts" section of a failed test's report."""
        return "\n\n".join(result.describe() for result in self.results)

    def attach(self, report: Any, user_properties: MutableSequence[tuple[str, object]]) -> None:
        """Put what is new onto a test report (``llm_records``, which travel from xdist workers too).

        The records of an xfailed test say so (``"xfail": true``): the summary and the reports count their
        failed checks as expected failures. The lowest verdict confidence so far becomes the user property
        ``llm_min_confidence`` (a JUnit XML property) of the test and its report, what its judge calls cost
        ``llm_cost_usd``; a failed report gets the "llm verdicts" section.
        """
        new = self.take_new()
        if new and report.skipped and hasattr(report, "wasxfail"):
            for record in new:  # an xfailed test: its failed checks are expected failures
                record["xfail"] = True
        if new:
            report.llm_records = new
            properties = []
            if self.min_confidence is not None:
                properties.append((MIN_CONFIDENCE_PROPERTY, round(self.min_confidence, 6)))
            if self.cost is not None:
                properties.append((COST_PROPERTY, round(self.cost, 9)))
            for name, value in properties:
                for found in (user_properties, report.user_properties):
                    found[:] = [p for p in found if p[0] != name]
                    found.append((name, value))
        if report.failed and self.results:
            from .._recording.secrets import redact

            report.sections.append(("llm verdicts", redact(self.describe())))
