"""The numbers every summary counts with: the histogram's bins, a tolerant reading of a number, and
failed checks (expected failures, in tests marked xfail, apart). Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["BINS", "EPSILON", "bin_of", "failed_checks", "failed_text", "number"]

BINS = 10
EPSILON = 1e-9


def number(value: Any, default: float = 0.0) -> float:
    if type(value) is float:  # the common case, first: a report holds hundreds of thousands
        return default if value != value else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return default
    return float(value)


def bin_of(confidence: float) -> int:
    """The histogram bin (0..9) of a confidence; bins are [0, 0.1), …, [0.9, 1.0]."""
    return min(BINS - 1, max(0, math.floor(confidence * BINS + EPSILON)))


def failed_checks(records: Iterable[Mapping[str, Any]]) -> tuple[int, int, int]:
    """How many checks the records hold, how many failed unexpectedly, and how many failed in tests marked
    xfail (expected failures, which fail no run)."""
    checks = failed = expected = 0
    for record in records:
        for check in record.get("checks") or ():
            if not isinstance(check, Mapping):
                continue
            checks += 1
            if not check.get("passed"):
                if record.get("xfail"):
                    expected += 1
                else:
                    failed += 1
    return checks, failed, expected


def failed_text(checks: int, failed: int, expected: int) -> str:
    """``2 of 11 checks failed``, and ``, 5 more as expected (xfail)`` when tests marked xfail failed some."""
    text = f"{failed} of {checks} check{'' if checks == 1 else 's'} failed"
    return text + (f", {expected} more as expected (xfail)" if expected else "")
