"""A plugin for in-process runs: each test report's ``llm_records`` as the run's hooks saw them.

The plugin takes the records off a report once it has kept them (pytest keeps every report to the end of
the run), so a test reads them here, not from the reports afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest


class RecordsSeen:
    def __init__(self) -> None:
        self.by_report: list[tuple[Any, list[dict[str, Any]]]] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.by_report.append((report, list(getattr(report, "llm_records", None) or [])))

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for _, records in self.by_report for record in records]
