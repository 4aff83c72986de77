"""The controller's hooks (summary, report files) run in every mode: with and without xdist, in a run that
judges nothing, and with --collect-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent

RESPONSE_ONLY = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from fake_openai import completion
from pytest_llmconfidence import response_confidence

def test_scored():
    assert response_confidence(completion([("Paris", 0.9)])).at_least(0.5)

def test_plain():
    assert 1 + 1 == 2
"""


@pytest.mark.parametrize("xdist", [["-p", "no:xdist"], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_a_run_whose_only_record_is_a_response_prints_the_summary(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    """A response scored in a test that never asks the judge reaches the summary, with or without xdist."""
    pytester.makepyfile(RESPONSE_ONLY)
    result = pytester.runpytest_subprocess(*xdist)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*llm confidence summary*"])


def test_a_run_that_judges_nothing_writes_its_report_and_prints_no_summary(pytester: pytest.Pytester) -> None:
    """--llm-report is written (with no verdicts) by a run without a judged test; the terminal has no
    llm section."""
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-p", "no:xdist", "--llm-report=report.json")
    result.assert_outcomes(passed=1)
    assert "llm confidence summary" not in result.stdout.str()
    data = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["verdicts"] == 0 and data["verdicts"] == []


def test_collect_only_writes_the_report_of_no_tests_and_fails_nothing(pytester: pytest.Pytester) -> None:
    """--collect-only with --llm-report exits 0 and writes an empty report; no test's hook runs."""
    pytester.makepyfile(RESPONSE_ONLY)
    result = pytester.runpytest("-p", "no:xdist", "--collect-only", "--llm-report=report.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*2 tests collected*"])
    assert "llm confidence summary" not in result.stdout.str()
    data = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["verdicts"] == 0
