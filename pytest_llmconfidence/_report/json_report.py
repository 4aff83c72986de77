"""The JSON report: the run's aggregates and flat lists of verdicts, responses, scores and choices. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .summary import Summary, by_test, check_status

__all__ = ["REPORT_VERSION", "dumps", "to_json"]

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


def dumps(data: Mapping[str, Any]) -> str:
    """A report as text: indented, with each record of a list (a verdict, a response…) on a line of its own.

    One record per line keeps the file readable and its diffs short, and lets the C encoder write each
    record: a report of 100,000 verdicts is written in a second, not a minute as with ``indent=2``.
    """
    parts = []
    for key, value in data.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            items = ",\n    ".join(json.dumps(item, ensure_ascii=False) for item in value)
            parts.append(f"  {name}: [\n    {items}\n  ]")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts.append(f"  {name}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
