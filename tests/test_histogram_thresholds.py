"""The histogram draws the threshold the run's checks used, not the run's default."""

from __future__ import annotations

import re
from typing import Any

from test_report_lines import verdict_record

from pytest_llmconfidence._report.baseline import compare, html_section
from pytest_llmconfidence._report.html import render_html, svg_histogram
from pytest_llmconfidence._report.summary import summarize
from pytest_llmconfidence._report.terminal import summary_lines


def _threshold_line_x(svg: str) -> float:
    match = re.search(r'<line class="threshold" x1="([-0-9.]+)"', svg)
    assert match is not None
    return float(match.group(1))


def _summary(*records: dict[str, Any], threshold: float = 0.9) -> Any:
    return summarize(records, threshold=threshold)


def test_the_histogram_draws_the_threshold_the_checks_used_not_the_run_default() -> None:
    """Every check at 0.30 (an ``llm`` marker's): the line, label and colours are at 0.30, no note."""
    at_030 = _summary(*[verdict_record(c, checks=[(0.3, True)]) for c in (0.35, 0.65, 0.95)])
    at_090 = _summary(verdict_record(0.5, checks=[(0.9, True)]))
    svg = svg_histogram(at_030)
    assert "threshold 0.30" in svg and "threshold 0.90" not in svg
    assert _threshold_line_x(svg) < _threshold_line_x(svg_histogram(at_090))
    assert re.search(r'data-low="0.6" data-count="1" [^>]*fill="#3c9d5d"', svg)  # green: above 0.30
    assert "more than one threshold" not in render_html(at_030)


def test_mixed_thresholds_draw_the_most_used_and_name_the_others() -> None:
    """Two checks at 0.50 and one at 0.80: the line is 0.50 and a note lists 0.80."""
    records = [verdict_record(0.6, checks=[(t, True)], question=str(t)) for t in (0.8, 0.5, 0.5)]
    summary = _summary(*records)
    assert "threshold 0.50" in svg_histogram(summary)
    assert (
        '<p class="note">The checks used more than one threshold: the line and the colours show 0.50, '
        "the most used; the others were 0.80.</p>"
    ) in render_html(summary)


def test_a_run_without_checks_draws_the_run_default() -> None:
    """No check made (verdicts only looked at, or none at all): the run's default threshold."""
    assert "threshold 0.75" in svg_histogram(_summary(verdict_record(0.6), threshold=0.75))
    assert "threshold 0.75" in svg_histogram(_summary(threshold=0.75))


def test_the_terminal_histogram_colours_by_the_threshold_the_checks_used() -> None:
    """A 0.65 verdict checked at 0.30 is a green bar in the terminal, not a yellow one below 0.90."""
    lines = summary_lines(_summary(verdict_record(0.65, checks=[(0.3, True)])))
    bars = [(text, markup) for line in lines for text, markup in line if text and set(text) == {"#"}]
    assert bars == [("#" * 40, {"green": True})]


def test_baseline_changes_wrap_their_test_ids_like_the_verdict_table() -> None:
    """The table of changes since the baseline breaks its ids at ``::`` and ``/`` too."""
    test_id = "tests/integration/test_answers.py::TestRefunds::test_quoted"
    old = [verdict_record(0.95, test_id=test_id)]
    new = [verdict_record(0.95, value=False, test_id=test_id)]
    assert "tests/<wbr>integration/<wbr>test_<wbr>answers.py::<wbr>" in html_section(compare(old, new))
    assert "::<wbr>TestRefunds::<wbr>" in html_section(compare(old, new))


def test_the_legend_names_only_the_colours_the_threshold_can_give() -> None:
    """Yellow (below the threshold) exists only for a threshold above 0.5."""
    high = svg_histogram(_summary(verdict_record(0.7, checks=[(0.9, False)])))
    assert "below the threshold" in high and "at or above it" in high
    low = svg_histogram(_summary(verdict_record(0.7, checks=[(0.3, True)])))
    assert "at or below 0.5" in low and "above 0.5" in low and "below the threshold" not in low
