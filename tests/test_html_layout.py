"""The HTML report reads at any width: ids wrap at their seams, labels clear the bars, nothing scrolls."""

from __future__ import annotations

import re
from typing import Any

from test_report_lines import verdict_record

from pytest_llmconfidence._baseline import compare, html_section
from pytest_llmconfidence._html import render_html, svg_histogram
from pytest_llmconfidence._report import summary_lines
from pytest_llmconfidence._summary import summarize

LONG_ID = "tests/integration/test_answers.py::TestRefunds::test_refund_policy_is_quoted[annual-plan]"


def _style(html: str) -> str:
    return html.split("<style>", 1)[1].split("</style>", 1)[0]


def test_test_ids_may_break_after_each_double_colon_and_slash_and_nowhere_else() -> None:
    """A long id wraps at ``::`` and ``/``; words and parameters stay whole."""
    html = render_html(summarize([verdict_record(0.4, test_id=LONG_ID)]))
    expected = (
        "tests/<wbr>integration/<wbr>test_answers.py::<wbr>TestRefunds::<wbr>"
        "test_refund_policy_is_quoted[annual-plan]"
    )
    assert f'<td class="test">{expected}</td>' in html
    assert "overflow-wrap: anywhere" not in _style(html)


def test_baseline_changes_wrap_their_test_ids_the_same_way() -> None:
    """The table of changes since the baseline breaks its ids at ``::`` and ``/`` too."""
    old = [verdict_record(0.95, test_id=LONG_ID)]
    new = [verdict_record(0.95, value=False, test_id=LONG_ID)]
    section = html_section(compare(old, new))
    assert "tests/<wbr>integration/<wbr>test_answers.py::<wbr>TestRefunds::<wbr>" in section


def test_the_threshold_label_sits_in_a_legend_above_the_bars() -> None:
    """The label's baseline is above the top of the tallest bar, so it never covers one."""
    svg = svg_histogram(summarize([verdict_record(0.95) for _ in range(5)] + [verdict_record(0.3)]))
    label = re.search(r'<text class="threshold-label" x="[-0-9.]+" y="([-0-9.]+)">threshold 0.90</text>', svg)
    assert label is not None
    bar_tops = [float(y) for y in re.findall(r'<rect class="bin"[^>]*? y="([-0-9.]+)"', svg)]
    assert bar_tops and float(label.group(1)) < min(bar_tops) - 11
    line = re.search(r'<line class="threshold" x1="([-0-9.]+)" y1="([-0-9.]+)"', svg)
    assert line is not None and float(line.group(2)) > float(label.group(1))


def test_the_page_fits_a_700_px_window() -> None:
    """No fixed width beyond 700 px, charts scale to their container, tables re-flow below 760 px."""
    records = [verdict_record(0.2 + i / 20, checks=[(0.9, i % 2 == 0)], test_id=LONG_ID) for i in range(8)]
    html = render_html(summarize(records))
    style = _style(html)
    widths = [int(value) for value in re.findall(r"(?<![-\w])(?:min-)?width:\s*(\d+)px", style)]
    assert all(width <= 700 for width in widths), widths
    assert re.search(r"@media \(max-width: 7\d\dpx\) \{", style)
    assert "svg { max-width: 100%; height: auto; }" in style
    assert re.search(r'<svg [^>]*class="histogram"[^>]*viewBox="0 0 \d+ \d+"', html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<td class="num" data-label="confidence">' in html


def _threshold_line_x(svg: str) -> float:
    match = re.search(r'<line class="threshold" x1="([-0-9.]+)"', svg)
    assert match is not None
    return float(match.group(1))


def _summary(*records: dict[str, Any], threshold: float = 0.9) -> Any:
    return summarize(records, threshold=threshold)


def test_the_histogram_draws_the_threshold_the_checks_used_not_the_run_default() -> None:
    """Every check at 0.30 (an ``llm`` marker's): the line, label and colours are at 0.30, no note."""
    records = [verdict_record(c, checks=[(0.3, True)]) for c in (0.35, 0.65, 0.95)]
    at_030, at_090 = _summary(*records), _summary(*[verdict_record(c, checks=[(0.9, True)]) for c in (0.5,)])
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


def test_unchecked_verdicts_draw_their_tests_threshold_and_an_empty_run_the_default() -> None:
    """No checks: the verdicts' own threshold (their test's); no verdicts: the run's default."""
    record = verdict_record(0.6)
    record["threshold"] = 0.3
    assert "threshold 0.30" in svg_histogram(_summary(record))
    assert "threshold 0.75" in svg_histogram(_summary(threshold=0.75))


def test_the_terminal_histogram_colours_by_the_threshold_the_checks_used() -> None:
    """A 0.65 verdict checked at 0.30 is a green bar in the terminal, not a yellow one below 0.90."""
    lines = summary_lines(_summary(verdict_record(0.65, checks=[(0.3, True)])))
    bars = [(text, markup) for line in lines for text, markup in line if text and set(text) == {"#"}]
    assert bars == [("#" * 40, {"green": True})]
