"""The numbers every summary counts with: the histogram's bins and a tolerant reading of a number. Pure."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["BINS", "EPSILON", "bin_of", "number"]

BINS = 10
EPSILON = 1e-9


def number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return default
    return float(value)


def bin_of(confidence: float) -> int:
    """The histogram bin (0..9) of a confidence; bins are [0, 0.1), …, [0.9, 1.0]."""
    return min(BINS - 1, max(0, math.floor(confidence * BINS + EPSILON)))
