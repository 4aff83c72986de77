"""The JSON report: the run's aggregates and flat lists of verdicts, responses, scores and choices. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .summary import Summary, by_test, check_status

__all__ = ["REPORT_VERSION", "to_json"]

REPORT_VERSION = 1


def to_json(summary: Summary, calibration: Sequence[Any] | None = None) -> dict[str, Any]:
    """The JSON report: the aggregates and a flat ``verdicts`` list (each with its checks and flags).

    With a calibration report (``--llm-calibration``), a ``calibration`` list holds its metrics per model.
    """
    verdicts = [
        {**record, "status": check_status(record, summary.band)} for record in by_test(summary.verdicts)
    ]
    responses = [
        {**record, "status": check_status(record, summary.band)} for record in by_test(summary.responses)
    ]
    data = {
        "version": REPORT_VERSION,
        "summary": summary.aggregates(),
        "verdicts": verdicts,
        "responses": responses,
        "scores": [record for record in by_test(summary.graded) if record.get("kind") == "score"],
        "choices": [record for record in by_test(summary.graded) if record.get("kind") == "choice"],
        "comparisons": [{**r, "status": check_status(r, summary.band)} for r in by_test(summary.comparisons)],
        "panels": [{**r, "status": check_status(r, summary.band)} for r in by_test(summary.panels)],
    }
    if calibration is not None:
        data["calibration"] = [report.to_dict() for report in calibration]
    if summary.app is not None:
        data["summary"]["app_responses"] = summary.app.to_dict()  # type: ignore[index]
        data["app_responses"] = by_test(summary.app_responses)
    return data
