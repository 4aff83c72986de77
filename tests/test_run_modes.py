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


LOADED = """
import sys

def pytest_unconfigure(config):
    ours = sorted(m for m in sys.modules if m.startswith("pytest_llmconfidence"))
    print("LOADED", " ".join(ours))
"""


def _loaded(result: pytest.RunResult) -> set[str]:
    line = next(line for line in result.stdout.lines if line.startswith("LOADED"))
    return set(line.split()[1:])


def test_a_run_that_sets_no_option_and_judges_nothing_loads_no_validator(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest loads the plugin in every run of every project: one that sets no option and judges nothing
    loads neither the validators nor JudgeConfig; setting any option (flag, ini key or environment
    variable) resolves and checks them all as the run starts."""
    monkeypatch.delenv("LLM_JUDGE_MODEL", raising=False)
    monkeypatch.delenv("LLM_RECORD_MODE", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makeconftest(LOADED)
    pytester.makepyfile("def test_plain():\n    assert True\n")
    quiet = _loaded(pytester.runpytest_subprocess("-p", "no:xdist", "-s"))
    assert "pytest_llmconfidence.plugin" in quiet
    assert not quiet & {"pytest_llmconfidence._settings", "pytest_llmconfidence._plugin.configuration"}
    for given in (["--llm-threshold=0.5"], ["-o", "llm_summary=full"]):
        loaded = _loaded(pytester.runpytest_subprocess("-p", "no:xdist", "-s", *given))
        assert "pytest_llmconfidence._settings" in loaded, given
    monkeypatch.setenv("LLM_JUDGE_MODEL", "gpt-4.1")
    assert "pytest_llmconfidence._settings" in _loaded(pytester.runpytest_subprocess("-p", "no:xdist", "-s"))
    monkeypatch.delenv("LLM_JUDGE_MODEL")
    bad = pytester.runpytest_subprocess("-p", "no:xdist", "-o", "llm_threshold=2")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*llm_threshold: '2' is not valid*(from the ini)*"])


def test_a_run_that_sets_no_option_keeps_the_configuration_it_started_with(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolved on first use, the configuration of a run that set no option is still the one it started
    with: a test that sets CI or LLM_JUDGE_MODEL before the judge's configuration is first needed changes
    nothing (the record mode's default is read as the run starts)."""
    for name in ("CI", "LLM_JUDGE_MODEL", "LLM_RECORD_MODE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(
        """
        def test_first(monkeypatch):
            monkeypatch.setenv("CI", "true")
            monkeypatch.setenv("LLM_JUDGE_MODEL", "gpt-4.1")

        def test_second(monkeypatch, judge_config):
            monkeypatch.setenv("CI", "true")
            print("CONFIG", judge_config.record_mode, judge_config.model)
        """
    )
    result = pytester.runpytest("-p", "no:xdist", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*CONFIG once gpt-4.1-mini*"])
