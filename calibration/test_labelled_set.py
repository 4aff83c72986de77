"""The labelled set: the judge answers statements whose truth is known, for the calibration report.

Run it with ``--llm-report`` and ``--llm-calibration`` (or ``pytest-llmconfidence calibrate``): the tests
only judge; the report compares the confidence of each verdict with the truth.
"""

from __future__ import annotations

import pytest
from statements import Statement, statements

STATEMENTS = statements()

# Recorded against SmolLM2-135M-Instruct served by llama.cpp (tools/record_calibration.py).
pytestmark = pytest.mark.llm(model="smollm2-135m-instruct")


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.id for s in STATEMENTS])
def test_statement(judge, statement: Statement) -> None:  # type: ignore[no-untyped-def]
    judge(f"Is this statement true? {statement.text}", expected=statement.truth)
