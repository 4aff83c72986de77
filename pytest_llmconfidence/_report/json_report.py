"""The JSON report: the run's aggregates and flat lists of verdicts, responses, scores and choices. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .summary import Summary, by_test, check_status

__all__ = ["REPORT_VERSION", "dump_parts", "dumps", "to_json"]

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
    return "".join(dump_parts(data))


_ENCODER = json.JSONEncoder(ensure_ascii=False)


def dump_parts(data: Mapping[str, Any]) -> Iterator[str]:
    """The text of ``dumps`` in pieces (one per record), to be written one after the other: a large
    report is never held whole as text."""
    yield "{\n"
    separator = ""
    for key, value in data.items():
        yield f"{separator}  {json.dumps(key, ensure_ascii=False)}: "
        separator = ",\n"
        if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            lead = "[\n    "
            for item in value:
                yield lead + _ENCODER.encode(item)
                lead = ",\n    "
            yield "\n  ]"
        else:
            yield json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    yield "\n}\n"
