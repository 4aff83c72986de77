"""Edges a real suite meets: the short test summary in -v, native TOML options, hand-edited reports."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, verdict


def test_verbose_short_summary_lines_keep_pytests_outcome_then_node_id(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """-v -rA: the progress line shows the confidence; the short summary stays `FAILED <nodeid> - msg`."""
    fake_openai.rule("kind", verdict(0.20, 0.80))
    fake_openai.rule("polite", verdict(0.97, 0.03))
    judged.makepyfile(
        test_v="def test_kind(judge):\n    assert judge('Is it kind?', 'x').confident_true(0.9)\n\n"
        "def test_polite(judge):\n    assert judge('Is it polite?', 'x').confident_true(0.9)\n"
    )
    result = judged.runpytest("-p", "no:xdist", "-v", "-rA")
    result.stdout.fnmatch_lines(
        [
            "test_v.py::test_kind FAILED [[]false 0.80[]]*",
            "test_v.py::test_polite PASSED [[]true 0.97[]]*",
            "*short test summary info*",
            "PASSED test_v.py::test_polite",
            "FAILED test_v.py::test_kind - AssertionError: *",
        ]
    )
    summary = result.stdout.str().split("short test summary info")[1]
    assert "[false 0.80]" not in summary and "[true 0.97]" not in summary


@pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="typed options of [tool.pytest] need pytest 9.2")
def test_native_toml_options_take_numbers_and_booleans(pytester: pytest.Pytester) -> None:
    """pytest 9's [tool.pytest] table: `llm_threshold = 0.8` and `llm_watch = true`, as TOML users write them."""
    pytester.makepyprojecttoml(
        """
        [tool.pytest]
        llm_threshold = 0.8
        llm_top_logprobs = 5
        llm_borderline = 0
        llm_watch = true
        llm_calibration = false
        llm_baseline_margin = 1
        llm_progress_delay = 3
        llm_true_labels = ["true", "correct"]
        """
    )
    pytester.makepyfile(
        test_c="def test_c(judge_config):\n"
        "    c = judge_config\n"
        "    assert (c.threshold, c.top_logprobs, c.borderline, c.watch, c.calibration) == (0.8, 5, 0, True, False)\n"
        "    assert (c.baseline_margin, c.progress_delay, c.true_labels) == (1, 3, ('true', 'correct'))\n"
    )
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=1)
    bad = pytester.runpytest("-p", "no:xdist", "-o", "llm_threshold=2")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*llm_threshold: '2' is not valid*"])


def test_ini_file_options_still_read_as_text(pytester: pytest.Pytester) -> None:
    """An ini file's values are text, as before: numbers, switches and label lists parse the same."""
    pytester.makeini("[pytest]\nllm_threshold = 0.75\nllm_top_logprobs = 3\nllm_watch = yes\nllm_false_labels = no nope\n")
    pytester.makepyfile(
        test_c="def test_c(judge_config):\n"
        "    c = judge_config\n"
        "    assert (c.threshold, c.top_logprobs, c.watch, c.false_labels) == (0.75, 3, True, ('no', 'nope'))\n"
    )
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
