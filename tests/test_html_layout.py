"""The HTML report reads at any width: ids wrap at their seams, labels clear the bars, nothing scrolls."""

from __future__ import annotations

import re

from test_report_lines import verdict_record

from pytest_llmconfidence._report.html import render_html, svg_histogram
from pytest_llmconfidence._report.summary import summarize

LONG_ID = "tests/integration/test_answers.py::TestRefunds::test_refund_policy_is_quoted[annual-plan]"


def _style(html: str) -> str:
    return html.split("<style>", 1)[1].split("</style>", 1)[0]


def test_test_ids_may_break_between_their_parts_and_words_never_inside_a_word() -> None:
    """A long id wraps after ``::``, ``/`` and ``_`` and before ``[``; words and parameters stay whole."""
    html = render_html(summarize([verdict_record(0.4, test_id=LONG_ID)]))
    expected = (
        "tests/<wbr>integration/<wbr>test_<wbr>answers.py::<wbr>TestRefunds::<wbr>"
        "test_<wbr>refund_<wbr>policy_<wbr>is_<wbr>quoted<wbr>[annual-plan]"
    )
    assert f'<td class="test">{expected}</td>' in html
    assert "overflow-wrap: anywhere" not in _style(html)


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
    """No fixed width beyond 700 px, charts scale to their container, tables re-flow below 900 px."""
    records = [verdict_record(0.2 + i / 20, checks=[(0.9, i % 2 == 0)], test_id=LONG_ID) for i in range(8)]
    html = render_html(summarize(records))
    style = _style(html)
    widths = [int(value) for value in re.findall(r"(?<![-\w])(?:min-)?width:\s*(\d+)px", style)]
    assert all(width <= 700 for width in widths), widths
    breakpoint = re.search(r"@media \(max-width: (\d+)px\) \{", style)
    assert breakpoint is not None and int(breakpoint.group(1)) >= 700
    assert "svg { max-width: 100%; height: auto; }" in style
    assert re.search(r'<svg [^>]*class="histogram"[^>]*viewBox="0 0 \d+ \d+"', html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<td class="num" data-label="confidence">' in html
