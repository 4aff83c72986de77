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
