"""Labelled records of scripted judges whose truth is known, for the calibration tests."""

from __future__ import annotations

import math
import random
from typing import Any


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def scripted(kind: str, n: int, seed: int = 0, model: str = "m") -> list[dict[str, Any]]:
    """Verdict records of a judge whose truth is known.

    Each item is true with probability ``p`` (uniform). The judge's probability of true ``q`` is ``p``
    itself (calibrated), ``p`` sharpened (over-confident) or softened (under-confident), unrelated to the
    truth (chance), or ``1 - p`` (backwards).
    """
    rnd = random.Random(seed)
    records = []
    for i in range(n):
        p = rnd.random()
        expected = rnd.random() < p
        q = {
            "calibrated": p,
            "over": _sigmoid(3 * _logit(p)),
            "under": _sigmoid(0.3 * _logit(p)),
            "chance": p,
            "backwards": 1 - p,
        }[kind]
        if kind == "chance":
            expected = rnd.random() < 0.5
        records.append(
            {
                "kind": "verdict",
                "test_id": f"test_x.py::test_item[{i}]",
                "question": f"q{i}",
                "model": model,
                "expected": expected,
                "value": None if q == 0.5 else q > 0.5,
                "confidence": max(q, 1 - q),
                "p_true": q,
                "p_false": 1 - q,
                "coverage": 1.0,
            }
        )
    return records


def score_record(
    i: int, expected: str | None, distribution: dict[str, float], model: str = "m"
) -> dict[str, Any]:
    """A labelled score record in the shape judge.score(...) records."""
    value = max(distribution, key=lambda label: distribution[label])
    return {
        "kind": "score",
        "model": model,
        "scale": ["1", "2", "3", "4", "5"],
        "distribution": distribution,
        "coverage": sum(distribution.values()),
        "expected": None if expected is None else 3.0,
        "expected_label": expected,
        "value": value,
        "confidence": distribution[value],
        "test_id": f"test_s.py::test_score[{i}]",
        "question": "How helpful is the reply?",
    }
